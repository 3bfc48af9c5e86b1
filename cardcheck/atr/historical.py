"""Historical bytes of an ATR (ISO/IEC 7816-4 and PC/SC Part 3): category, compact-TLV objects.

:func:`decode_historical` turns the historical bytes into a :class:`HistoricalInfo` value and
never raises: what is malformed becomes a warning finding (ISO/IEC 7816-3 validity of an ATR
does not depend on its historical bytes).
"""

from __future__ import annotations

import functools
from enum import StrEnum

from cardcheck.atr import pcsc_part3
from cardcheck.findings import Finding, Severity
from cardcheck.hextext import spaced_hex
from cardcheck.values import Value, field

# --- closed sets -----------------------------------------------------------------------------


class HistoricalCategory(StrEnum):
    """What the category indicator (first historical byte) announces."""

    EMPTY = "empty"
    """No historical bytes."""
    COMPACT_TLV_STATUS_LAST = "compact-tlv-status-last"
    """``00``: compact-TLV objects, then a mandatory 3-byte status indicator."""
    COMPACT_TLV = "compact-tlv"
    """``80``: compact-TLV objects, the status indicator optional (tag 8)."""
    DIR_REFERENCE = "dir-reference"
    """``10``: the next byte is a DIR data reference."""
    RFU = "rfu"
    """``81``-``8F``: reserved for future use."""
    PROPRIETARY = "proprietary"
    """Any other first byte: the card's own format."""


class LifeCycle(StrEnum):
    """Card life cycle status (LCS), ISO/IEC 7816-4."""

    NOT_REPORTED = "not-reported"
    """``00``: no information given."""
    CREATION = "creation"
    """``01``."""
    INITIALISATION = "initialisation"
    """``03``."""
    ACTIVATED = "activated"
    """``05``, ``07``: operational state, activated."""
    DEACTIVATED = "deactivated"
    """``04``, ``06``: operational state, deactivated."""
    TERMINATION = "termination"
    """``0C``-``0F``."""
    PROPRIETARY = "proprietary"
    """``10`` and above."""


class ServiceAccess(StrEnum):
    """How EF.DIR and EF.ATR are read (card service data, bits 4-2)."""

    READ_BINARY = "read-binary"
    """READ BINARY (transparent structure)."""
    READ_RECORD = "read-record"
    """READ RECORD(S) (record structure)."""
    GET_DATA = "get-data"
    """GET DATA (TLV structure)."""


class SelectionMethod(StrEnum):
    """DF and EF selection methods (first card capabilities byte)."""

    FULL_DF_NAME = "full-df-name"
    PARTIAL_DF_NAME = "partial-df-name"
    PATH = "path"
    FILE_IDENTIFIER = "file-identifier"
    IMPLICIT = "implicit"
    SHORT_EF_IDENTIFIER = "short-ef-identifier"
    RECORD_NUMBER = "record-number"
    RECORD_IDENTIFIER = "record-identifier"


class WriteBehaviour(StrEnum):
    """Behaviour of write functions (data coding byte, bits 7-6)."""

    ONE_TIME = "one-time"
    PROPRIETARY = "proprietary"
    WRITE_OR = "write-or"
    WRITE_AND = "write-and"


# --- tables ----------------------------------------------------------------------------------

TAG_NAMES: dict[int, str] = {
    0x1: "country code",
    0x2: "issuer identification number",
    0x3: "card service data",
    0x4: "initial access data",
    0x5: "card issuer's data",
    0x6: "pre-issuing data",
    0x7: "card capabilities",
    0x8: "status indicator",
    0xF: "application identifier",
}
"""Compact-TLV tags of the historical bytes (ISO/IEC 7816-4); others are not defined."""

PCSC_AID_HEADER = 0x4F
"""PC/SC Part 3 writes its AID as BER-TLV tag 4F, length 0C, right after the category byte."""

KNOWN_RIDS: dict[bytes, str] = {
    pcsc_part3.PCSC_RID: "PC/SC Workgroup",
    bytes.fromhex("A000000003"): "Visa",
    bytes.fromhex("A000000004"): "Mastercard",
    bytes.fromhex("A000000151"): "GlobalPlatform",
    bytes.fromhex("A000000308"): "NIST (PIV)",
}
"""Registered application provider identifiers named in the output."""

