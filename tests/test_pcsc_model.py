"""Pure parts of cardcheck.pcsc: error translation, state flags, attributes, watch events."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from cardcheck.errors import ExitCode
from cardcheck.pcsc.errors import PcscResult, normalize, result_name, translate
from cardcheck.pcsc.model import (
    Event,
    EventKind,
    ReaderAttributes,
    ReaderInfo,
    ReaderState,
    UsbChannel,
    decode_channel_id,
    decode_ifd_version,
    events_between,
)

# (code, stable error code, words the message or hint must contain) - REFERENCE §5.
TRANSLATIONS = [
    (PcscResult.NO_SERVICE, "pcsc-no-service", ["not running", "systemctl start pcscd"]),
    (PcscResult.SERVICE_STOPPED, "pcsc-service-stopped", ["flatpak", "version"]),
    (PcscResult.NO_READERS_AVAILABLE, "no-readers", ["USB", "libccid", "brltty"]),
    (PcscResult.SHARING_VIOLATION, "sharing-violation", ["another program", "scdaemon"]),
    (PcscResult.W_REMOVED_CARD, "card-removed", ["removed"]),
    (PcscResult.W_UNRESPONSIVE_CARD, "card-unresponsive", ["reinsert", "contacts", "voltage"]),
    (PcscResult.W_UNPOWERED_CARD, "card-unpowered", ["not powered", "voltage"]),
    (PcscResult.W_SECURITY_VIOLATION, "access-denied", ["polkit"]),
    (PcscResult.NO_SMARTCARD, "no-card", ["no card"]),
    (PcscResult.UNKNOWN_READER, "unknown-reader", ["cardcheck readers"]),
    (PcscResult.F_COMM_ERROR, "pcsc-comm-error", ["lost the connection"]),
]


@pytest.mark.parametrize(("result", "code", "words"), TRANSLATIONS)
def test_translation(result: PcscResult, code: str, words: list[str]) -> None:
    err = translate(result, "SCardConnect", "Reader 00 00")
    assert err.code == code
    assert err.exit_code is ExitCode.ENVIRONMENT
    text = f"{err.message}\n{err.hint}"
    for word in words:
        assert word in text
    assert err.result == int(result)
    assert result_name(result) in (err.hint or "")


def test_negative_codes_from_pyscard_are_masked() -> None:
    negative = int(PcscResult.NO_SERVICE) - (1 << 32)
    assert normalize(negative) == PcscResult.NO_SERVICE
    assert translate(negative, "SCardEstablishContext").code == "pcsc-no-service"
    assert result_name(negative) == "SCARD_E_NO_SERVICE"
    assert result_name(PcscResult.W_REMOVED_CARD) == "SCARD_W_REMOVED_CARD"


def test_unknown_code_is_named_in_hex() -> None:
    err = translate(0x80100099, "SCardTransmit")
    assert err.code == "pcsc-error"
    assert "0x80100099" in err.message


def test_channel_id_usb() -> None:
    assert decode_channel_id(0x00200105) == UsbChannel(bus=1, address=5)
    assert decode_channel_id(0x8C7B) is None  # vpcd's CHANNELID: not USB


def test_ifd_version() -> None:
    assert decode_ifd_version(0x01050002) == "1.5.2"


def test_state_labels_drop_changed_and_counter() -> None:
    state = ReaderState.from_event_state(0x0005_0122)
    assert state.labels() == ("present", "in-use")
    assert ReaderState.CHANGED in state


def test_attributes_json_nulls() -> None:
    assert ReaderAttributes().empty
    data = ReaderAttributes(channel_id=0x00200105, usb=UsbChannel(1, 5)).to_json()
    assert data["channel_id"] == "0x00200105"
    assert data["usb"] == {"bus": 1, "address": 5}
    assert data["vendor_name"] is None


def _info(state: ReaderState, atr: str | None = None) -> ReaderInfo:
    return ReaderInfo("R", state, None if atr is None else bytes.fromhex(atr))


EMPTY = _info(ReaderState.EMPTY)
CARD = _info(ReaderState.PRESENT, "3B021450")
OTHER = _info(ReaderState.PRESENT, "3B021451")
BUSY = _info(ReaderState.PRESENT | ReaderState.INUSE, "3B021450")
HELD = _info(ReaderState.PRESENT | ReaderState.EXCLUSIVE, "3B021450")
MUTE = _info(ReaderState.PRESENT | ReaderState.MUTE)

E = EventKind
EVENTS = [
    (EMPTY, CARD, (E.INSERTED,)),
    (CARD, EMPTY, (E.REMOVED,)),
    (EMPTY, MUTE, (E.MUTE,)),
    (CARD, MUTE, (E.MUTE,)),
    (MUTE, CARD, (E.INSERTED,)),
    (CARD, BUSY, (E.IN_USE,)),
    (BUSY, CARD, (E.RELEASED,)),
    (CARD, HELD, (E.IN_USE,)),
    (BUSY, EMPTY, (E.REMOVED,)),
    (CARD, OTHER, (E.REMOVED, E.INSERTED)),
    (EMPTY, BUSY, (E.INSERTED, E.IN_USE)),
    (None, EMPTY, (E.READER_ADDED,)),
    (None, CARD, (E.READER_ADDED, E.INSERTED)),
    (CARD, None, (E.READER_REMOVED,)),
    (CARD, CARD, ()),
    (EMPTY, EMPTY, ()),
]


@pytest.mark.parametrize(("before", "after", "expected"), EVENTS)
def test_events_between(
    before: ReaderInfo | None, after: ReaderInfo | None, expected: tuple[EventKind, ...]
) -> None:
    assert events_between(before, after) == expected


def test_event_json_has_milliseconds() -> None:
    when = datetime(2026, 5, 26, 12, 0, 1, 234567, tzinfo=timezone(timedelta(hours=2)))
    event = Event(when, "R", EventKind.INSERTED, ReaderState.PRESENT, bytes.fromhex("3B021450"), ())
    assert event.to_json() == {
        "time": "2026-05-26T12:00:01.234+02:00",
        "reader": "R",
        "event": "inserted",
        "atr": "3B 02 14 50",
        "identified": [],
        "state": ["present"],
    }
    removed = Event(when, "R", EventKind.REMOVED, ReaderState.EMPTY)
    assert set(removed.to_json()) == {"time", "reader", "event", "state"}
