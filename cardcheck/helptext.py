"""The ``--help`` text of every command and group, made from :mod:`cardcheck.clispec`.

The one renderer of help: the typer-free start-up path prints it, and the typer commands
(:mod:`cardcheck.cli`) show the same text and usage line. The layout is click's plain one
(a usage line, the help's paragraphs indented by two, then ``Arguments:``, ``Options:`` and
``Commands:`` as two columns), at most 80 columns wide. Pure and import-light: no typer, no
:mod:`textwrap` (words are wrapped at spaces only, never at hyphens).
"""

from __future__ import annotations

import os

from cardcheck.clispec import HELP, Argument, Command, Group, Option, value_range

PROG = "cardcheck"
MAX_WIDTH = 80
"""The widest help, whatever the terminal."""
FIRST_COLUMN_MAX = 30
"""The widest first column (flags and metavar); longer entries get a line of their own."""


def text_width() -> int:
    """The width help is wrapped to: the terminal's (``COLUMNS`` first), at most 80, less 2."""
    columns = 0
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(1).columns
        except OSError:
            columns = 0
    if columns <= 0:
        columns = MAX_WIDTH
    return max(min(columns, MAX_WIDTH) - 2, 50)


def usage(spec: Command | Group) -> str:
    """``Usage: cardcheck db search [OPTIONS] TEXT``."""
    words = [PROG, *spec.path, "[OPTIONS]"]
    if isinstance(spec, Group):
        words += ["COMMAND", "[ARGS]..."]
    else:
        words += [a.metavar if a.required else f"[{a.metavar}]" for a in spec.arguments]
    return "Usage: " + " ".join(words)


def render_help(spec: Command | Group, width: int | None = None) -> str:
    """The whole help of ``spec``, ending with a newline."""
    if width is None:
        width = text_width()
    out = [usage(spec), ""]
    for paragraph in spec.help.split("\n\n"):
        out += wrap(paragraph, width, "  ")
        out.append("")
    if isinstance(spec, Command) and spec.arguments:
        out.append("Arguments:")
        out += columns([(a.metavar, _argument_help(a)) for a in spec.arguments], width)
        out.append("")
    out.append("Options:")
    out += columns([(_option_names(o), _option_help(o)) for o in (*spec.options, HELP)], width)
    if isinstance(spec, Group):
        out.append("")
        out.append("Commands:")
        names = [command.path[-1] for command in spec.commands]
        limit = width - 6 - max(map(len, names))
        rows = [(n, short_help(c.help, limit)) for n, c in zip(names, spec.commands, strict=True)]
        out += columns(rows, width)
    return "\n".join(out) + "\n"


def _argument_help(argument: Argument) -> str:
    return f"{argument.help}  [required]" if argument.required else argument.help


def _option_names(option: Option) -> str:
    flags = sorted(option.flags, key=lambda flag: len(flag) - len(flag.lstrip("-")))
    names = ", ".join(flags)
    return f"{names} {option.metavar}" if option.metavar else names


def _option_help(option: Option) -> str:
    extra = []
    if option.default is not None and option.default is not False:
        extra.append(f"default: {option.default}")
    limits = value_range(option) if option.kind in ("int", "float") else None
    if limits:
        extra.append(limits)
    return f"{option.help}  [{'; '.join(extra)}]" if extra else option.help


def wrap(text: str, width: int, indent: str = "") -> list[str]:
    """``text``'s words in lines of at most ``width`` characters, each starting with ``indent``
    (a word longer than a line gets a line of its own). Two spaces in ``text`` (before the
    ``[default: ...]`` of an option) stay two spaces within a line."""
    lines: list[str] = []
    line = ""
    for chunk_index, chunk in enumerate(text.split("  ")):
        for word_index, word in enumerate(chunk.split()):
            space = "  " if chunk_index and not word_index else " "
            if line and len(indent) + len(line) + len(space) + len(word) > width:
                lines.append(indent + line)
                line = word
            else:
                line = f"{line}{space}{word}" if line else word
    if line:
        lines.append(indent + line)
    return lines


def columns(rows: list[tuple[str, str]], width: int) -> list[str]:
    """Two columns, indented by two: the first as wide as its widest entry (at most 30), the
    second wrapped beside it."""
    first = min(max(len(name) for name, _ in rows), FIRST_COLUMN_MAX) + 2
    second = max(width - first - 2, 10)
    out = []
    for name, text in rows:
        lines = wrap(text, second)
        if len(name) <= first - 2:
            head = "  " + name.ljust(first) if lines else "  " + name
        else:
            out.append("  " + name)
            head = " " * (first + 2)
        out.append(head + (lines[0] if lines else ""))
        out += [" " * (first + 2) + line for line in lines[1:]]
    return out


def short_help(help: str, limit: int) -> str:
    """A command's line in its group's list: its first sentence, or as many words of it as fit
    in ``limit`` characters followed by ``...``."""
    words = help.split("\n\n", 1)[0].split()
    length = 0
    for count, word in enumerate(words, 1):
        length += len(word) + (count > 1)
        if length > limit:
            break
        if word.endswith("."):
            return " ".join(words[:count])
        if length == limit and count < len(words):
            break
    else:
        return " ".join(words)
    kept = words[: count - 1]
    while kept and len(" ".join(kept)) + 3 > limit:
        kept.pop()
    return " ".join(kept) + "..."