_SELECTION_BITS: tuple[tuple[int, SelectionMethod], ...] = (
    (0x80, SelectionMethod.FULL_DF_NAME),
    (0x40, SelectionMethod.PARTIAL_DF_NAME),
    (0x20, SelectionMethod.PATH),
    (0x10, SelectionMethod.FILE_IDENTIFIER),
    (0x08, SelectionMethod.IMPLICIT),
    (0x04, SelectionMethod.SHORT_EF_IDENTIFIER),
    (0x02, SelectionMethod.RECORD_NUMBER),
    (0x01, SelectionMethod.RECORD_IDENTIFIER),
)

_SERVICE_ACCESS: dict[int, ServiceAccess] = {
    0b100: ServiceAccess.READ_BINARY,
    0b000: ServiceAccess.READ_RECORD,
    0b010: ServiceAccess.GET_DATA,
}

_SW1_CLASSES: dict[int, str] = {
    0x61: "normal processing, response bytes still available",
    0x62: "warning, state of non-volatile memory unchanged",
    0x63: "warning, state of non-volatile memory changed",
    0x64: "execution error, state of non-volatile memory unchanged",
    0x65: "execution error, state of non-volatile memory changed",
    0x66: "security-related issue",
    0x67: "wrong length",
    0x68: "functions in CLA not supported",
    0x69: "command not allowed",
    0x6A: "wrong parameters P1-P2",
    0x6B: "wrong parameters P1-P2",
    0x6C: "wrong Le field",
    0x6D: "instruction code not supported or invalid",
    0x6E: "class not supported",
    0x6F: "no precise diagnosis",
}


def life_cycle(lcs: int) -> LifeCycle | None:
    """Meaning of a life cycle status byte; None for the reserved values (02, 08-0B)."""
    if lcs == 0x00:
        return LifeCycle.NOT_REPORTED
    if lcs == 0x01:
        return LifeCycle.CREATION
    if lcs == 0x03:
        return LifeCycle.INITIALISATION
    if lcs in (0x05, 0x07):
        return LifeCycle.ACTIVATED
    if lcs in (0x04, 0x06):
        return LifeCycle.DEACTIVATED
    if 0x0C <= lcs <= 0x0F:
        return LifeCycle.TERMINATION
    if lcs >= 0x10:
        return LifeCycle.PROPRIETARY
    return None


def status_word_meaning(sw: int) -> str | None:
    """A short meaning of SW1-SW2 (ISO/IEC 7816-4), None when SW1 is not an interindustry value."""
    if sw == 0x9000:
        return "normal processing"
    if sw == 0x0000:
        return "status not reported"
    sw1 = sw >> 8
    if 0x90 <= sw1 <= 0x9F:
        return "proprietary (normal processing range)"
    return _SW1_CLASSES.get(sw1)


# --- decoded objects -------------------------------------------------------------------------


class StatusIndicator(Value):
    """Status indicator: card life cycle status and/or processing status SW1-SW2."""

    lcs: int | None
    """Life cycle status byte, None when not given."""
    life_cycle: LifeCycle | None
    """Meaning of LCS; None when LCS is absent or reserved."""
    sw: int | None
    """SW1-SW2 as one integer (e.g. 0x9000), None when not given."""
    sw_meaning: str | None
    """Meaning of SW1-SW2, None when absent or not interindustry."""
    offset: int = field(compare=False)
    """ATR offset of the first status byte."""

    @property
    def meaning(self) -> str:
        """One line for people."""
        parts: list[str] = []
        if self.lcs is not None:
            state = self.life_cycle.value if self.life_cycle else "reserved value"
            parts.append(f"life cycle {self.lcs:02X} ({state})")
        if self.sw is not None:
            parts.append(f"SW {self.sw:04X} ({self.sw_meaning or 'not interindustry'})")
        return ", ".join(parts)

    def to_json(self) -> dict[str, object]:
        """JSON form (stable key order)."""
        return {
            "lcs": self.lcs,
            "life_cycle": None if self.life_cycle is None else self.life_cycle.value,
            "sw": None if self.sw is None else f"{self.sw:04X}",
            "sw_meaning": self.sw_meaning,
            "offset": self.offset,
        }


