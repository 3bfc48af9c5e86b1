"""What PC/SC says: the EstablishContext result, the readers, their USB place, blocked readers.

Everything goes through :mod:`cardcheck.pcsc.adapter`. PC/SC calls can block (pcscd makes a
connect wait while another program holds a transaction), so each call runs in a worker
thread with its own context and is given up after a timeout: doctor never hangs. pyscard
releases the GIL while it waits, and an abandoned worker ends with the process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PcscReader:
    """One reader as PC/SC shows it."""

    name: str
    """The reader's PC/SC name."""
    state: tuple[str, ...]
    """PC/SC state words (``present``, ``exclusive``, ``inuse``, ``mute``...)."""
    atr: bytes | None
    """The card's ATR; None without a card."""
    channel_id: int | None
    """CHANNEL_ID; None when the reader does not give it (or it could not be read)."""
    usb: tuple[int, int] | None
    """(bus, address) from a USB CHANNEL_ID; None otherwise."""
    blocked: bool = False
    """A PC/SC call to this reader did not return in time: another program holds a
    transaction on its card."""


@dataclass(frozen=True, slots=True)
class PcscSurvey:
    """The PC/SC side of the diagnosis."""

    result: int | None
    """None when a context was established; otherwise the PC/SC result code."""
    result_name: str | None
    """``SCARD_E_NO_SERVICE``-style name of :attr:`result`."""
    readers: tuple[PcscReader, ...]
    """Every reader (empty when there is none or no context)."""
    unavailable: str | None = None
    """Why PC/SC could not be asked at all (no pyscard, the call hung); None when it was."""
    hung: bool = False
    """The service accepted the connection but SCardEstablishContext never returned."""


class _TimedOut(Exception):
    pass


def _in_thread(work: Callable[[], T], timeout: float) -> T:
    """Run ``work`` in a daemon thread; its result, its exception, or _TimedOut."""
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = work()
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    worker = threading.Thread(target=run, name="cardcheck-doctor-pcsc", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        raise _TimedOut
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


def survey(*, timeout: float = 5.0, reader_timeout: float = 1.5) -> PcscSurvey:
    """Ask PC/SC for its readers, their CHANNEL_ID and whether a call to them blocks."""
    try:
        from cardcheck.pcsc.adapter import open_context
        from cardcheck.pcsc.errors import PcscError
        from cardcheck.pcsc.model import ReaderState
    except ImportError as exc:  # pyscard missing or broken
        return PcscSurvey(None, None, (), unavailable=f"pyscard cannot be imported: {exc}")

    def states() -> tuple[tuple[str, ReaderState, tuple[str, ...], bytes | None], ...]:
        with open_context() as pcsc:
            return tuple((s.name, s.state, s.state.labels(), s.atr) for s in pcsc.reader_states())

    try:
        found = _in_thread(states, timeout)
    except _TimedOut:
        return PcscSurvey(
            None,
            None,
            (),
            unavailable=f"PC/SC did not answer within {timeout:g} s (the service accepted the "
            "connection but never replied)",
            hung=True,
        )
    except PcscError as err:
        return PcscSurvey(err.result, err.result_name, ())

    def channel(name: str) -> int | None:
        with open_context() as pcsc:
            return pcsc.reader_attributes(name).channel_id

    def touch(name: str) -> None:
        with open_context() as pcsc, pcsc.connect(name):
            pass

    readers: list[PcscReader] = []
    for name, state, labels, atr in found:
        channel_id: int | None = None
        blocked = False
        try:
            channel_id = _in_thread(lambda n=name: channel(n), reader_timeout)  # type: ignore[misc]
        except _TimedOut:
            blocked = True
        except PcscError:
            channel_id = None
        shared = ReaderState.INUSE in state and ReaderState.EXCLUSIVE not in state
        if not blocked and shared and ReaderState.PRESENT in state:
            try:
                _in_thread(lambda n=name: touch(n), reader_timeout)  # type: ignore[misc]
            except _TimedOut:
                blocked = True
            except PcscError:
                pass
        usb = None
        if channel_id is not None and (channel_id & 0xFFFFFFFF) >> 16 == 0x0020:
            usb = ((channel_id >> 8) & 0xFF, channel_id & 0xFF)
        readers.append(PcscReader(name, labels, atr, channel_id, usb, blocked))
    return PcscSurvey(None, None, tuple(readers))
