"""Values the PC/SC adapter returns: reader states, reader attributes, watch events.

Plain frozen values with ``to_json`` forms (a public contract: see the README). Pure: no
pyscard, no terminal. :func:`events_between` turns two snapshots of a reader into the events
``cardcheck watch`` reports.
"""

from __future__ import annotations

import typing
from enum import Flag, StrEnum
from typing import Any

from cardcheck.hextext import spaced_hex
from cardcheck.values import Value, field

if typing.TYPE_CHECKING:
    from datetime import datetime


class ReaderState(Flag):
    """The reader state bits of SCardGetStatusChange (low 16 bits of dwEventState)."""

    IGNORE = 0x0001
    CHANGED = 0x0002
    UNKNOWN = 0x0004
    """The reader is not known (any more)."""
    UNAVAILABLE = 0x0008
    """The reader exists but its state cannot be read (driver problem, unplugging)."""
    EMPTY = 0x0010
    """No card in the reader."""
    PRESENT = 0x0020
    """A card is in the reader."""
    ATRMATCH = 0x0040
    EXCLUSIVE = 0x0080
    """A program holds the card exclusively: nobody else can connect."""
    INUSE = 0x0100
    """At least one program is connected to the card (shared)."""
    MUTE = 0x0200
    """A card is there but gave no ATR."""
    UNPOWERED = 0x0400
    """The card is not powered (pcscd powers idle cards down)."""

    @classmethod
    def from_event_state(cls, event_state: int) -> ReaderState:
        """The flags of a raw dwEventState (the event counter in the high word is dropped)."""
        return cls(event_state & _KNOWN_BITS)

    def labels(self) -> tuple[str, ...]:
        """The JSON names of the meaningful flags, in a fixed order (CHANGED, IGNORE left out)."""
        return tuple(label for flag, label in _LABELS if flag in self)


_LABELS: tuple[tuple[ReaderState, str], ...] = (
    (ReaderState.UNKNOWN, "unknown"),
    (ReaderState.UNAVAILABLE, "unavailable"),
    (ReaderState.EMPTY, "empty"),
    (ReaderState.PRESENT, "present"),
    (ReaderState.MUTE, "mute"),
    (ReaderState.UNPOWERED, "unpowered"),
    (ReaderState.EXCLUSIVE, "exclusive"),
    (ReaderState.INUSE, "in-use"),
)
_KNOWN_BITS = 0x07FF
_BUSY = ReaderState.INUSE | ReaderState.EXCLUSIVE


class Protocol(StrEnum):
    """A transmission protocol of a connection."""

    T0 = "T=0"
    T1 = "T=1"
    RAW = "raw"


class ResetKind(StrEnum):
    """How a connection resets its card (SCardReconnect's initialisation)."""

    WARM = "warm"
    """SCARD_RESET_CARD: a warm reset (RST low, power kept)."""
    COLD = "cold"
    """SCARD_UNPOWER_CARD: power off, then power on again."""


class ReaderInfo(Value):
    """One reader as SCardGetStatusChange sees it, without connecting to the card."""

    name: str
    """The reader's PC/SC name, e.g. ``Virtual PCD 00 00``."""
    state: ReaderState
    """Its state flags."""
    atr: bytes | None
    """The card's ATR as pcscd read it; None when there is no card or it gave none."""
    event_state: int = field(default=0, compare=False)
    """The raw dwEventState (with pcscd's event counter in the high word), for the next wait."""

    @property
    def card_present(self) -> bool:
        """Whether a card is in the reader (answering or not)."""
        return ReaderState.PRESENT in self.state

    @property
    def busy(self) -> bool:
        """Whether another program is connected to the card (shared or exclusively)."""
        return bool(self.state & _BUSY)


class UsbChannel(Value):
    """Where a USB reader is attached, from SCARD_ATTR_CHANNEL_ID."""

    bus: int
    """USB bus number (``busnum`` in sysfs)."""
    address: int
    """USB device address on that bus (``devnum`` in sysfs)."""


def decode_channel_id(value: int) -> UsbChannel | None:
    """USB bus/address of a CHANNEL_ID (``0x0020 << 16 | bus << 8 | address``); None if not USB."""
    if (value >> 16) & 0xFFFF != 0x0020:
        return None
    return UsbChannel(bus=(value >> 8) & 0xFF, address=value & 0xFF)