class CardServiceData(Value):
    """Card service data byte (tag 3)."""

    raw: int
    """The byte."""
    select_by_full_df_name: bool
    """Bit 8: application selection by full DF name."""
    select_by_partial_df_name: bool
    """Bit 7: application selection by partial DF name."""
    ber_tlv_in_ef_dir: bool
    """Bit 6: BER-TLV data objects available in EF.DIR."""
    ber_tlv_in_ef_atr: bool
    """Bit 5: BER-TLV data objects available in EF.ATR."""
    access: ServiceAccess | None
    """Bits 4-2: how EF.DIR/EF.ATR are read; None for a reserved code."""
    has_mf: bool
    """Bit 1 clear: the card has a master file."""

    @property
    def meaning(self) -> str:
        """One line for people."""
        parts: list[str] = []
        selection = [
            name
            for flag, name in (
                (self.select_by_full_df_name, "full DF name"),
                (self.select_by_partial_df_name, "partial DF name"),
            )
            if flag
        ]
        parts.append(
            "selection by " + " and ".join(selection) if selection else "implicit selection"
        )
        places = [
            name
            for flag, name in (
                (self.ber_tlv_in_ef_dir, "EF.DIR"),
                (self.ber_tlv_in_ef_atr, "EF.ATR"),
            )
            if flag
        ]
        if places:
            parts.append("BER-TLV objects in " + " and ".join(places))
        code = (self.raw >> 1) & 0x07
        parts.append(
            f"EF.DIR/EF.ATR access by {self.access.value}"
            if self.access
            else f"reserved access code {code:03b}"
        )
        parts.append("card with MF" if self.has_mf else "card without MF")
        return ", ".join(parts)

    def to_json(self) -> dict[str, object]:
        """JSON form (stable key order)."""
        return {
            "select_by_full_df_name": self.select_by_full_df_name,
            "select_by_partial_df_name": self.select_by_partial_df_name,
            "ber_tlv_in_ef_dir": self.ber_tlv_in_ef_dir,
            "ber_tlv_in_ef_atr": self.ber_tlv_in_ef_atr,
            "access": None if self.access is None else self.access.value,
            "has_mf": self.has_mf,
        }


class DataCoding(Value):
    """Data coding byte (second card capabilities byte)."""

    raw: int
    """The byte."""
    tlv_efs: bool
    """Bit 8: EFs of TLV structure supported."""
    write_behaviour: WriteBehaviour
    """Bits 7-6: behaviour of write functions."""
    ff_tag_valid: bool
    """Bit 5: FF is a valid first byte of a BER-TLV tag (otherwise padding)."""
    data_unit_quartets: int
    """Bits 4-1: data unit size in quartets (2 to the power of the field)."""

    def to_json(self) -> dict[str, object]:
        """JSON form (stable key order)."""
        return {
            "tlv_efs": self.tlv_efs,
            "write_behaviour": self.write_behaviour.value,
            "ff_tag_valid": self.ff_tag_valid,
            "data_unit_quartets": self.data_unit_quartets,
        }


class CardCapabilities(Value):
    """Card capabilities (tag 7): 1 to 3 bytes, later ones absent (None) when not given."""

    raw: bytes
    """The value bytes."""
    selection_methods: tuple[SelectionMethod, ...]
    """First byte: selection methods the card supports."""
    data_coding: DataCoding | None
    """Second byte, None when absent."""
    command_chaining: bool | None
    """Third byte bit 8, None when absent."""
    extended_lc_le: bool | None
    """Third byte bit 7 (0x40): extended Lc and Le fields; None when absent."""
    extended_length_info: bool | None
    """Third byte bit 6: extended length information in EF.ATR/INFO; None when absent."""
    channels_assigned_by_card: bool | None
    """Third byte bit 5: logical channel numbers assigned by the card; None when absent."""
    channels_assigned_by_interface: bool | None
    """Third byte bit 4: logical channel numbers assigned by the interface device."""
    max_logical_channels: int | None
    """Third byte bits 3-1 + 1: at most this many channels (8 means eight or more)."""

    @property
    def logical_channels(self) -> bool | None:
        """Whether logical channels are supported at all; None when the third byte is absent."""
        if self.channels_assigned_by_card is None or self.channels_assigned_by_interface is None:
            return None
        return self.channels_assigned_by_card or self.channels_assigned_by_interface

    @property
    def meaning(self) -> str:
        """One line for people."""
        methods = ", ".join(m.value for m in self.selection_methods) or "none"
        parts = [f"selection: {methods}"]
        if self.data_coding is not None:
            dc = self.data_coding
            unit = dc.data_unit_quartets
            parts.append(
                f"data unit {unit} quartet{'s' if unit != 1 else ''}, "
                f"write {dc.write_behaviour.value}"
            )
        if self.command_chaining is not None:
            parts.append("command chaining" if self.command_chaining else "no command chaining")
        if self.extended_lc_le is not None:
            parts.append("extended Lc/Le" if self.extended_lc_le else "no extended Lc/Le")
        if self.logical_channels is not None:
            if self.logical_channels:
                who = [
                    name
                    for flag, name in (
                        (self.channels_assigned_by_card, "card"),
                        (self.channels_assigned_by_interface, "interface device"),
                    )
                    if flag
                ]
                count = self.max_logical_channels
                limit = "8 or more" if count == 8 else str(count)
                parts.append(f"up to {limit} logical channels assigned by {' and '.join(who)}")
            else:
                parts.append("no logical channels")
        return "; ".join(parts)

    def to_json(self) -> dict[str, object]:
        """JSON form (stable key order)."""
        return {
            "selection_methods": [m.value for m in self.selection_methods],
            "data_coding": None if self.data_coding is None else self.data_coding.to_json(),
            "command_chaining": self.command_chaining,
            "extended_lc_le": self.extended_lc_le,
            "extended_length_info": self.extended_length_info,
            "logical_channels": self.logical_channels,
            "channels_assigned_by_card": self.channels_assigned_by_card,
            "channels_assigned_by_interface": self.channels_assigned_by_interface,
            "max_logical_channels": self.max_logical_channels,
        }


