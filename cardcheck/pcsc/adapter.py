"""The one module of cardcheck that talks to pyscard (smartcard.scard, the low-level calls).

Every PC/SC return code is checked here and turned into a :class:`~cardcheck.pcsc.errors.PcscError`
with a plain message and a hint. cardcheck never takes a card exclusively: connections are
SHARED (or DIRECT, without powering the card, to read reader attributes).

Nothing here blocks for ever: every PC/SC call runs in the context's worker thread and the
caller waits for it with a deadline (:data:`CALL_TIMEOUT`, :data:`TRANSMIT_TIMEOUT`). A call
that does not answer in time (a card held in another program's transaction, an unresponsive
reader or card, a stuck pcscd) is abandoned with its PC/SC context and its worker, and a plain
error says which it was; the next call uses a fresh context and a fresh worker. The caller
waits in the main thread, so Ctrl-C (KeyboardInterrupt) ends the wait at any moment. Every
command APDU is checked against the allowlist of :mod:`cardcheck.pcsc.apdus` before it is sent.

    with open_context() as pcsc:
        states = pcsc.reader_states()
        with pcsc.connect(states[0].name) as card:
            data, sw1, sw2 = card.transmit(bytes.fromhex("00A40000023F00"))
"""

from __future__ import annotations

import contextlib
import struct
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from types import TracebackType

from smartcard import scard

from cardcheck.pcsc.apdus import check_apdu
from cardcheck.pcsc.errors import (
    UNAVAILABLE_ATTRIBUTE,
    PcscError,
    PcscResult,
    card_is_mute,
    card_unresponsive,
    card_went_silent,
    in_transaction,
    normalize,
    reader_unresponsive,
    service_unresponsive,
    translate,
)
from cardcheck.pcsc.model import (
    Protocol,
    ReaderAttributes,
    ReaderInfo,
    ReaderState,
    ResetKind,
    decode_channel_id,
    decode_ifd_version,
)

PNP_NOTIFICATION = "\\\\?PnP?\\Notification"
"""The pseudo-reader whose state changes when a reader is added or removed."""

CALL_TIMEOUT = 3.0
"""Seconds to wait for a PC/SC call that answers at once when all is well (connect, status,
attributes, list readers...)."""
TRANSMIT_TIMEOUT = 5.0
"""Seconds to wait for a card's answer to one command, or for a reset."""
CLOSE_TIMEOUT = 1.0
"""Seconds to wait for a context or connection to close before leaving it to the process exit."""

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up
if TYPE_CHECKING:
    from typing import Any, TypeVar

    _T = TypeVar("_T")

DEFAULT_PROTOCOLS: tuple[Protocol, ...] = (Protocol.T0, Protocol.T1)
"""What :meth:`PcscContext.connect` accepts unless told otherwise: let the card choose."""

_PROTOCOL_BITS: dict[Protocol, int] = {
    Protocol.T0: scard.SCARD_PROTOCOL_T0,
    Protocol.T1: scard.SCARD_PROTOCOL_T1,
    Protocol.RAW: scard.SCARD_PROTOCOL_RAW,
}
_RESET_DISPOSITION: dict[ResetKind, int] = {
    ResetKind.WARM: scard.SCARD_RESET_CARD,
    ResetKind.COLD: scard.SCARD_UNPOWER_CARD,
}


def _check(result: int, operation: str, reader: str | None = None) -> None:
    if normalize(result) != PcscResult.SUCCESS:
        raise translate(result, operation, reader)


def _protocol_mask(protocols: Iterable[Protocol]) -> int:
    mask = 0
    for protocol in protocols:
        mask |= _PROTOCOL_BITS[protocol]
    return mask


def _protocol_of(bits: int) -> Protocol | None:
    for protocol, bit in _PROTOCOL_BITS.items():
        if bits == bit:
            return protocol
    return None


def _atr_or_none(atr: Sequence[int] | None) -> bytes | None:
    if not atr:
        return None
    return bytes(atr)


def _info(name: str, event_state: int, atr: Sequence[int] | None) -> ReaderInfo:
    return ReaderInfo(
        name=name,
        state=ReaderState.from_event_state(event_state),
        atr=_atr_or_none(atr),
        event_state=event_state,
    )


class _Pending:
    """One PC/SC call handed to a :class:`_Worker`: its result, or what it raised."""

    def __init__(self, work: Callable[[], Any]) -> None:
        self._work = work
        self.done = threading.Event()
        """Set when the call returned (or raised)."""
        self.value: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.value = self._work()
        except BaseException as exc:  # handed to the waiting thread
            self.error = exc
        finally:
            self.done.set()


