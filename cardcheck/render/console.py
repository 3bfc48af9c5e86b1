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

    Piece = tuple[str, tuple[str, ...]]
    """Text and the styles it is printed in."""
    Line = list[Piece]


def make_console(*, stderr: bool = False, width: int | None = None) -> Console:
    """A console on stdout (or stderr): colour only on a terminal and without NO_COLOR; no
    emoji codes (``:lock:`` in a card's description stays text)."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            # rich would exit 1; a reader that went away (`| head`) ends the command quietly
            # with its own exit code instead (cardcheck.cli.run, cardcheck.fastpath).
            from cardcheck.errors import OutputClosed

            self.quiet = True
            raise OutputClosed("the reader of the output went away")

    no_color = bool(os.environ.get("NO_COLOR"))
    return _Console(
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

_ONE_COLUMN = (
    (0x20, 0x7E),
    (0xA0, 0xAC),
    (0xAE, 0x2FF),
    (0x370, 0x482),
    (0x2500, 0x25FC),
    (0x2800, 0x28FF),
)
"""Characters rich counts as one column wide without looking them up (Latin, Greek, Cyrillic,
box drawing): text made of them alone is laid out here; anything else goes to rich."""


def one_column_each(text: str) -> bool:
    """Every character of ``text`` is one column wide (and none is a tab or a line break)."""
    if text.isascii():
        return all(" " <= c <= "~" for c in text)
    return all(any(lo <= ord(c) <= hi for lo, hi in _ONE_COLUMN) for c in text)


STYLES = {
    "bold": "1",
    "dim": "2",
    "red": "31",
    "green": "32",
    "yellow": "33",
    "blue": "34",
    "magenta": "35",
    "cyan": "36",
    "italic": "3",
    "bright_green": "92",
}
"""The styles :class:`LineConsole` knows, with their SGR codes (colours from 31 on)."""


def escape(text: str) -> str:
    """``text`` with anything that looks like markup escaped (as :func:`rich.markup.escape`)."""
    text = _ESCAPE.sub(lambda m: f"{m.group(1)}{m.group(1)}\\{m.group(2)}", text)
    if text.endswith("\\") and not text.endswith("\\\\"):
        return text + "\\"
    return text


def parse(markup: str) -> list[tuple[str, tuple[str, ...]]] | None:
    """``markup`` as pieces of text with the styles in force; None for a tag not made of
    :data:`STYLES` (``[bold green]`` is) or a closing tag that closes nothing."""
    if "[" not in markup:
        return [(markup, ())]
    pieces: list[tuple[str, tuple[str, ...]]] = []
    stack: list[str] = []

    def styles() -> tuple[str, ...]:
        return tuple(style for tag in stack for style in tag.split())

    position = 0
    for match in _TAG.finditer(markup):
        full, escapes, tag = match.groups()
        start, end = match.span()
        if start > position:
            pieces.append((markup[position:start].replace("\\[", "["), styles()))
        position = end
        backslashes, escaped = divmod(len(escapes), 2)
        if backslashes:
            pieces.append(("\\" * backslashes, styles()))
        if escaped:
            pieces.append((full[len(escapes) :], styles()))
            continue
        if tag.startswith("/"):
            name = tag[1:].strip()
            if not stack or (name and name not in stack):
                return None
            if name:
                del stack[len(stack) - 1 - stack[::-1].index(name)]
            else:
                stack.pop()
        elif tag.split() and all(style in STYLES for style in tag.split()):
            stack.append(" ".join(tag.split()))
        else:
            return None
    if position < len(markup):
        pieces.append((markup[position:].replace("\\[", "["), styles()))
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

    def _unicode(self, text: str) -> bool:
        """``text`` can be written as it is: ASCII, or a UTF stream (rich would replace box
        characters on any other)."""
        encoding = getattr(self._stream(), "encoding", None) or "utf-8"  # as rich assumes
        return text.isascii() or encoding.lower().startswith("utf")

    def flush(self) -> None:
        """Flush the stream (a result read from a pipe is shown as soon as it is decoded)."""
        self._stream().flush()

    def rule(self) -> None:
        """A line across the console, as rich's ``console.rule()``."""
        self._stream().write(self._styled([("─" * self.width, ("bright_green",))], 0, self.width))
        self._stream().write("\n")

    def print(self, markup: str | Table | Tree = "", *, soft_wrap: bool = False) -> None:
        """Print one line of markup, wrapped to :attr:`width` unless ``soft_wrap``; or a
        :class:`Table` or :class:`Tree`."""
        if isinstance(markup, Table | Tree):
            lines = markup.lines(self.width)
            if lines is None or not all(self._unicode(t) for line in lines for t, _ in line):
                self._rich_console().print(markup.rich())
                return
            text = "".join(
                "".join(self._styled([piece], 0, len(piece[0])) for piece in line) + "\n"
                for line in lines
            )
            self._stream().write(text)
            return
        pieces = parse(markup) if one_column_each(markup) and self._unicode(markup) else None
        if pieces is None:
            self._rich_console().print(markup, soft_wrap=soft_wrap)
            return
        text = "".join(piece for piece, _ in pieces)
        offsets = [] if soft_wrap else breaks(text, self.width)
        printed = []
        for begin, end in zip([0, *offsets], [*offsets, len(text)], strict=True):
            line = text[begin:end]
            if not soft_wrap and len(line) > self.width:
                excess = min(len(line) - self.width, len(line) - len(line.rstrip()))
                end -= excess
            printed.append(self._styled(pieces, begin, end))
        self._stream().write("\n".join(printed) + "\n")

    def _rich_console(self) -> Console:
        if self._rich is None:
            self._rich = make_console(stderr=self.stderr, width=self.width)
        return self._rich

    def _styled(self, pieces: list[tuple[str, tuple[str, ...]]], begin: int, end: int) -> str:
        out = []
        position = 0
        for piece, styles in pieces:
            lo, hi = max(begin, position), min(end, position + len(piece))
            position += len(piece)
            if lo >= hi:
                continue
            part = piece[lo - (position - len(piece)) : hi - (position - len(piece))]
            codes = [STYLES[s] for s in styles if self.colour or STYLES[s] in ("1", "2", "3")]
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