class ApplicationIdentifier(Value):
    """An AID (tag F, or PC/SC Part 3's tag 4F): RID then PIX."""

    aid: bytes
    """The whole identifier."""
    rid: bytes
    """Registered application provider identifier (first 5 bytes, fewer if the AID is short)."""
    pix: bytes
    """Proprietary application identifier extension (the rest)."""
    provider: str | None
    """Name of the RID's owner when known."""

    @property
    def meaning(self) -> str:
        """One line for people."""
        rid = self.rid.hex(" ").upper()
        who = f" ({self.provider})" if self.provider else ""
        pix = f", PIX {self.pix.hex(' ').upper()}" if self.pix else ""
        return f"RID {rid}{who}{pix}"

    def to_json(self) -> dict[str, object]:
        """JSON form (stable key order)."""
        return {
            "aid": self.aid.hex().upper(),
            "rid": self.rid.hex().upper(),
            "pix": self.pix.hex().upper(),
            "provider": self.provider,
        }


class StorageCard(Value):
    """PC/SC Part 3 storage or contactless card: the reader names the standard and the card."""

    standard_code: int
    """SS byte."""
    standard: str | None
    """Name of the standard, None when the code is unknown."""
    card_name_code: int
    """NN NN, big-endian."""
    card_name: str | None
    """Name of the card, None when the code is unknown."""
    rfu: bytes
    """The four reserved bytes after the card name (normally zero)."""
    offset: int = field(compare=False)
    """ATR offset of the SS byte."""

    @property
    def meaning(self) -> str:
        """One line for people, naming unknown codes plainly."""
        std = self.standard or f"unknown standard {self.standard_code:02X}"
        name = self.card_name or f"unknown card name {self.card_name_code:04X}"
        return f"{std}; {name}"

    def to_json(self) -> dict[str, object]:
        """JSON form (stable key order)."""
        return {
            "standard_code": f"{self.standard_code:02X}",
            "standard": self.standard,
            "card_name_code": f"{self.card_name_code:04X}",
            "card_name": self.card_name,
            "rfu": self.rfu.hex().upper(),
            "offset": self.offset,
        }


Decoded = StatusIndicator | CardServiceData | CardCapabilities | ApplicationIdentifier | StorageCard
"""Structured decodes a :class:`TlvObject` may carry."""


class TlvObject(Value):
    """One compact-TLV data object of the historical bytes."""

    tag: int
    """Compact-TLV tag (high nibble of the header), or 0x4F for the PC/SC Part 3 AID."""
    name: str | None
    """Name of the tag, None when ISO/IEC 7816-4 defines none."""
    length: int
    """Declared length."""
    value: bytes
    """The value bytes present (fewer than ``length`` when it runs past the end)."""
    complete: bool
    """False when the declared length runs past the end of the historical bytes."""
    meaning: str
    """Human explanation of the value."""
    decoded: Decoded | None
    """Structured decode where one exists (status, capabilities, service data, AID, PC/SC)."""
    offset: int = field(compare=False)
    """ATR offset of the header byte."""

    def to_json(self) -> dict[str, object]:
        """JSON form (stable key order)."""
        return {
            "tag": f"{self.tag:X}",
            "name": self.name,
            "length": self.length,
            "value": self.value.hex().upper(),
            "complete": self.complete,
            "meaning": self.meaning,
            "decoded": None if self.decoded is None else self.decoded.to_json(),
            "offset": self.offset,
        }


