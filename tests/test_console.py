"""LineConsole prints markup lines exactly as rich's console does (without importing rich)."""

from __future__ import annotations

import io
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.markup import escape as rich_escape

from cardcheck.render.console import LineConsole, Table, Tree, escape

WORDS = st.text(alphabet="ab \\[]/x-:.\n", min_size=0, max_size=12)
TAGS = st.sampled_from(
    ["[bold]", "[/bold]", "[/]", "[green]", "[/green]", "[dim]", "[yellow]", "[bold red]"]
)


def with_rich(markup: str, width: int, soft_wrap: bool) -> str:
    out = io.StringIO()
    console = Console(
        file=out, width=width, no_color=True, highlight=False, soft_wrap=False, emoji=False
    )
    console.print(markup, soft_wrap=soft_wrap)
    return out.getvalue()


def with_lines(markup: str, width: int, soft_wrap: bool) -> str:
    out = io.StringIO()
    saved, sys.stdout = sys.stdout, out
    try:
        console = LineConsole()
        console.width = width
        console.print(markup, soft_wrap=soft_wrap)
    finally:
        sys.stdout = saved
    return out.getvalue()


@settings(max_examples=400, deadline=None)
@given(
    parts=st.lists(st.one_of(WORDS, WORDS.map(escape), TAGS), max_size=12),
    width=st.integers(min_value=3, max_value=40),
    soft_wrap=st.booleans(),
)
def test_same_output_as_rich(parts: list[str], width: int, soft_wrap: bool) -> None:
    markup = "".join(parts)
    try:
        expected = with_rich(markup, width, soft_wrap)
    except Exception:  # markup rich rejects (a closing tag with nothing open): not ours to print
        return
    assert with_lines(markup, width, soft_wrap) == expected, (markup, width)


@given(st.text(alphabet="ab[]\\/x ", max_size=20))
def test_escape_is_richs(text: str) -> None:
    assert escape(text) == rich_escape(text)


@pytest.mark.parametrize(
    "markup",
    [
        "[bold]ATR list in use:[/bold] /usr/share/pcsc/smartcard_list.txt",
        "  [green]used[/green]      " + "/very/long/path/" * 8,
        "x" * 200,
        "[bold]3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 6A[/bold] [cyan](local)[/cyan]",
        "Carte à puce (accents go through rich)",
        "a\ttab",
    ],
)
def test_lines_of_the_views(markup: str) -> None:
    for width in (20, 80):
        assert with_lines(markup, width, False) == with_rich(markup, width, False)


CELLS = st.text(alphabet="ab  \\[]/x-:.", min_size=0, max_size=30)


def drawn_by_rich(drawing: Table | Tree, width: int) -> str:
    """What rich prints for the same table or tree (``drawing.rich()``), ``width`` wide."""
    out = io.StringIO()
    console = Console(
        file=out, width=width, no_color=True, highlight=False, soft_wrap=False, emoji=False
    )
    console.print(drawing.rich())
    return out.getvalue()


@settings(max_examples=300, deadline=None)
@given(
    columns=st.lists(st.sampled_from(["left", "right"]), min_size=1, max_size=4),
    header=st.booleans(),
    data=st.data(),
    width=st.integers(min_value=8, max_value=90),
)
def test_tables_as_rich_draws_them(
    columns: list[str], header: bool, data: st.DataObject, width: int
) -> None:
    if data.draw(st.booleans()):
        table = Table(show_header=header, box=None, padding=(0, 2))
    else:  # rich's default box without edges, with a title, as in `cardcheck atr`
        title = data.draw(st.sampled_from([None, "Structure", "Bit rate by clock"]))
        table = Table(title=title, title_justify="left", show_edge=False)
    for index, justify in enumerate(columns):
        table.add_column(
            escape(data.draw(CELLS)) if index % 2 else f"col{index}",
            justify=justify,
            overflow=data.draw(st.sampled_from(["ellipsis", "fold"])),
            no_wrap=data.draw(st.booleans()),
        )
    marked = CELLS.map(lambda text: f"[green]{escape(text)}[/green] x")
    for _ in range(data.draw(st.integers(min_value=1, max_value=5))):
        style = data.draw(st.sampled_from(["", "yellow"]))
        table.add_row(
            *(data.draw(st.one_of(CELLS.map(escape), marked)) for _ in columns), style=style
        )
    expected = drawn_by_rich(table, width)
    out = io.StringIO()
    saved, sys.stdout = sys.stdout, out
    try:
        console = LineConsole()
        console.width = width
        console.print(table)
    finally:
        sys.stdout = saved
    assert out.getvalue() == expected


def test_the_compat_view_is_drawn_without_rich() -> None:
    """The tables of `compat` (columns added by their rows, a header, long cells) are drawn
    here, the same as rich draws them."""
    reader = Table(show_header=False, box=None, padding=(0, 2))
    reader.add_column(no_wrap=True)  # as cardcheck.render.compat's tables of names and values
    reader.add_column(overflow="fold")
    reader.add_row("why", "TA1 13 gives 43010 bit/s, within the reader's limits. " * 3)
    reader.add_row("clock", "4 MHz")
    clock = Table(box=None, padding=(0, 2))
    clock.add_column("clock", justify="right", overflow="fold")
    clock.add_column("in spec", overflow="fold")
    clock.add_row("6 MHz", "no: outside 1-5 MHz during the ATR, above fmax " * 2)
    for table in (reader, clock):
        for width in (40, 80, 120):
            assert table.lines(width) is not None
            out = io.StringIO()
            saved, sys.stdout = sys.stdout, out
            try:
                console = LineConsole()
                console.width = width
                console.print(table)
            finally:
                sys.stdout = saved
            assert out.getvalue() == drawn_by_rich(table, width)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), width=st.integers(min_value=12, max_value=90))
def test_trees_as_rich_draws_them(data: st.DataObject, width: int) -> None:
    label = CELLS.map(lambda text: f"[bold]{escape(text)}[/bold] x µs" if text else "y")
    tree = Tree(data.draw(label))
    branches = [tree]
    for _ in range(data.draw(st.integers(min_value=0, max_value=8))):
        parent = data.draw(st.sampled_from(branches))
        branches.append(parent.add(data.draw(label)))
    assert width < 50 or tree.lines(width) is not None  # (deep and narrow: rich draws it)
    out = io.StringIO()
    saved, sys.stdout = sys.stdout, out
    try:
        console = LineConsole()
        console.width = width
        console.print(tree)
    finally:
        sys.stdout = saved
    assert out.getvalue() == drawn_by_rich(tree, width)