HEAVY_HEAD = "heavy_head"
"""rich's default box: heavy lines under and between the headers, light ones between cells."""


class Table:
    """A table drawn like rich's ``Table`` with the same arguments (``box`` None or the default
    heavy head without edges, ``padding``, ``title`` on the left, ``show_header``),
    ``add_column(header, justify=...)`` and ``add_row(*cells, style=...)``, without importing
    rich.

    :meth:`lines` lays it out as rich does (each column as wide as its widest cell plus its
    padding; when that is wider than the console, the widest columns narrowed and their cells
    wrapped) or says it cannot (a cell with characters rich measures differently, a word wider
    than its column, edges); then :meth:`rich` makes the same table in rich.
    """

    def __init__(
        self,
        *,
        title: str | None = None,
        title_justify: str = "center",
        show_header: bool = True,
        show_edge: bool = True,
        box: str | None = HEAVY_HEAD,
        padding: tuple[int, int] = (0, 1),
    ) -> None:
        self.title = title
        self.title_justify = title_justify
        self.show_header = show_header
        """The first line is the columns' headers (bold)."""
        self.show_edge = show_edge
        self.box = box
        self.padding = padding
        self.columns: list[tuple[str, str]] = []
        """``(header, justify)``; justify is ``left`` or ``right``."""
        self.folds: list[tuple[bool, bool]] = []
        """Per column: a word wider than it is folded (``overflow="fold"``), it never wraps
        (``no_wrap``)."""
        self.rows: list[tuple[tuple[str, ...], str]] = []
        """The cells (markup) and the style of each row."""

    def add_column(
        self,
        header: str = "",
        *,
        justify: str = "left",
        overflow: str = "ellipsis",
        no_wrap: bool = False,
    ) -> None:
        """A column (``overflow`` ``fold`` or ``ellipsis``, ``no_wrap`` as in rich)."""
        self.columns.append((header, justify))
        self.folds.append((overflow == "fold", no_wrap))

    def add_row(self, *cells: str, style: str = "") -> None:
        """A row of cells (markup); more cells than columns add columns (as in rich)."""
        while len(self.columns) < len(cells):
            self.add_column()
        self.rows.append((cells, style))

    def rich(self) -> object:
        """The same table in rich."""
        from rich import box
        from rich.table import Table as RichTable

        table = RichTable(
            title=self.title,
            title_justify=self.title_justify,  # type: ignore[arg-type]
            show_header=self.show_header,
            show_edge=self.show_edge,
            box=box.HEAVY_HEAD if self.box == HEAVY_HEAD else None,
            padding=self.padding,
        )
        for (header, justify), (fold, no_wrap) in zip(self.columns, self.folds, strict=True):
            table.add_column(
                header,
                justify=justify,  # type: ignore[arg-type]
                overflow="fold" if fold else "ellipsis",
                no_wrap=no_wrap,
            )
        for cells, style in self.rows:
            table.add_row(*cells, style=style or None)
        return table

    def lines(self, width: int) -> list[Line] | None:
        """The table's lines as pieces of text with their styles, for a console ``width``
        wide; None when only rich can draw it the same."""
        top, pad = self.padding
        boxed = self.box is not None
        if top or not self.columns or not self.rows or width < 1:
            return None
        if boxed and (self.show_edge or not self.show_header):
            return None
        if self.title is not None and self.title_justify != "left":
            return None
        grid: list[list[Line]] = []
        headers = [header for header, _ in self.columns]
        padded = [([*r, *[""] * (len(self.columns) - len(r))], st) for r, st in self.rows]
        for index, (row, row_style) in enumerate([(headers, "")] * self.show_header + padded):
            extra = tuple(row_style.split())
            if any(style not in STYLES for style in extra):
                return None
            row_pieces: list[Line] = []
            for cell in row:
                pieces = parse(cell) if one_column_each(cell) else None
                if pieces is None:
                    return None
                if index == 0 and self.show_header:
                    extra = ("bold",)
                row_pieces.append([(text, (*extra, *styles)) for text, styles in pieces])
            grid.append(row_pieces)
        texts = [["".join(t for t, _ in cell) for cell in row] for row in grid]
        available = width - (len(self.columns) - 1 if boxed else 0)
        count = len(self.columns)
        widths = [self._measure([row[i] for row in texts], available) for i in range(count)]
        if sum(widths) > available:
            widths = _collapse(widths, available, [not no_wrap for _, no_wrap in self.folds])
            if sum(widths) > available:
                widths = _reduce(sum(widths) - available, [1] * count, widths, widths)
            widths = [self._measure([row[i] for row in texts], w) for i, w in enumerate(widths)]
        out: list[Line] = []
        table_width = sum(widths) + (count - 1 if boxed else 0)
        if self.title is not None:
            title = parse(self.title) if one_column_each(self.title) else None
            if title is None or len("".join(t for t, _ in title)) > table_width:
                return None
            used = sum(len(t) for t, _ in title)
            fill: Line = [(" " * (table_width - used), ())]
            out.append([(t, ("italic", *st)) for t, st in title] + fill)
        for number_of_row, (row_pieces, row_texts) in enumerate(zip(grid, texts, strict=True)):
            cells: list[list[Line]] = []
            for (_, justify), (_, no_wrap), pieces, text, column in zip(
                self.columns, self.folds, row_pieces, row_texts, widths, strict=True
            ):
                inner = column - 2 * pad
                words = (word.rstrip() for word in _WORD.findall(text))
                if inner < 1 or any(len(word) > inner for word in words):
                    return None  # rich cuts it short with an ellipsis, or folds it
                if no_wrap and len(text) > inner:
                    return None  # rich does not wrap it: cut short or folded
                cells.append(_cell_lines(pieces, text, inner, justify))
            height = max(len(lines) for lines in cells)
            header = self.show_header and number_of_row == 0
            divider = "┃" if header else "│"
            for number in range(height):
                line: Line = []
                for index, (lines, column) in enumerate(zip(cells, widths, strict=True)):
                    if index and boxed:
                        line.append((divider, ()))
                    if header:  # the headers are aligned at the bottom, the cells at the top
                        lines = [[] for _ in range(height - len(lines))] + lines
                    if number < len(lines) and lines[number]:
                        line.append((" " * pad, ()))
                        line += lines[number]
                        line.append((" " * pad, ()))
                    else:
                        line.append((" " * column, ()))
                out.append(line)
            if header and boxed:
                out.append([("╇".join("━" * column for column in widths), ())])
        return out

    def _measure(self, texts: list[str], width: int) -> int:
        """A column's width: its widest cell plus padding, at most ``width``."""
        pad = 2 * self.padding[1]
        inner = width - pad
        if width < 1:
            return 0
        if inner < 1:
            return width
        widest = max((min(len(text), inner) for text in texts if len(text) >= 1), default=0)
        return min(widest + pad, width) or 1


