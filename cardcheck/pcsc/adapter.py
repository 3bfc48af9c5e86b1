"""The one module of cardcheck that talks to pyscard (smartcard.scard, the low-level calls).

Every PC/SC return code is checked here and turned into a :class:`~cardcheck.pcsc.errors.PcscError`
with a plain message and a hint. cardcheck never takes a card exclusively: connections are
SHARED (or DIRECT, without powering the card, to read reader attributes).

    with open_context() as pcsc:
        states = pcsc.reader_states()
        with pcsc.connect(states[0].name) as card:
            data, sw1, sw2 = card.transmit(bytes.fromhex("00A40000023F00"))
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Any

from smartcard import scard

from cardcheck.pcsc.errors import (
    UNAVAILABLE_ATTRIBUTE,
    PcscError,
    PcscResult,
    card_is_mute,
    card_went_silent,
    normalize,
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


def open_context() -> PcscContext:
    """Connect to the PC/SC service. Raises PcscError (pcscd not running...)."""
    return PcscContext()


class PcscContext:
    """A PC/SC context: list readers, read their states, wait for changes, connect to cards.

    A context manager; :meth:`close` releases it. Not for use by several threads at once.
    """

    def __init__(self) -> None:
        try:
            result, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        except scard.error as exc:  # pragma: no cover - pyscard raises only on bad arguments
            raise translate(PcscResult.NO_SERVICE, "SCardEstablishContext") from exc
        _check(result, "SCardEstablishContext")
        self._context: Any = context
        self._pnp_state = 0

    def __enter__(self) -> PcscContext:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Release the context (errors are ignored: the service may be gone already)."""
        if self._context is not None:
            scard.SCardReleaseContext(self._context)
            self._context = None

    def list_readers(self) -> tuple[str, ...]:
        """The names of the readers pcscd knows, in its order; empty when there is none."""
        result, readers = scard.SCardListReaders(self._context, [])
        if normalize(result) == PcscResult.NO_READERS_AVAILABLE:
            return ()
        _check(result, "SCardListReaders")
        return tuple(readers)

    def reader_states(self, readers: Sequence[str] | None = None) -> tuple[ReaderInfo, ...]:
        """The current state of ``readers`` (default: all), without connecting to any card."""
        names = self.list_readers() if readers is None else tuple(readers)
        if not names:
            return ()
        result, states = scard.SCardGetStatusChange(
            self._context, 0, [(name, scard.SCARD_STATE_UNAWARE) for name in names]
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
        sleeps in pcscd. Keep ``timeout`` short (1-2 s) to stay responsive to Ctrl-C.
        """
        query = [(info.name, info.event_state) for info in known]
        query.append((PNP_NOTIFICATION, self._pnp_state))
        millis = max(0, int(timeout * 1000))
        result, states = scard.SCardGetStatusChange(self._context, millis, query)
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

    def connect(
        self, reader: str, protocols: Iterable[Protocol] = DEFAULT_PROTOCOLS
    ) -> CardConnection:
        """Connect to the card in ``reader`` in SHARED mode (never exclusive).

        Raises PcscError: no card, card held exclusively by another program (sharing
        violation), mute or unpowered card, protocol mismatch...
        """
        result, handle, active = scard.SCardConnect(
            self._context, reader, scard.SCARD_SHARE_SHARED, _protocol_mask(protocols)
        )
        code = normalize(result)
        if code == PcscResult.NO_SMARTCARD and self._is_mute(reader):
            raise card_is_mute(reader, "SCardConnect")
        _check(code, "SCardConnect", reader)
        return CardConnection(reader, handle, _protocol_of(active))

    def reader_attributes(self, reader: str) -> ReaderAttributes:
        """The attributes ``reader`` gives, read without powering or disturbing its card.

        Uses a DIRECT connection (works without a card). When even that is refused (the card
        is held exclusively), every attribute is None: attributes are never an error.
        """
        result, handle, _active = scard.SCardConnect(
            self._context, reader, scard.SCARD_SHARE_DIRECT, 0
        )
        code = normalize(result)
        if code == PcscResult.SHARING_VIOLATION:
            return ReaderAttributes()
        _check(code, "SCardConnect", reader)
        try:
            return _read_attributes(handle, reader)
        finally:
            scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)

    def _is_mute(self, reader: str) -> bool:
        try:
            (info,) = self.reader_states([reader])
        except (PcscError, ValueError):
            return False
        return ReaderState.MUTE in info.state


class CardConnection:
    """A SHARED connection to the card in one reader; a context manager."""

    def __init__(self, reader: str, handle: Any, protocol: Protocol | None) -> None:
        self.reader = reader
        """The reader's name."""
        self._handle: Any = handle
        self._protocol = protocol
        self._atr = self._status_atr("SCardStatus")

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

        Raises PcscError when the exchange fails, including a card that vanishes mid-command
        (an answer without a status word).
        """
        pci = _PROTOCOL_BITS[self._protocol] if self._protocol is not None else 0
        result, response = scard.SCardTransmit(self._live_handle(), pci, list(apdu))
        _check(result, "SCardTransmit", self.reader)
        if len(response) < 2:
            raise card_went_silent(self.reader, "SCardTransmit")
        return bytes(response[:-2]), response[-2], response[-1]

    def reconnect(
        self, kind: ResetKind, protocols: Iterable[Protocol] = DEFAULT_PROTOCOLS
    ) -> bytes:
        """Reset the card (warm reset, or power off and on) and return the ATR it gives then."""
        result, active = scard.SCardReconnect(
            self._live_handle(),
            scard.SCARD_SHARE_SHARED,
            _protocol_mask(protocols),
            _RESET_DISPOSITION[kind],
        )
        _check(result, "SCardReconnect", self.reader)
        self._protocol = _protocol_of(active)
        self._atr = self._status_atr("SCardStatus")
        return self._atr

    def attributes(self) -> ReaderAttributes:
        """The attributes the reader gives (None for each one it does not)."""
        return _read_attributes(self._live_handle(), self.reader)

    def disconnect(self) -> None:
        """Leave the card as it is and close the connection (safe to call twice)."""
        if self._handle is not None:
            scard.SCardDisconnect(self._handle, scard.SCARD_LEAVE_CARD)
            self._handle = None

    def _live_handle(self) -> Any:
        if self._handle is None:
            raise RuntimeError("the card connection is closed")
        return self._handle

    def _status_atr(self, operation: str) -> bytes:
        result, _reader, _state, _protocol, atr = scard.SCardStatus(self._live_handle())
        _check(result, operation, self.reader)
        return bytes(atr)


def _attribute(handle: Any, attribute: int, reader: str) -> bytes | None:
    result, value = scard.SCardGetAttrib(handle, attribute)
    code = normalize(result)
    if code in UNAVAILABLE_ATTRIBUTE:
        return None
    _check(code, "SCardGetAttrib", reader)
    return bytes(value)


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


def _read_attributes(handle: Any, reader: str) -> ReaderAttributes:
    def get(name: str) -> bytes | None:
        return _attribute(handle, getattr(scard, f"SCARD_ATTR_{name}"), reader)

    version = _dword(get("VENDOR_IFD_VERSION"))
    channel_id = _dword(get("CHANNEL_ID"))
    return ReaderAttributes(
        vendor_name=_text(get("VENDOR_NAME")),
        ifd_version=None if version is None else decode_ifd_version(version),
        serial_number=_text(get("VENDOR_IFD_SERIAL_NO")),
        max_input=_dword(get("MAXINPUT")),
        channel_id=channel_id,
        usb=None if channel_id is None else decode_channel_id(channel_id),
        friendly_name=_text(get("DEVICE_FRIENDLY_NAME")),
        system_name=_text(get("DEVICE_SYSTEM_NAME")),
    )