class HistoricalInfo(Value):
    """Everything found in the historical bytes."""

    raw: bytes
    """The historical bytes."""
    category: HistoricalCategory
    """What the first byte announces."""
    objects: tuple[TlvObject, ...]
    """Compact-TLV objects in order (empty for non-TLV categories)."""
    status: StatusIndicator | None
    """Status indicator (mandatory last 3 bytes for ``00``, tag 8 for ``80``), None when absent."""
    card_capabilities: CardCapabilities | None
    """Tag 7, None when absent."""
    card_service_data: CardServiceData | None
    """Tag 3, None when absent."""
    application_identifier: ApplicationIdentifier | None
    """Tag F or the PC/SC Part 3 AID, None when absent."""
    pcsc_storage: StorageCard | None
    """PC/SC Part 3 storage/contactless card description, None when not that layout."""
    dir_reference: int | None
    """The DIR data reference byte of category ``10``, None otherwise."""
    ascii: str | None
    """Proprietary bytes as text when mostly printable ('.' for the others), None otherwise."""
    findings: tuple[Finding, ...]
    """Warnings and remarks about the historical bytes, in order of discovery."""
    offset: int = field(compare=False)
    """ATR offset of the first historical byte."""

    @property
    def extended_lc_le(self) -> bool | None:
        """Extended Lc/Le from card capabilities; None without a third capabilities byte."""
        caps = self.card_capabilities
        return None if caps is None else caps.extended_lc_le

    def to_json(self) -> dict[str, object]:
        """JSON form (stable key order)."""

        def opt(value: Decoded | None) -> object:
            return None if value is None else value.to_json()

        return {
            "raw": self.raw.hex().upper(),
            "offset": self.offset,
            "category": self.category.value,
            "objects": [o.to_json() for o in self.objects],
            "status": opt(self.status),
            "card_capabilities": opt(self.card_capabilities),
            "extended_lc_le": self.extended_lc_le,
            "card_service_data": opt(self.card_service_data),
            "application_identifier": opt(self.application_identifier),
            "pcsc_storage": opt(self.pcsc_storage),
            "dir_reference": self.dir_reference,
            "ascii": self.ascii,
            "findings": [f.to_json() for f in self.findings],
        }


# --- decoding --------------------------------------------------------------------------------


_PRINTABLE = bytes(range(0x20, 0x7F))
"""Printable ASCII, space to tilde."""
_AS_TEXT = bytes(b if 0x20 <= b <= 0x7E else 0x2E for b in range(256))
"""Byte translation table: printable ASCII kept, every other byte made a '.'."""


_spaced = spaced_hex  # a module-level name: looked up faster in the decoding loop


def _text(data: bytes) -> str:
    return data.translate(_AS_TEXT).decode("ascii")


def mostly_printable(data: bytes) -> bool:
    """At least 3 bytes, three quarters of them printable ASCII."""
    printable = len(data) - len(data.translate(None, _PRINTABLE))
    return printable >= 3 and printable * 4 >= len(data) * 3


def _digits(data: bytes) -> str:
    """Nibbles as BCD digits; a trailing F pad nibble dropped, other non-digits as hex."""
    text = data.hex().upper()
    return text[:-1] if text.endswith("F") else text


def decode_status(data: bytes, offset: int) -> StatusIndicator | None:
    """Status indicator of 1 (LCS), 2 (SW1-SW2) or 3 (LCS SW1-SW2) bytes; None for other lengths."""
    if len(data) == 1:
        lcs, sw = data[0], None
    elif len(data) == 2:
        lcs, sw = None, int.from_bytes(data, "big")
    elif len(data) == 3:
        lcs, sw = data[0], int.from_bytes(data[1:], "big")
    else:
        return None
    return StatusIndicator(
        lcs=lcs,
        life_cycle=None if lcs is None else life_cycle(lcs),
        sw=sw,
        sw_meaning=None if sw is None else status_word_meaning(sw),
        offset=offset,
    )


def decode_card_service_data(byte: int) -> CardServiceData:
    """Decode the card service data byte (tag 3)."""
    access = _SERVICE_ACCESS.get((byte >> 1) & 0x07)
    return CardServiceData(
        raw=byte,
        select_by_full_df_name=bool(byte & 0x80),
        select_by_partial_df_name=bool(byte & 0x40),
        ber_tlv_in_ef_dir=bool(byte & 0x20),
        ber_tlv_in_ef_atr=bool(byte & 0x10),
        access=access,
        has_mf=not byte & 0x01,
    )