class Tree:
    """A tree drawn like rich's ``Tree`` (``├── `` and ``└── `` guides), without importing rich:
    ``Tree(label)``, ``add(label)`` returns the new branch."""

    def __init__(self, label: str) -> None:
        self.label = label
        """Markup."""
        self.children: list[Tree] = []

    def add(self, label: str) -> Tree:
        """A branch under this one."""
        child = Tree(label)
        self.children.append(child)
        return child

    def rich(self) -> object:
        """The same tree in rich."""
        from rich.tree import Tree as RichTree

        def copy(node: Tree, into: RichTree) -> None:
            for child in node.children:
                copy(child, into.add(child.label))

        tree = RichTree(self.label)
        copy(self, tree)
        return tree

    def lines(self, width: int) -> list[Line] | None:
        """The tree's lines for a console ``width`` wide; None when only rich can draw it."""
        out: list[Line] = []

        def draw(node: Tree, guides: str, last: bool, root: bool) -> bool:
            if not one_column_each(node.label):
                return False
            pieces = parse(node.label)
            if pieces is None:
                return False
            first = "" if root else guides + ("└── " if last else "├── ")
            rest = "" if root else guides + ("    " if last else "│   ")
            room = width - len(first)
            if room < 1:
                return False
            text = "".join(t for t, _ in pieces)
            offsets = breaks(text, room)
            for number, (begin, end) in enumerate(
                zip([0, *offsets], [*offsets, len(text)], strict=True)
            ):
                line = text[begin:end]
                if len(line) > room:
                    end -= min(len(line) - room, len(line) - len(line.rstrip()))
                prefix = first if number == 0 else rest
                out.append(([(prefix, ())] if prefix else []) + _slice(pieces, begin, end))
            below = "" if root else guides + ("    " if last else "│   ")
            return all(
                draw(child, below, index == len(node.children) - 1, False)
                for index, child in enumerate(node.children)
            )

        return out if draw(self, "", True, True) else None


