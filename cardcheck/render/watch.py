"""Output of ``cardcheck watch``: JSON Lines flushed per event, or a live view through rich.

On a terminal the human view keeps a table of the readers up to date above the event log;
elsewhere (a pipe, a log file) it prints one plain line per event.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from typing import TYPE_CHECKING, assert_never

from cardcheck.pcsc.model import Event, EventKind, first_description, hex_atr
from cardcheck.render.console import make_console

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

EventSink = Callable[[Event], None]
"""Shows one event."""


class WatchFormat(StrEnum):
    """How ``cardcheck watch`` prints."""

    HUMAN = "human"
    JSON = "json"


_STYLES: dict[EventKind, str] = {
    EventKind.PRESENT: "green",
    EventKind.EMPTY: "dim",
    EventKind.INSERTED: "bold green",
    EventKind.REMOVED: "yellow",
    EventKind.MUTE: "bold red",
    EventKind.IN_USE: "cyan",
    EventKind.RELEASED: "cyan",
    EventKind.READER_ADDED: "bold",
    EventKind.READER_REMOVED: "bold yellow",
}
_LOG_LINES = 12


@contextmanager
def watch_renderer(fmt: WatchFormat) -> Iterator[EventSink]:
    """A function that shows each event in ``fmt``; the live view ends with the block."""
    if fmt is WatchFormat.JSON:
        yield _print_json
    elif fmt is WatchFormat.HUMAN:
        console = make_console()
        if console.is_terminal:
            with _LiveView(console) as view:
                yield view.show
        else:
            yield lambda event: _print_line(event, console)
    else:
        assert_never(fmt)


def _print_json(event: Event) -> None:
    sys.stdout.write(json.dumps(event.to_json(), ensure_ascii=False) + "\n")
    sys.stdout.flush()


def event_line(event: Event) -> str:
    """One line of text for an event (no markup): time, reader, event, ATR and card."""
    stamp = event.time.strftime("%H:%M:%S.") + f"{event.time.microsecond // 1000:03d}"
    parts = [stamp, event.reader, str(event.kind)]
    atr = hex_atr(event.atr)
    if atr is not None:
        parts.append(atr)
        if event.identified is not None:
            parts.append(first_description(event.identified) or "unknown card")
    return "  ".join(parts)


def _print_line(event: Event, console: Console) -> None:
    from rich.markup import escape

    style = _STYLES[event.kind]
    console.print(f"[{style}]{escape(event_line(event))}[/]")
    console.file.flush()


class _LiveView:
    """A table of readers (last event, ATR, card) and the latest events under it."""

    def __init__(self, console: Console) -> None:
        from rich.live import Live

        self._console = console
        self._last: dict[str, Event] = {}
        self._log: list[Event] = []
        self._live = Live(
            self._render(), console=console, auto_refresh=False, redirect_stderr=False
        )

    def __enter__(self) -> _LiveView:
        self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.stop()

    def show(self, event: Event) -> None:
        if event.kind is EventKind.READER_REMOVED:
            self._last.pop(event.reader, None)
        else:
            previous = self._last.get(event.reader)
            keep_card = previous is not None and event.kind in (
                EventKind.IN_USE,
                EventKind.RELEASED,
            )
            if keep_card and previous is not None:
                event = Event(
                    time=event.time,
                    reader=event.reader,
                    kind=event.kind,
                    state=event.state,
                    atr=previous.atr,
                    identified=previous.identified,
                )
            self._last[event.reader] = event
        self._log = [*self._log, event][-_LOG_LINES:]
        self._live.update(self._render(), refresh=True)

    def _render(self) -> RenderableType:
        from rich.console import Group
        from rich.markup import escape
        from rich.table import Table
        from rich.text import Text

        table = Table(title="readers (Ctrl-C to stop)", title_justify="left", expand=False)
        table.add_column("reader")
        table.add_column("state")
        table.add_column("since")
        table.add_column("ATR")
        table.add_column("card")
        for name, event in sorted(self._last.items()):
            card = ""
            if event.atr is not None and event.identified is not None:
                card = first_description(event.identified) or "unknown card"
            table.add_row(
                escape(name),
                Text(", ".join(event.state.labels()) or "-", style=_STYLES[event.kind]),
                event.time.strftime("%H:%M:%S"),
                hex_atr(event.atr) or "",
                escape(card),
            )
        log = [Text(event_line(event), style=_STYLES[event.kind]) for event in self._log]
        return Group(table, Text("events:", style="bold"), *log)
