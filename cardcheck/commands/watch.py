"""`cardcheck watch`: report card and reader events as they happen (JSON Lines or a live view).

Blocks in pcscd (SCardGetStatusChange with the PnP pseudo-reader) instead of polling; each
wait is bounded (1 s) only so that --timeout and Ctrl-C are honoured promptly.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from datetime import datetime

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up

if TYPE_CHECKING:
    from pathlib import Path

    from cardcheck.commands.readers import Identifier
    from cardcheck.pcsc.adapter import PcscContext
    from cardcheck.pcsc.model import Event, EventKind, ReaderInfo

WAIT_SLICE = 1.0
"""Longest single wait in pcscd, in seconds."""


def _now() -> datetime:
    return datetime.now().astimezone()


def _event(info: ReaderInfo | None, name: str, kind: EventKind, identifier: Identifier) -> Event:
    from cardcheck.pcsc.model import Event, EventKind, ReaderState

    state = info.state if info is not None else ReaderState.UNKNOWN
    with_card = kind in (EventKind.PRESENT, EventKind.INSERTED)
    atr = info.atr if info is not None and with_card else None
    identified = identifier.identify(atr) if atr is not None else None
    return Event(
        time=_now(),
        reader=name,
        kind=kind,
        state=state & ~ReaderState.CHANGED,
        atr=atr,
        identified=identified,
    )


def watch_events(
    pcsc: PcscContext,
    identifier: Identifier,
    *,
    reader: str | None,
    timeout: float | None,
) -> Iterator[Event]:
    """The initial state of each reader, then every change, until ``timeout`` seconds passed.

    ``reader`` limits the events to the reader it names (:func:`match_reader`: the exact name,
    else a unique prefix, else a unique part); when no reader matches yet, the first one
    plugged in that matches is watched. Several matching readers: InputError (exit 2).
    """
    from cardcheck.pcsc.model import events_between, initial_event, match_reader

    chosen: list[str] = []  # the reader --reader resolved to, once it is plugged in

    def wanted(infos: tuple[ReaderInfo, ...]) -> dict[str, ReaderInfo]:
        if reader is None:
            return {i.name: i for i in infos}
        if not chosen:
            name = match_reader([i.name for i in infos], reader)
            if name is None:
                return {}
            chosen.append(name)
        return {i.name: i for i in infos if i.name == chosen[0]}

    deadline = None if timeout is None else time.monotonic() + timeout
    known = wanted(pcsc.reader_states())
    if reader is not None and not known:
        print(
            f"cardcheck: no reader matches {reader!r} yet; waiting for one to be plugged in",
            file=sys.stderr,
        )
    elif not known:
        print("cardcheck: no reader yet; waiting for one to be plugged in", file=sys.stderr)
    for info in known.values():
        yield _event(info, info.name, initial_event(info), identifier)
    while True:
        wait = WAIT_SLICE
        if deadline is not None:
            wait = min(wait, deadline - time.monotonic())
            if wait <= 0:
                return
        current = wanted(pcsc.wait_for_change(tuple(known.values()), wait))
        for name in [*known, *(n for n in current if n not in known)]:
            after = current.get(name)
            for kind in events_between(known.get(name), after):
                yield _event(after, name, kind, identifier)
        known = current


def watch(
    json_output: bool = False,
    reader: str | None = None,
    timeout: float | None = None,
    count: int | None = None,
    db: Path | None = None,
) -> None:
    """Watch readers: first the current state of each, then every insertion, removal,
    mute card, use by a program, and reader plugged in or out, as it happens.

    Each event has an ISO 8601 time stamp with milliseconds. Ctrl-C ends it (exit 0);
    --timeout and --count end it for scripts. Exit 2 for a bad --timeout or a --reader that
    matches several readers; exit 3 when the PC/SC service is not running or stops answering.
    """
    from cardcheck.commands.readers import Identifier
    from cardcheck.pcsc.adapter import open_context
    from cardcheck.render.pipes import stdout_may_close
    from cardcheck.render.watch import WatchFormat, watch_renderer

    identifier = Identifier(db)
    seen = 0
    try:  # Ctrl-C at any moment, even while connecting to pcscd, ends watch with 0
        with (
            stdout_may_close(),  # `watch | head` ends quietly with 0
            open_context() as pcsc,
            watch_renderer(WatchFormat.JSON if json_output else WatchFormat.HUMAN) as show,
        ):
            for event in watch_events(pcsc, identifier, reader=reader, timeout=timeout):
                show(event)
                seen += 1
                if count is not None and seen >= count:
                    break
    except KeyboardInterrupt:
        pass