class _Worker:
    """A daemon thread that makes the PC/SC calls of one context, one at a time.

    The caller hands it a call and waits with a deadline. A worker whose call does not return
    is given up (:meth:`stop`): it ends when that call returns, if ever, and the context's next
    call gets a new worker.
    """

    def __init__(self) -> None:
        self._go = threading.Lock()
        self._go.acquire()  # released once per call handed over
        self._job: _Pending | None = None
        threading.Thread(target=self._loop, name="pcsc", daemon=True).start()

    def submit(self, job: _Pending | None) -> None:
        """Hand over ``job`` (None: end the thread after its current call)."""
        self._job = job
        with contextlib.suppress(RuntimeError):  # the previous call was not picked up yet
            self._go.release()

    def stop(self) -> None:
        """End the thread once its current call (if any) returns."""
        self.submit(None)

    def _loop(self) -> None:
        while True:
            self._go.acquire()
            job = self._job
            if job is None:
                return
            job.run()


def _let_go(context: Any) -> None:
    """Cancel what waits on an abandoned context (in a daemon thread: with pcscd stuck, the
    cancel request waits too).

    The context is never released: pcsc-lite's SCardReleaseContext would wait for the
    abandoned call while holding the library's global lock, and every later call of the
    process would wait behind it. The process exit (or pcscd, when the socket closes) frees it.
    """

    def work() -> None:
        try:
            scard.SCardCancel(context)
        except Exception:  # best effort on a context given up already
            return

    threading.Thread(target=work, name="pcsc:cancel", daemon=True).start()


def open_context(timeout: float = CALL_TIMEOUT) -> PcscContext:
    """Connect to the PC/SC service. Raises PcscError (pcscd not running or not answering...)."""
    return PcscContext(timeout=timeout)