def decode_ifd_version(value: int) -> str:
    """SCARD_ATTR_VENDOR_IFD_VERSION (``0xMMmmbbbb``) written ``major.minor.build``."""
    return f"{(value >> 24) & 0xFF}.{(value >> 16) & 0xFF}.{value & 0xFFFF}"


class ReaderAttributes(Value):
    """Reader attributes read with SCardGetAttrib; None where the reader does not give one."""

    vendor_name: str | None = None
    """SCARD_ATTR_VENDOR_NAME."""
    ifd_version: str | None = None
    """SCARD_ATTR_VENDOR_IFD_VERSION as ``major.minor.build``."""
    serial_number: str | None = None
    """SCARD_ATTR_VENDOR_IFD_SERIAL_NO."""
    max_input: int | None = None
    """SCARD_ATTR_MAXINPUT: the largest command the reader accepts, in bytes."""
    channel_id: int | None = None
    """SCARD_ATTR_CHANNEL_ID, raw."""
    usb: UsbChannel | None = None
    """The channel decoded to USB bus/address; None when absent or not USB."""
    friendly_name: str | None = None
    """SCARD_ATTR_DEVICE_FRIENDLY_NAME (pcscd's name for the reader)."""
    system_name: str | None = None
    """SCARD_ATTR_DEVICE_SYSTEM_NAME (the device, e.g. ``usb:076b/3021:libudev:0:...``)."""

    def to_json(self) -> dict[str, object]:
        """The ``attributes`` object of ``cardcheck readers --json`` (absent ones are null)."""
        return {
            "vendor_name": self.vendor_name,
            "ifd_version": self.ifd_version,
            "serial_number": self.serial_number,
            "max_input": self.max_input,
            "channel_id": None if self.channel_id is None else f"0x{self.channel_id:08X}",
            "usb": None if self.usb is None else {"bus": self.usb.bus, "address": self.usb.address},
            "friendly_name": self.friendly_name,
            "system_name": self.system_name,
        }

    @property
    def empty(self) -> bool:
        """True when the reader gave no attribute at all."""
        return self == ReaderAttributes()


class Identification(typing.Protocol):
    """What cardcheck.db's ``Match`` offers: JSON with ``descriptions`` (kept abstract here)."""

    def to_json(self) -> dict[str, object]: ...


def hex_atr(atr: bytes | None) -> str | None:
    """``3B 02 14 50``-style text of an ATR; None stays None."""
    if atr is None:
        return None
    return spaced_hex(atr)


def first_description(identified: tuple[Identification, ...]) -> str | None:
    """The first description of the first exact match (else of the first match), for one-line
    views; None when the card is unknown."""
    forms = [match.to_json() for match in identified]
    forms.sort(key=lambda form: form.get("exact") is not True)
    for form in forms:
        descriptions: Any = form.get("descriptions")
        if isinstance(descriptions, list | tuple) and descriptions:
            return str(descriptions[0])
    return None


class ReaderReport(Value):
    """Everything ``cardcheck readers`` shows about one reader."""

    info: ReaderInfo
    """Its state and the card's ATR."""
    protocol: Protocol | None
    """The protocol a shared connection negotiated; None without a (usable) card."""
    identified: tuple[Identification, ...]
    """Matches of the ATR in the ATR list; empty when unknown or no list."""
    attributes: ReaderAttributes
    """Reader attributes (all None when the reader gives none)."""
    note: str | None = None
    """Why something could not be read (card held exclusively, mute card...); None when fine."""

    def to_json(self) -> dict[str, object]:
        """One element of ``readers`` in ``cardcheck readers --json``."""
        return {
            "name": self.info.name,
            "state": list(self.info.state.labels()),
            "atr": hex_atr(self.info.atr),
            "protocol": None if self.protocol is None else str(self.protocol),
            "identified": [m.to_json() for m in self.identified],
            "attributes": self.attributes.to_json(),
            "note": self.note,
        }


