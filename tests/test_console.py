"""LineConsole prints markup lines exactly as rich's console does (without importing rich)."""

from __future__ import annotations

import io
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.markup import escape as rich_escape

from cardcheck.render.console import LineConsole, escape

WORDS = st.text(alphabet="ab \\[]/x-:.\n", min_size=0, max_size=12)
TAGS = st.sampled_from(["[bold]", "[/bold]", "[/]", "[green]", "[/green]", "[dim]", "[yellow]"])


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