class PcscContext:
    """A PC/SC context: list readers, read their states, wait for changes, connect to cards.

    A context manager; :meth:`close` releases it. Use it from one thread (the calls run in
    a worker thread of its own). ``timeout`` bounds each call (:data:`CALL_TIMEOUT`).
    """

    def __init__(self, timeout: float = CALL_TIMEOUT) -> None:
        self.timeout = timeout
        """Seconds each PC/SC call may take (commands and resets: :data:`TRANSMIT_TIMEOUT`)."""
        self._context: Any = None
        self._generation = 0
        self._pending: _Pending | None = None
        self._worker: _Worker | None = None
        self._pnp_state = 0
        self._context = self._establish()

    def __enter__(self) -> PcscContext:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- bounded calls -------------------------------------------------------------------
    def _establish(self) -> Any:
        def work() -> Any:
            try:
                return scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
            except scard.error:  # pragma: no cover - pyscard raises only on bad arguments
                return PcscResult.NO_SERVICE, None

        result, context = self.bounded(
            work,
            self.timeout,
            lambda: service_unresponsive("SCardEstablishContext", self.timeout),
        )
        _check(result, "SCardEstablishContext")
        return context

    @property
    def generation(self) -> int:
        """Counts the contexts abandoned so far (a connection is valid in one generation)."""
        return self._generation

    def settle(self) -> None:
        """Abandon the context if a call left behind by Ctrl-C still runs on it."""
        if self._pending is not None and not self._pending.done.is_set():
            self.abandon()

    def live(self) -> Any:
        """The PC/SC context handle, establishing a fresh one after an abandoned call."""
        self.settle()
        if self._context is None:
            self._context = self._establish()
        return self._context

    def bounded(
        self,
        work: Callable[[], _T],
        timeout: float,
        on_timeout: Callable[[], PcscError],
    ) -> _T:
        """Run ``work`` (one PC/SC call) in the worker thread and wait at most ``timeout`` s.

        When it does not return in time, its context is abandoned and ``on_timeout()`` is
        raised. Ctrl-C (KeyboardInterrupt) ends the wait at once; the call is then abandoned
        when the context is used again or closed.
        """
        self.settle()
        pending = self._submit(work)
        if not pending.done.wait(timeout):
            self.abandon()
            raise on_timeout()
        self._pending = None
        if pending.error is not None:
            raise pending.error
        value: _T = pending.value
        return value

    def _submit(self, work: Callable[[], Any]) -> _Pending:
        if self._worker is None:
            self._worker = _Worker()
        pending = _Pending(work)
        self._pending = pending
        self._worker.submit(pending)
        return pending

    def abandon(self) -> None:
        """Give up the current context (a call on it does not return); the next call gets a
        fresh one, and the connections made on the old one stop working."""
        old, self._context = self._context, None
        self._pending = None
        if self._worker is not None:
            self._worker.stop()
            self._worker = None
        self._generation += 1
        if old is not None:
            _let_go(old)

    def close(self) -> None:
        """Release the context (errors are ignored: the service may be gone already).

        Never blocks for longer than :data:`CLOSE_TIMEOUT`: a context with a call still
        running is cancelled and left to the process exit.
        """
        pending = self._pending
        if pending is not None and not pending.done.is_set():
            self.abandon()
            return
        context, self._context = self._context, None
        if context is not None:
            release = self._submit(lambda: scard.SCardReleaseContext(context))
            release.done.wait(CLOSE_TIMEOUT)
            self._pending = None
        if self._worker is not None:
            self._worker.stop()
            self._worker = None

    # -- readers ---------------------------------------------------------------------------
    def list_readers(self) -> tuple[str, ...]:
        """The names of the readers pcscd knows, in its order; empty when there is none."""
        context = self.live()
        result, readers = self.bounded(
            lambda: scard.SCardListReaders(context, []),
            self.timeout,
            lambda: service_unresponsive("SCardListReaders", self.timeout),
        )
        if normalize(result) == PcscResult.NO_READERS_AVAILABLE:
            return ()
        _check(result, "SCardListReaders")
        return tuple(readers)

    def reader_states(self, readers: Sequence[str] | None = None) -> tuple[ReaderInfo, ...]:
        """The current state of ``readers`` (default: all), without connecting to any card."""
        names = self.list_readers() if readers is None else tuple(readers)
        if not names:
            return ()
        context = self.live()
        query = [(name, scard.SCARD_STATE_UNAWARE) for name in names]
        result, states = self.bounded(
            lambda: scard.SCardGetStatusChange(context, 0, query),
            self.timeout,
            lambda: service_unresponsive("SCardGetStatusChange", self.timeout),
        )
        if normalize(result) != PcscResult.TIMEOUT:
            _check(result, "SCardGetStatusChange")
        return tuple(_info(name, event, atr) for name, event, atr in states)

    def wait_for_change(
        self, known: Sequence[ReaderInfo], timeout: float
    ) -> tuple[ReaderInfo, ...]:
        """Block until one of ``known`` changes, a reader is added or removed, or ``timeout``
        seconds pass; return the state of every reader then.

        ``known`` is what the previous call (or :meth:`reader_states`) returned: pcscd
        compares it, event counter included, with the present state. No polling: the call
        sleeps in pcscd. The wait is bounded by ``timeout`` plus :attr:`timeout` (a stuck
        pcscd is an error) and Ctrl-C ends it at once.
        """
        query = [(info.name, info.event_state) for info in known]
        query.append((PNP_NOTIFICATION, self._pnp_state))
        millis = max(0, int(timeout * 1000))
        context = self.live()
        result, states = self.bounded(
            lambda: scard.SCardGetStatusChange(context, millis, query),
            timeout + self.timeout,
            lambda: service_unresponsive("SCardGetStatusChange", timeout + self.timeout),
        )
        code = normalize(result)
        if code not in (PcscResult.SUCCESS, PcscResult.TIMEOUT):
            raise translate(code, "SCardGetStatusChange")
        readers_changed = False
        current: list[ReaderInfo] = []
        for name, event, atr in states:
            if name == PNP_NOTIFICATION:
                if event & scard.SCARD_STATE_CHANGED:
                    readers_changed = True
                self._pnp_state = event & ~scard.SCARD_STATE_CHANGED
                continue
            info = _info(name, event, atr)
            if info.state & (ReaderState.UNKNOWN | ReaderState.IGNORE):
                readers_changed = True
                continue
            current.append(info)
        if readers_changed:
            return self.reader_states()
        return tuple(current)

    # -- cards -------------------------------------------------------------------------------
    def connect(
        self, reader: str, protocols: Iterable[Protocol] = DEFAULT_PROTOCOLS
    ) -> CardConnection:
        """Connect to the card in ``reader`` in SHARED mode (never exclusive).

        Raises PcscError: no card, card held exclusively by another program (sharing
        violation) or in its transaction, mute, unresponsive or unpowered card, protocol
        mismatch...
        """
        context = self.live()
        mask = _protocol_mask(protocols)
        result, handle, active = self.bounded(
            lambda: scard.SCardConnect(context, reader, scard.SCARD_SHARE_SHARED, mask),
            self.timeout,
            lambda: self.blocked(reader, "SCardConnect", self.timeout),
        )
        code = normalize(result)
        if code == PcscResult.NO_SMARTCARD and self._is_mute(reader):
            raise card_is_mute(reader, "SCardConnect")
        _check(code, "SCardConnect", reader)
        card = CardConnection(self, reader, handle, _protocol_of(active))
        try:
            card.refresh_atr()
        except BaseException:
            card.disconnect()
            raise
        return card

    def reader_attributes(self, reader: str) -> ReaderAttributes:
        """The attributes ``reader`` gives, read without powering or disturbing its card.

        Uses a DIRECT connection (works without a card). When even that is refused (the card
        is held exclusively), every attribute is None. Raises PcscError when the reader does
        not answer in time (a card in another program's transaction, a stuck driver).
        """
        context = self.live()
        result, handle, _active = self.bounded(
            lambda: scard.SCardConnect(context, reader, scard.SCARD_SHARE_DIRECT, 0),
            self.timeout,
            lambda: self.blocked(reader, "SCardConnect", self.timeout),
        )
        code = normalize(result)
        if code == PcscResult.SHARING_VIOLATION:
            return ReaderAttributes()
        _check(code, "SCardConnect", reader)
        generation = self._generation
        try:
            return _read_attributes(self, handle, reader)
        finally:
            if generation == self._generation:
                self._disconnect(handle)

    def blocked(self, reader: str, operation: str, seconds: float) -> PcscError:
        """The error for a call on ``reader`` that got no answer: "in a transaction" when
        another program is connected to its card, else "unresponsive"."""
        try:
            (info,) = self.reader_states([reader])
        except (PcscError, ValueError):
            return reader_unresponsive(reader, operation, seconds)
        if ReaderState.INUSE in info.state and ReaderState.EXCLUSIVE not in info.state:
            return in_transaction(reader, operation, seconds)
        return reader_unresponsive(reader, operation, seconds)

    def _disconnect(self, handle: Any) -> None:
        """Disconnect ``handle`` leaving the card as it is; bounded, errors ignored."""
        with_context = self._context
        if with_context is None:
            return
        try:
            self.bounded(
                lambda: scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD),
                CLOSE_TIMEOUT,
                lambda: service_unresponsive("SCardDisconnect", CLOSE_TIMEOUT),
            )
        except PcscError:
            return

    def _is_mute(self, reader: str) -> bool:
        try:
            (info,) = self.reader_states([reader])
        except (PcscError, ValueError):
            return False
        return ReaderState.MUTE in info.state