class EventKind(StrEnum):
    """What ``cardcheck watch`` reports."""

    PRESENT = "present"
    """Initial state: a card is in the reader."""
    EMPTY = "empty"
    """Initial state: no card in the reader."""
    INSERTED = "inserted"
    """A card was inserted and gave its ATR."""
    REMOVED = "removed"
    """The card was removed."""
    MUTE = "mute"
    """A card is there but gives no ATR."""
    IN_USE = "in-use"
    """A program connected to the card."""
    RELEASED = "released"
    """No program is connected to the card any more."""
    READER_ADDED = "reader-added"
    """A reader appeared."""
    READER_REMOVED = "reader-removed"
    """A reader disappeared."""


class Event(Value):
    """One line of ``cardcheck watch``."""

    time: datetime
    """When cardcheck saw it (local time zone)."""
    reader: str
    """The reader's name."""
    kind: EventKind
    """What happened."""
    state: ReaderState
    """The reader's state after the event."""
    atr: bytes | None = None
    """The card's ATR for present/inserted; None otherwise."""
    identified: tuple[Identification, ...] | None = None
    """Matches of the ATR for present/inserted; None when identification does not apply."""

    def to_json(self) -> dict[str, object]:
        """``{"time", "reader", "event", "atr"?, "identified"?, "state"}``."""
        out: dict[str, object] = {
            "time": self.time.isoformat(timespec="milliseconds"),
            "reader": self.reader,
            "event": str(self.kind),
        }
        if self.atr is not None:
            out["atr"] = hex_atr(self.atr)
        if self.identified is not None:
            out["identified"] = [m.to_json() for m in self.identified]
        out["state"] = list(self.state.labels())
        return out


def initial_event(info: ReaderInfo) -> EventKind:
    """The first event of a reader when watching starts: ``present`` or ``empty``."""
    return EventKind.PRESENT if info.card_present else EventKind.EMPTY


def events_between(before: ReaderInfo | None, after: ReaderInfo | None) -> tuple[EventKind, ...]:
    """What happened to one reader between two snapshots (None: the reader was not there).

    A card swapped between two snapshots (another ATR) gives ``removed`` then ``inserted``.
    """
    if before is None and after is None:
        return ()
    if after is None:
        return (EventKind.READER_REMOVED,)
    if before is None:
        return (EventKind.READER_ADDED, *_card_arrival(after))
    events: list[EventKind] = []
    was, now = before.card_present, after.card_present
    if was and not now:
        return (EventKind.REMOVED,)
    if not was and now:
        return _card_arrival(after)
    if was and now:
        was_mute = ReaderState.MUTE in before.state
        now_mute = ReaderState.MUTE in after.state
        if not was_mute and not now_mute and before.atr != after.atr:
            events += [EventKind.REMOVED, EventKind.INSERTED]
        elif now_mute and not was_mute:
            events.append(EventKind.MUTE)
        elif was_mute and not now_mute:
            events.append(EventKind.INSERTED)
        if after.busy and not before.busy:
            events.append(EventKind.IN_USE)
        elif before.busy and not after.busy:
            events.append(EventKind.RELEASED)
    return tuple(events)


def _card_arrival(after: ReaderInfo) -> tuple[EventKind, ...]:
    if not after.card_present:
        return ()
    first = EventKind.MUTE if ReaderState.MUTE in after.state else EventKind.INSERTED
    if after.busy:
        return (first, EventKind.IN_USE)
    return (first,)


def match_reader(names: typing.Sequence[str], wanted: str) -> str | None:
    """The reader ``--reader wanted`` means among ``names``: the one rule of every command.

    The exact name wins; else the one name that starts with ``wanted``; else the one name
    that contains it (both ignoring case). None when no name matches. Raises InputError
    (exit 2) naming the candidates when several match at the first step that finds any.
    """
    from cardcheck.errors import InputError

    if wanted in names:
        return wanted
    folded = wanted.casefold()
    for how, test in (
        ("start with", lambda name: name.casefold().startswith(folded)),
        ("contain", lambda name: folded in name.casefold()),
    ):
        found = [name for name in names if test(name)]
        if len(found) == 1:
            return found[0]
        if found:
            listed = ", ".join(repr(name) for name in found)
            raise InputError(
                f"--reader {wanted!r} is ambiguous: {len(found)} readers {how} it: {listed}",
                "give the reader's whole name, or enough of it to tell them apart "
                "(`cardcheck readers` lists the names)",
                code="ambiguous-reader",
            )
    return None