def decode_card_capabilities(data: bytes) -> CardCapabilities:
    """Decode up to three card capabilities bytes (tag 7); missing bytes give None fields."""
    first = data[0] if data else 0
    methods = tuple(method for bit, method in _SELECTION_BITS if first & bit)
    coding: DataCoding | None = None
    if len(data) >= 2:
        b = data[1]
        coding = DataCoding(
            raw=b,
            tlv_efs=bool(b & 0x80),
            write_behaviour=(
                WriteBehaviour.ONE_TIME,
                WriteBehaviour.PROPRIETARY,
                WriteBehaviour.WRITE_OR,
                WriteBehaviour.WRITE_AND,
            )[(b >> 5) & 0x03],
            ff_tag_valid=bool(b & 0x10),
            data_unit_quartets=2 ** (b & 0x0F),
        )
    third = data[2] if len(data) >= 3 else None
    return CardCapabilities(
        raw=bytes(data),
        selection_methods=methods,
        data_coding=coding,
        command_chaining=None if third is None else bool(third & 0x80),
        extended_lc_le=None if third is None else bool(third & 0x40),
        extended_length_info=None if third is None else bool(third & 0x20),
        channels_assigned_by_card=None if third is None else bool(third & 0x10),
        channels_assigned_by_interface=None if third is None else bool(third & 0x08),
        max_logical_channels=None if third is None else (third & 0x07) + 1,
    )


def decode_aid(aid: bytes) -> ApplicationIdentifier:
    """Split an AID into RID and PIX and name the RID when known."""
    rid = aid[:5]
    return ApplicationIdentifier(aid=aid, rid=rid, pix=aid[5:], provider=KNOWN_RIDS.get(rid))


class _Decoder:
    """Working state of one decode: collects objects and findings."""

    def __init__(self, data: bytes, offset: int) -> None:
        self.data = data
        self.base = offset
        self.objects: list[TlvObject] = []
        self.findings: list[Finding] = []
        self.status: StatusIndicator | None = None
        self.capabilities: CardCapabilities | None = None
        self.service: CardServiceData | None = None
        self.aid: ApplicationIdentifier | None = None
        self.storage: StorageCard | None = None

    def warn(self, code: str, message: str, index: int, advice: str | None = None) -> None:
        self.findings.append(Finding(Severity.WARNING, code, message, self.base + index, advice))

    def info(self, code: str, message: str, index: int) -> None:
        self.findings.append(Finding(Severity.INFO, code, message, self.base + index))

    def pcsc_part3(self) -> int:
        """Decode ``4F 0C <AID>`` after the category byte; return where compact-TLV resumes."""
        obj, findings, self.aid, self.storage = _pcsc_part3_object(self.data[3:15], self.base)
        self.objects.append(obj)
        self.findings.extend(findings)
        return 15

    def compact_tlv(self, start: int, end: int) -> None:
        """Decode compact-TLV objects in ``data[start:end]``."""
        data = self.data
        base = self.base
        objects = self.objects
        i = start
        while i < end:
            header = data[i]
            if header == 0x00:
                run = i
                while run < end and data[run] == 0x00:
                    run += 1
                self.info(
                    "historical-zero-padding",
                    f"{run - i} zero byte(s) where a compact-TLV header is expected "
                    "(no tag 0 is defined); read as padding.",
                    i,
                )
                i = run
                continue
            after = i + 1 + (header & 0x0F)
            obj, found = _tlv_object(
                header, data[i + 1 : after if after < end else end], base + i, after >= end
            )
            objects.append(obj)
            if found:
                self.findings.extend(found)
            decoded = obj.decoded
            if decoded is not None:
                if isinstance(decoded, CardServiceData):
                    self.service = decoded
                elif isinstance(decoded, CardCapabilities):
                    self.capabilities = decoded
                elif isinstance(decoded, StatusIndicator):
                    self.status = decoded
                elif isinstance(decoded, ApplicationIdentifier):
                    self.aid = decoded
            i = after


# One compact-TLV object is a pure function of its header, its value, its place in the ATR and
# whether it ends the historical bytes: cards of a family share their objects (and their JSON
# text, kept by identity), so each is decoded once.


