"""Output of ``cardcheck db info|search|update``.

Data goes to stdout (human view: lines with a few styles through
:class:`~cardcheck.render.console.LineConsole`, which prints like rich without importing it; or
JSON); warnings and progress (rich) go to stderr. rich is imported inside the functions that
use it. The warnings are printed by
:func:`cardcheck.render.error.print_warnings`, which is light enough for the fast path of
``cardcheck atr``.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum

from cardcheck.db.model import CandidateStatus, MatchSource
from cardcheck.render.console import LineConsole, escape, make_console

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up

if TYPE_CHECKING:
    from cardcheck.db.records import DbInfo, Entry
    from cardcheck.db.update import UpdateResult


class DbFormat(StrEnum):
    """How ``db info``, ``db search`` and ``db update`` print their result."""

    HUMAN = "human"
    JSON = "json"


def _print_json(data: object) -> None:
    import json

    print(json.dumps(data, indent=2, ensure_ascii=False))


def _size(count: int | None) -> str:
    if count is None:
        return "-"
    if count < 1024:
        return f"{count} B"
    return f"{count / 1024:.0f} KiB" if count < 1024 * 1024 else f"{count / 1048576:.1f} MiB"


def render_info(info: DbInfo, fmt: DbFormat) -> None:
    """``cardcheck db info``: the list in use and why, its numbers, the chain, local additions."""
    if fmt is DbFormat.JSON:
        _print_json(info.to_json())
    elif fmt is DbFormat.HUMAN:
        _info_human(info)
    else:
        from typing import assert_never  # (typing only when unreachable code is reached)

        assert_never(fmt)


def _info_human(info: DbInfo) -> None:
    from cardcheck.db.records import SOURCE_KIND_TEXT

    console = LineConsole()
    modified = datetime.fromtimestamp(info.modified).astimezone().strftime("%Y-%m-%d %H:%M %Z")
    console.print(f"[bold]ATR list in use:[/bold] {escape(str(info.path))}")
    console.print(
        f"  why:      {escape(SOURCE_KIND_TEXT[info.kind])}, first valid list of the chain"
    )
    console.print(
        f"  modified: {modified}" + (f" (the list says {info.list_date})" if info.list_date else "")
    )
    console.print(f"  size:     {_size(info.size)}")
    console.print(
        f"  entries:  {info.entries} ({info.entries - info.patterns} ATRs, "
        f"{info.patterns} patterns); invalid entries skipped: {len(info.invalid)}"
    )
    for item in info.invalid:
        console.print(f"    line {item.line}: {escape(item.pattern)} ({escape(item.reason)})")
    where = "" if info.index_path is None else f", {escape(str(info.index_path))}"
    console.print(f"  index:    {info.index_state.value} ({_size(info.index_size)}{where})")
    console.print("[bold]Chain[/bold] (first valid wins):")
    for place in info.chain:
        mark = {
            CandidateStatus.USED: "[green]used[/green]     ",
            CandidateStatus.SKIPPED: "[yellow]skipped[/yellow]  ",
            CandidateStatus.MISSING: "missing  ",
            CandidateStatus.NOT_TRIED: "not tried",
        }[place.status]
        console.print(f"  {mark} {escape(str(place.path))}")
        if place.reason:
            console.print(f"             {escape(place.reason)}", soft_wrap=True)
        if place.hint:
            console.print(f"             hint: {escape(place.hint)}", soft_wrap=True)
    local = info.local
    console.print(f"[bold]Local additions:[/bold] {escape(str(local.path))}")
    if not local.exists:
        console.print("  none (same syntax as smartcard_list.txt; always read as well)")
    elif local.problem:
        console.print(f"  [yellow]ignored[/yellow]: {escape(local.problem)}")
    else:
        console.print(f"  entries: {local.entries}; invalid entries skipped: {len(local.invalid)}")


def render_search(query: str, entries: Sequence[Entry], fmt: DbFormat) -> None:
    """``cardcheck db search``: the matching entries, in file order."""
    if fmt is DbFormat.JSON:
        _print_json(
            {"query": query, "count": len(entries), "entries": [e.to_json() for e in entries]}
        )
    elif fmt is DbFormat.HUMAN:
        _search_human(query, entries)
    else:
        from typing import assert_never  # (typing only when unreachable code is reached)

        assert_never(fmt)


def _search_human(query: str, entries: Sequence[Entry]) -> None:
    console = LineConsole()
    for entry in entries:
        local = " [cyan](local)[/cyan]" if entry.source is MatchSource.LOCAL else ""
        console.print(f"[bold]{escape(entry.pattern)}[/bold]{local}")
        for line in entry.descriptions:
            console.print(f"    {escape(line)}")
    noun = "entry" if len(entries) == 1 else "entries"
    console.print(f"{len(entries)} {noun} mention {escape(repr(query))}")


def render_update(result: UpdateResult, fmt: DbFormat) -> None:
    """``cardcheck db update``: what was installed and where."""
    if fmt is DbFormat.JSON:
        _print_json(result.to_json())
    elif fmt is DbFormat.HUMAN:
        _update_human(result)
    else:
        from typing import assert_never  # (typing only when unreachable code is reached)

        assert_never(fmt)


def _update_human(result: UpdateResult) -> None:
    console = LineConsole()
    if not result.changed:
        console.print(f"Already up to date: {escape(str(result.path))} ({result.entries} entries)")
        return
    console.print(
        f"Updated {escape(str(result.path))} from {escape(result.source)}: "
        f"{result.entries} entries ({result.patterns} patterns), {_size(result.size)}"
    )
    if result.previous is not None:
        console.print(
            f"  previously in use: {escape(str(result.previous))} "
            f"({result.previous_entries} entries)"
        )
    if result.backup is not None:
        console.print(f"  previous copy kept as {escape(str(result.backup))}")
    console.print(f"  index: {result.index_state.value}")


@contextmanager
def download_progress() -> Iterator[Callable[[int, int | None], None] | None]:
    """A progress bar on stderr while downloading, or None when stderr is not a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=make_console(stderr=True),
        transient=True,
    ) as bar:
        task = bar.add_task("downloading the ATR list", total=None)

        def advance(received: int, total: int | None) -> None:
            bar.update(task, completed=received, total=total)

        yield advance