class CardConnection:
    """A SHARED connection to the card in one reader; a context manager.

    Its calls are bounded like the context's; after a call on its context was abandoned, the
    connection is dead and every call raises the error that ended it.
    """

    def __init__(
        self, owner: PcscContext, reader: str, handle: Any, protocol: Protocol | None
    ) -> None:
        self.reader = reader
        """The reader's name."""
        self._owner = owner
        self._generation = owner.generation
        self._handle: Any = handle
        self._protocol = protocol
        self._atr = b""
        self._dead: PcscError | None = None
        self.last_seconds: float | None = None
        """How long the last :meth:`transmit` took in PC/SC, in seconds (timed in the worker
        thread, so the hand-over between threads is not counted)."""

    def __enter__(self) -> CardConnection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.disconnect()

    @property
    def atr(self) -> bytes:
        """The card's ATR (as of the connection or the last reconnect)."""
        return self._atr

    @property
    def active_protocol(self) -> Protocol | None:
        """The protocol the connection negotiated; None if PC/SC reported none (direct)."""
        return self._protocol

    def transmit(self, apdu: bytes) -> tuple[bytes, int, int]:
        """Send a command APDU; return the response data, SW1 and SW2.

        Raises ApduRefused (an InputError) for a command not on the allowlist of
        :mod:`cardcheck.pcsc.apdus`, before anything is sent; PcscError when the exchange
        fails, the card does not answer within :data:`TRANSMIT_TIMEOUT`, or it vanishes
        mid-command (an answer without a status word).
        """
        check_apdu(apdu)
        handle = self._live_handle()
        pci = _PROTOCOL_BITS[self._protocol] if self._protocol is not None else 0
        command = list(apdu)

        def work() -> tuple[int, list[int], float]:
            start = time.perf_counter()
            result, response = scard.SCardTransmit(handle, pci, command)
            return result, response, time.perf_counter() - start

        result, response, seconds = self._bounded(
            work, "SCardTransmit", TRANSMIT_TIMEOUT, self._card_silent
        )
        _check(result, "SCardTransmit", self.reader)
        if len(response) < 2:
            raise card_went_silent(self.reader, "SCardTransmit")
        self.last_seconds = seconds
        return bytes(response[:-2]), response[-2], response[-1]

    def reconnect(
        self, kind: ResetKind, protocols: Iterable[Protocol] = DEFAULT_PROTOCOLS
    ) -> bytes:
        """Reset the card (warm reset, or power off and on) and return the ATR it gives then."""
        handle = self._live_handle()
        mask = _protocol_mask(protocols)
        disposition = _RESET_DISPOSITION[kind]
        result, active = self._bounded(
            lambda: scard.SCardReconnect(handle, scard.SCARD_SHARE_SHARED, mask, disposition),
            "SCardReconnect",
            TRANSMIT_TIMEOUT,
            self._card_silent,
        )
        _check(result, "SCardReconnect", self.reader)
        self._protocol = _protocol_of(active)
        return self.refresh_atr()

    def refresh_atr(self) -> bytes:
        """Read the card's ATR again (SCardStatus) and return it."""
        handle = self._live_handle()
        result, _reader, _state, _protocol, atr = self._bounded(
            lambda: scard.SCardStatus(handle),
            "SCardStatus",
            self._owner.timeout,
            lambda op, seconds: self._owner.blocked(self.reader, op, seconds),
        )
        _check(result, "SCardStatus", self.reader)
        self._atr = bytes(atr)
        return self._atr

    def attributes(self) -> ReaderAttributes:
        """The attributes the reader gives (None for each one it does not)."""
        return _read_attributes(self._owner, self._live_handle(), self.reader)

    def disconnect(self) -> None:
        """Leave the card as it is and close the connection (safe to call twice; bounded)."""
        handle, self._handle = self._handle, None
        if handle is not None and self._usable():
            self._owner._disconnect(handle)

    def _usable(self) -> bool:
        return self._dead is None and self._generation == self._owner.generation

    def _card_silent(self, operation: str, seconds: float) -> PcscError:
        return card_unresponsive(self.reader, operation, seconds)

    def _bounded(
        self,
        work: Callable[[], _T],
        operation: str,
        timeout: float,
        on_timeout: Callable[[str, float], PcscError],
    ) -> _T:
        def failed() -> PcscError:
            self._dead = on_timeout(operation, timeout)
            return self._dead

        return self._owner.bounded(work, timeout, failed)

    def _live_handle(self) -> Any:
        self._owner.settle()
        if self._handle is None:
            raise RuntimeError("the card connection is closed")
        if self._dead is not None:
            raise self._dead
        if self._generation != self._owner.generation:
            raise card_unresponsive(self.reader, "an earlier PC/SC call", self._owner.timeout)
        return self._handle