@functools.lru_cache(maxsize=4096)
def _tlv_object(
    header: int, value: bytes, offset: int, is_last: bool
) -> tuple[TlvObject, tuple[Finding, ...]]:
    """The object with ``header`` at ATR ``offset`` whose value bytes present are ``value``,
    and the findings about it in order."""
    tag, length = header >> 4, header & 0x0F
    complete = len(value) == length
    name = TAG_NAMES.get(tag)
    findings: list[Finding] = []
    if not complete:
        findings.append(
            Finding(
                Severity.WARNING,
                "historical-tlv-overrun",
                f"Compact-TLV object {header:02X} ({name or f'tag {tag:X}'}) declares "
                f"{length} bytes but only {len(value)} remain.",
                offset,
                "Usually harmless: the reader ignores historical bytes, but software that "
                "reads them to identify the card may be misled.",
            )
        )
    meaning, decoded = _interpret(tag, value, complete, offset, is_last, findings)
    # Positional, in field order (tag, name, length, value, complete, meaning, decoded, offset).
    obj = TlvObject(tag, name, length, value, complete, meaning, decoded, offset)
    return obj, tuple(findings)


def _interpret(
    tag: int, value: bytes, complete: bool, offset: int, is_last: bool, findings: list[Finding]
) -> tuple[str, Decoded | None]:
    """Meaning and structured decode of the value of an object at ATR ``offset``; what is
    wrong with it is added to ``findings``."""
    if not complete:
        return f"truncated: {_spaced(value)}" if value else "truncated: no value", None
    if tag == 0x3:
        if len(value) != 1:
            findings.append(
                Finding(
                    Severity.WARNING,
                    "historical-service-data-length",
                    f"Card service data should be 1 byte, found {len(value)}.",
                    offset,
                )
            )
        if not value:
            return "empty", None
        return _service_data(value[0])
    if tag == 0x7:
        if not 1 <= len(value) <= 3:
            findings.append(
                Finding(
                    Severity.WARNING,
                    "historical-capabilities-length",
                    f"Card capabilities should be 1 to 3 bytes, found {len(value)}.",
                    offset,
                )
            )
        if not value:
            return "empty", None
        return _card_capabilities(value[:3])
    if tag == 0x8:
        found = _status(value, offset + 1)
        if found is None:
            findings.append(
                Finding(
                    Severity.WARNING,
                    "historical-status-length",
                    f"A status indicator is 1, 2 or 3 bytes, found {len(value)}.",
                    offset,
                )
            )
            return _spaced(value) or "empty", None
        if not is_last:
            findings.append(
                Finding(
                    Severity.INFO,
                    "historical-status-not-last",
                    "The status indicator is not the last object of the historical bytes.",
                    offset,
                )
            )
        return found
    if tag == 0x1:
        country = value.hex().upper()[:3]
        if len(country) == 3 and country.isdigit():
            return f"ISO 3166-1 country {country} ({_spaced(value)})", None
        return f"country code not in BCD ({_spaced(value)})", None
    if tag == 0x2:
        return f"issuer identification number {_digits(value)}", None
    if tag == 0xF:
        if not value:
            return "empty", None
        aid = decode_aid(value)
        return aid.meaning, aid
    if tag == 0x4 and len(value) == 1:
        return f"first command: READ BINARY, Le {value[0]:02X}", None
    if tag not in TAG_NAMES:
        findings.append(
            Finding(
                Severity.INFO,
                "historical-unknown-tag",
                f"Compact-TLV tag {tag:X} is not defined by ISO/IEC 7816-4.",
                offset,
            )
        )
    hex_value = _spaced(value)
    if mostly_printable(value):
        return f'{hex_value} ("{_text(value)}")', None
    return hex_value, None


@functools.lru_cache(maxsize=1024)
def _pcsc_part3_object(
    aid: bytes, base: int
) -> tuple[TlvObject, tuple[Finding, ...], ApplicationIdentifier, StorageCard | None]:
    """The PC/SC Part 3 AID ``aid`` (12 bytes, fewer when cut short) of historical bytes at
    ATR offset ``base``: its object, the findings about it, the AID and the storage card."""
    complete = len(aid) == 12
    identifier = decode_aid(aid)
    storage: StorageCard | None = None
    decoded: Decoded
    if complete:
        ss = aid[5]
        nn = int.from_bytes(aid[6:8], "big")
        storage = StorageCard(
            standard_code=ss,
            standard=pcsc_part3.standard_name(ss),
            card_name_code=nn,
            card_name=pcsc_part3.card_name(nn),
            rfu=aid[8:12],
            offset=base + 8,
        )
        decoded = storage
        meaning = f"PC/SC Part 3 storage card: {storage.meaning}"
        finding = (
            None
            if storage.rfu == bytes(4)
            else Finding(
                Severity.INFO,
                "historical-pcsc-rfu",
                "The four reserved bytes of the PC/SC Part 3 AID are not zero.",
                base + 11,
            )
        )
    else:
        decoded = identifier
        meaning = "PC/SC Part 3 AID, cut short"
        finding = Finding(
            Severity.WARNING,
            "historical-tlv-overrun",
            f"The PC/SC Part 3 AID at historical byte 1 declares 12 bytes "
            f"but only {len(aid)} remain.",
            base + 1,
        )
    obj = TlvObject(
        tag=PCSC_AID_HEADER,
        name="application identifier (PC/SC Part 3)",
        length=12,
        value=aid,
        complete=complete,
        meaning=meaning,
        decoded=decoded,
        offset=base + 1,
    )
    return obj, () if finding is None else (finding,), identifier, storage