def _collapse(widths: list[int], width: int, wrapable: list[bool]) -> list[int]:
    """rich's narrowing of the widest columns that may wrap until the table fits."""
    excess = sum(widths) - width
    if not any(wrapable):
        return widths
    while sum(widths) and excess > 0:
        widest = max(w for w, wraps in zip(widths, wrapable, strict=True) if wraps)
        second = max(
            (w if wraps and w != widest else 0) for w, wraps in zip(widths, wrapable, strict=True)
        )
        ratios = [
            1 if w == widest and wraps else 0 for w, wraps in zip(widths, wrapable, strict=True)
        ]
        if not any(ratios) or not widest - second:
            break
        widths = _reduce(excess, ratios, [min(excess, widest - second)] * len(widths), widths)
        excess = sum(widths) - width
    return widths


def _reduce(total: int, ratios: list[int], maximums: list[int], values: list[int]) -> list[int]:
    """``values`` reduced by ``total`` in all, shared by ``ratios``, each by at most its
    maximum (rich's ``ratio_reduce``)."""
    ratios = [ratio if maximum else 0 for ratio, maximum in zip(ratios, maximums, strict=True)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return values[:]
    result = []
    for ratio, maximum, value in zip(ratios, maximums, values, strict=True):
        if ratio and total_ratio > 0:
            share = min(maximum, round(ratio * total / total_ratio))
            result.append(value - share)
            total -= share
            total_ratio -= ratio
        else:
            result.append(value)
    return result


def _cell_lines(pieces: Line, text: str, width: int, justify: str) -> list[Line]:
    """One cell wrapped to ``width`` and justified (padded to ``width``)."""
    offsets = breaks(text, width)
    lines = []
    for begin, end in zip([0, *offsets], [*offsets, len(text)], strict=True):
        line = text[begin:end]
        if len(line) > width:
            end -= min(len(line) - width, len(line) - len(line.rstrip()))
        if justify == "right":
            end = begin + len(text[begin:end].rstrip())
        used = end - begin
        part = _slice(pieces, begin, end)
        pad: Line = [(" " * (width - used), ())] if width > used else []
        lines.append(pad + part if justify == "right" else part + pad)
    return lines


def _slice(pieces: Line, begin: int, end: int) -> Line:
    out: Line = []
    position = 0
    for piece, styles in pieces:
        lo, hi = max(begin, position), min(end, position + len(piece))
        if lo < hi:
            out.append((piece[lo - position : hi - position], styles))
        position += len(piece)
    return out