def _text(value: bytes | None) -> str | None:
    if not value:
        return None
    text = value.split(b"\x00", 1)[0].decode("utf-8", errors="replace").strip()
    return text or None


def _dword(value: bytes | None) -> int | None:
    if value is None or len(value) < 4:
        return None
    (number,) = struct.unpack("<I", value[:4])
    return int(number)


_ATTRIBUTES = (
    "VENDOR_NAME",
    "VENDOR_IFD_VERSION",
    "VENDOR_IFD_SERIAL_NO",
    "MAXINPUT",
    "CHANNEL_ID",
    "DEVICE_FRIENDLY_NAME",
    "DEVICE_SYSTEM_NAME",
)
"""The reader attributes cardcheck reads (SCARD_ATTR_*), all in one bounded call."""


def _read_attributes(owner: PcscContext, handle: Any, reader: str) -> ReaderAttributes:
    codes = [getattr(scard, f"SCARD_ATTR_{name}") for name in _ATTRIBUTES]
    answers = owner.bounded(
        lambda: [scard.SCardGetAttrib(handle, code) for code in codes],
        owner.timeout,
        lambda: owner.blocked(reader, "SCardGetAttrib", owner.timeout),
    )
    values: dict[str, bytes | None] = {}
    for name, (result, value) in zip(_ATTRIBUTES, answers, strict=True):
        code = normalize(result)
        if code in UNAVAILABLE_ATTRIBUTE:
            values[name] = None
            continue
        _check(code, "SCardGetAttrib", reader)
        values[name] = bytes(value)
    version = _dword(values["VENDOR_IFD_VERSION"])
    channel_id = _dword(values["CHANNEL_ID"])
    return ReaderAttributes(
        vendor_name=_text(values["VENDOR_NAME"]),
        ifd_version=None if version is None else decode_ifd_version(version),
        serial_number=_text(values["VENDOR_IFD_SERIAL_NO"]),
        max_input=_dword(values["MAXINPUT"]),
        channel_id=channel_id,
        usb=None if channel_id is None else decode_channel_id(channel_id),
        friendly_name=_text(values["DEVICE_FRIENDLY_NAME"]),
        system_name=_text(values["DEVICE_SYSTEM_NAME"]),
    )