# Service data, capabilities and status bytes recur across the cards of a list: their decodes
# (immutable values) and meanings are shared.


@functools.lru_cache(maxsize=256)
def _service_data(byte: int) -> tuple[str, CardServiceData]:
    service = decode_card_service_data(byte)
    return service.meaning, service


@functools.lru_cache(maxsize=1024)
def _card_capabilities(data: bytes) -> tuple[str, CardCapabilities]:
    capabilities = decode_card_capabilities(data)
    return capabilities.meaning, capabilities


@functools.lru_cache(maxsize=1024)
def _status(data: bytes, offset: int) -> tuple[str, StatusIndicator] | None:
    status = decode_status(data, offset)
    return None if status is None else (status.meaning, status)


def decode_historical(data: bytes, offset: int) -> HistoricalInfo:
    """Decode historical bytes; ``offset`` is the ATR position of the first one. Never raises.

    Results are immutable, so the same bytes at the same offset share one result: many cards
    of a family carry the same historical bytes (a long ``--file`` repeats them often).
    """
    return _decode_historical_cached(bytes(data), offset)


def cache_clear() -> None:
    """Forget cached results; needed only when the PC/SC Part 3 tables change (tests)."""
    _decode_historical_cached.cache_clear()
    _tlv_object.cache_clear()
    _pcsc_part3_object.cache_clear()
    _service_data.cache_clear()
    _card_capabilities.cache_clear()
    _status.cache_clear()


@functools.lru_cache(maxsize=4096)
def _decode_historical_cached(data: bytes, offset: int) -> HistoricalInfo:
    d = _Decoder(data, offset)
    category: HistoricalCategory
    dir_reference: int | None = None
    ascii_text: str | None = None

    if not data:
        category = HistoricalCategory.EMPTY
    elif data[0] == 0x00:
        category = HistoricalCategory.COMPACT_TLV_STATUS_LAST
        if len(data) < 4:
            d.warn(
                "historical-status-missing",
                "Category 00 requires a 3-byte status indicator at the end; "
                f"only {len(data) - 1} bytes follow the category byte.",
                0,
            )
            d.compact_tlv(1, len(data))
        else:
            d.compact_tlv(1, len(data) - 3)
            found = _status(data[-3:], offset + len(data) - 3)
            d.status = None if found is None else found[1]
    elif data[0] == 0x80:
        category = HistoricalCategory.COMPACT_TLV
        start = 1
        if data[1:8] == bytes([PCSC_AID_HEADER, 0x0C]) + pcsc_part3.PCSC_RID:
            start = d.pcsc_part3()
        d.compact_tlv(start, len(data))
    elif data[0] == 0x10:
        category = HistoricalCategory.DIR_REFERENCE
        if len(data) < 2:
            d.warn(
                "historical-dir-reference-missing",
                "Category 10 announces a DIR data reference byte, but none follows.",
                0,
            )
        else:
            dir_reference = data[1]
            if len(data) > 2:
                d.warn(
                    "historical-extra-bytes",
                    f"{len(data) - 2} bytes follow the DIR data reference.",
                    2,
                )
    elif 0x81 <= data[0] <= 0x8F:
        category = HistoricalCategory.RFU
        d.warn(
            "historical-category-rfu",
            f"Category indicator {data[0]:02X} is reserved for future use.",
            0,
        )
    else:
        category = HistoricalCategory.PROPRIETARY
        if mostly_printable(data):
            ascii_text = _text(data)

    # Positional, in field order: keywords cost a twentieth of the decoding of a plain ATR.
    return HistoricalInfo(
        data,  # raw
        category,
        tuple(d.objects),
        d.status,
        d.capabilities,  # card_capabilities
        d.service,  # card_service_data
        d.aid,  # application_identifier
        d.storage,  # pcsc_storage
        dir_reference,
        ascii_text,  # ascii
        tuple(d.findings),
        offset,
    )
