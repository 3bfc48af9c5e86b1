"""Consoles for stdout (data) and stderr (progress, warnings, hints).

rich already drops colour when the stream is not a terminal or NO_COLOR is set; this
module is the one place that decision is made, so every renderer behaves the same.

Views that draw a table, a tree or a progress bar use rich (:func:`make_console`). Views made
of lines of text with a few styles (``db info``, ``db search``, ``readers``) use
:class:`LineConsole`: the same ``print(markup)`` with the same markup, escaping, wrapping and
output as rich's, without importing rich (about 40 ms of start-up). A line it cannot render
the same way (not ASCII, a tab, markup it does not know) is printed by rich.
``tests/test_console.py`` compares the two.
"""

from __future__ import annotations

import os
import re
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up

if TYPE_CHECKING:
    from typing import TextIO

    from rich.console import Console


def make_console(*, stderr: bool = False, width: int | None = None) -> Console:
    """A console on stdout (or stderr): colour only on a terminal and without NO_COLOR; no
    emoji codes (``:lock:`` in a card's description stays text)."""
    from rich.console import Console

    no_color = bool(os.environ.get("NO_COLOR"))
    return Console(
        stderr=stderr,
        no_color=no_color,
        highlight=False,
        soft_wrap=False,
        emoji=False,
        width=width,
    )


_TAG = re.compile(r"((\\*)\[([a-z#/@][^[]*?)])")
"""A markup tag, as rich reads them: ``[bold]``, ``[/]``, ``\\[escaped]``."""

_ESCAPE = re.compile(r"(\\*)(\[[a-z#/@][^[]*?])")

_WORD = re.compile(r"\s*\S+\s*")

STYLES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
}
"""The styles :class:`LineConsole` knows, with their SGR codes (colours from 31 on)."""


def escape(text: str) -> str:
    """``text`` with anything that looks like markup escaped (as :func:`rich.markup.escape`)."""
    text = _ESCAPE.sub(lambda m: f"{m.group(1)}{m.group(1)}\\{m.group(2)}", text)
    if text.endswith("\\") and not text.endswith("\\\\"):
        return text + "\\"
    return text


def parse(markup: str) -> list[tuple[str, tuple[str, ...]]] | None:
    """``markup`` as pieces of text with the styles in force; None for a tag not in
    :data:`STYLES` or a closing tag that closes nothing."""
    if "[" not in markup:
        return [(markup, ())]
    pieces: list[tuple[str, tuple[str, ...]]] = []
    stack: list[str] = []
    position = 0
    for match in _TAG.finditer(markup):
        full, escapes, tag = match.groups()
        start, end = match.span()
        if start > position:
            pieces.append((markup[position:start].replace("\\[", "["), tuple(stack)))
        position = end
        backslashes, escaped = divmod(len(escapes), 2)
        if backslashes:
            pieces.append(("\\" * backslashes, tuple(stack)))
        if escaped:
            pieces.append((full[len(escapes) :], tuple(stack)))
            continue
        if tag.startswith("/"):
            name = tag[1:].strip()
            if not stack or (name and name not in stack):
                return None
            if name:
                del stack[len(stack) - 1 - stack[::-1].index(name)]
            else:
                stack.pop()
        elif tag in STYLES:
            stack.append(tag)
        else:
            return None
    if position < len(markup):
        pieces.append((markup[position:].replace("\\[", "["), tuple(stack)))
    return pieces


def breaks(text: str, width: int) -> list[int]:
    """Where an ASCII line of ``text`` is broken to fit ``width`` columns, as rich does: at the
    start of the word that does not fit, a word wider than a line folded."""
    offsets: list[int] = []
    column = 0
    for match in _WORD.finditer(text):
        start, word = match.start(), match.group()
        length = len(word.rstrip())
        if width - column >= length:
            column += len(word)
        elif length > width:
            chunks = [word[i : i + width] for i in range(0, len(word), width)]
            for index, chunk in enumerate(chunks):
                if start:
                    offsets.append(start)
                if index == len(chunks) - 1:
                    column = len(chunk)
                else:
                    start += len(chunk)
        elif column and start:
            offsets.append(start)
            column = len(word)
    return offsets


def terminal_width() -> int:
    """The width rich gives a console: ``COLUMNS``, else the terminal's, else 80."""
    width = 0
    for descriptor in (0, 1, 2):
        try:
            width = os.get_terminal_size(descriptor).columns
        except (AttributeError, ValueError, OSError):
            continue
        break
    columns = os.environ.get("COLUMNS")
    if columns is not None and columns.isdigit():
        width = int(columns)
    return width or 80


class LineConsole:
    """Prints lines of rich markup on stdout (or stderr) the way rich's console does."""

    def __init__(self, *, stderr: bool = False) -> None:
        self.stderr = stderr
        """On stderr rather than stdout."""
        self._rich: Console | None = None
        stream = self._stream()
        self.styled = _is_terminal(stream)
        """Styles are written (as ANSI escape sequences)."""
        self.colour = self.styled and not os.environ.get("NO_COLOR")
        """Colours are written too."""
        self.width = 80 if self.styled and _is_dumb() else terminal_width()
        """Lines are wrapped to this many columns."""

    def _stream(self) -> TextIO:
        return sys.stderr if self.stderr else sys.stdout

    def print(self, markup: str = "", *, soft_wrap: bool = False) -> None:
        """Print one line of markup, wrapped to :attr:`width` unless ``soft_wrap``."""
        plain = markup.isascii() and "\t" not in markup and "\n" not in markup
        pieces = parse(markup) if plain else None
        if pieces is None:
            if self._rich is None:
                self._rich = make_console(stderr=self.stderr, width=self.width)
            self._rich.print(markup, soft_wrap=soft_wrap)
            return
        text = "".join(piece for piece, _ in pieces)
        offsets = [] if soft_wrap else breaks(text, self.width)
        lines = []
        for begin, end in zip([0, *offsets], [*offsets, len(text)], strict=True):
            line = text[begin:end]
            if not soft_wrap and len(line) > self.width:
                excess = min(len(line) - self.width, len(line) - len(line.rstrip()))
                end -= excess
            lines.append(self._styled(pieces, begin, end))
        self._stream().write("\n".join(lines) + "\n")

    def _styled(self, pieces: list[tuple[str, tuple[str, ...]]], begin: int, end: int) -> str:
        out = []
        position = 0
        for piece, styles in pieces:
            lo, hi = max(begin, position), min(end, position + len(piece))
            position += len(piece)
            if lo >= hi:
                continue
            part = piece[lo - (position - len(piece)) : hi - (position - len(piece))]
            codes = [STYLES[s] for s in styles if self.colour or STYLES[s] in ("1", "2")]
            if self.styled and codes:
                part = f"\x1b[{';'.join(codes)}m{part}\x1b[0m"
            out.append(part)
        return "".join(out)


def _is_terminal(stream: TextIO) -> bool:
    tty_compatible = os.environ.get("TTY_COMPATIBLE", "")
    if tty_compatible in ("0", "1"):
        return tty_compatible == "1"
    force = os.environ.get("FORCE_COLOR")
    if force is not None:
        return force != ""
    try:
        return stream.isatty()
    except ValueError:
        return False


def _is_dumb() -> bool:
    return os.environ.get("TERM", "").lower() in ("dumb", "unknown")
