"""The USB CCID class descriptor (54 bytes): parse it, find it in a USB descriptor blob, decode it.

Input is binary or hex text: a bare descriptor, or everything a device reports (sysfs
``descriptors``: device descriptor, then the configuration descriptors). Values the reader
reports that cannot be true are findings on the result, never exceptions.
"""

from __future__ import annotations

import re
import struct
from enum import IntFlag, StrEnum

from cardcheck.atr.model import VoltageClass
from cardcheck.errors import InputError
from cardcheck.findings import Finding, Severity
from cardcheck.values import Value, field, replace

DESCRIPTOR_LENGTH = 54
"""bLength of every CCID class descriptor."""

CCID_DESCRIPTOR_TYPE = 0x21
"""The class-specific descriptor type of the CCID specification."""

PROPRIETARY_DESCRIPTOR_TYPE = 0xFF
"""What some early or vendor readers use instead of 0x21."""

_LAYOUT = struct.Struct("<BBHBBIIIBIIBIIIIIBBHBB")

_USB_DEVICE = 0x01
_USB_CONFIGURATION = 0x02
_USB_INTERFACE = 0x04
_USB_ENDPOINT = 0x05
_CLASS_CCID = 0x0B
_CLASS_VENDOR = 0xFF

_VOLTAGE_BITS: tuple[tuple[int, VoltageClass], ...] = (
    (0x01, VoltageClass.A),
    (0x02, VoltageClass.B),
    (0x04, VoltageClass.C),
)


class CcidFeature(IntFlag):
    """dwFeatures bits below the exchange level (CCID 1.1, table 5.1-1)."""

    AUTO_PARAMETERS_FROM_ATR = 0x02
    AUTO_ACTIVATION = 0x04
    AUTO_VOLTAGE = 0x08
    AUTO_CLOCK = 0x10
    AUTO_BAUD = 0x20
    AUTO_NEGOTIATION = 0x40
    """The reader negotiates by itself: the driver sends neither PPS nor SetParameters."""
    AUTO_PPS = 0x80
    """The reader does the PPS exchange from the parameters the driver sets."""
    CLOCK_STOP = 0x100
    NAD_OTHER_THAN_00 = 0x200
    AUTO_IFSD = 0x400
    USB_WAKE_UP = 0x100000


_FEATURE_TEXT: dict[CcidFeature, str] = {
    CcidFeature.AUTO_PARAMETERS_FROM_ATR: "automatic parameter configuration from the ATR",
    CcidFeature.AUTO_ACTIVATION: "automatic activation of the card on insertion",
    CcidFeature.AUTO_VOLTAGE: "automatic voltage selection",
    CcidFeature.AUTO_CLOCK: "automatic clock change according to the parameters",
    CcidFeature.AUTO_BAUD: "automatic baud rate change according to clock and Fi/Di",
    CcidFeature.AUTO_NEGOTIATION: "automatic parameter negotiation by the reader",
    CcidFeature.AUTO_PPS: "automatic PPS by the reader",
    CcidFeature.CLOCK_STOP: "can stop the clock",
    CcidFeature.NAD_OTHER_THAN_00: "NAD other than 00 accepted (T=1)",
    CcidFeature.AUTO_IFSD: "automatic IFSD exchange (T=1)",
    CcidFeature.USB_WAKE_UP: "USB wake-up signalling",
}

_KNOWN_FEATURE_BITS = 0x7FE | 0x70000 | 0x100000


class ExchangeLevel(StrEnum):
    """What the reader exchanges with the host (dwFeatures bits 16-18)."""

    CHARACTER = "character"
    TPDU = "TPDU"
    SHORT_APDU = "short APDU"
    EXTENDED_APDU = "short and extended APDU"


_LEVEL_BY_CODE: dict[int, ExchangeLevel] = {
    0: ExchangeLevel.CHARACTER,
    1: ExchangeLevel.TPDU,
    2: ExchangeLevel.SHORT_APDU,
    4: ExchangeLevel.EXTENDED_APDU,
}


class DescriptorPlace(StrEnum):
    """Where the CCID class descriptor was found."""

    BARE = "bare"
    """The input was the 54-byte descriptor alone."""
    AFTER_INTERFACE = "after interface"
    """Right after the interface descriptor, as the CCID specification says."""
    AFTER_ENDPOINTS = "after endpoints"
    """After the endpoint descriptors, as some readers put it."""


class CcidDescriptor(Value):
    """Every field of a CCID class descriptor, raw, with decoded views and sanity findings."""

    length: int
    """bLength (54)."""
    descriptor_type: int
    """bDescriptorType: 0x21, or 0xFF on some readers."""
    bcd_ccid: int
    """bcdCCID: specification release, BCD (0x0110 is 1.10)."""
    max_slot_index: int
    """bMaxSlotIndex: number of slots minus one."""
    voltage_support: int
    """bVoltageSupport bits: 0x01 5 V, 0x02 3 V, 0x04 1.8 V."""
    protocols_raw: int
    """dwProtocols bits: bit 0 T=0, bit 1 T=1."""
    default_clock_khz: int
    """dwDefaultClock in kHz: the clock the card gets (libccid never changes it)."""
    maximum_clock_khz: int
    """dwMaximumClock in kHz (libccid never reads it)."""
    num_clocks_supported: int
    """bNumClockSupported: 0 when the reader has no clock table."""
    data_rate_bps: int
    """dwDataRate: default bit rate, should be dwDefaultClock/372."""
    max_data_rate_bps: int
    """dwMaxDataRate: highest bit rate the reader claims."""
    num_data_rates_supported: int
    """bNumDataRatesSupported: 0 when the reader has no rate table (or does not say)."""
    max_ifsd: int
    """dwMaxIFSD: largest T=1 information field the reader takes."""
    synch_protocols: int
    """dwSynchProtocols: synchronous (memory card) protocols."""
    mechanical: int
    """dwMechanical: card accept/eject/capture/lock features."""
    features_raw: int
    """dwFeatures, all bits."""
    max_ccid_message_length: int
    """dwMaxCCIDMessageLength in bytes."""
    class_get_response: int
    """bClassGetResponse (0xFF: echoes the APDU class)."""
    class_envelope: int
    """bClassEnvelope (0xFF: echoes the APDU class)."""
    lcd_layout: int
    """wLcdLayout: lines (high byte) x characters (low byte), 0 without display."""
    pin_support: int
    """bPINSupport: 0x01 verify, 0x02 modify."""
    max_busy_slots: int
    """bMaxCCIDBusySlots."""
    findings: tuple[Finding, ...] = field(default=(), compare=False)
    """Values that cannot be true (bogus firmware), found while decoding."""

    @property
    def voltages(self) -> tuple[VoltageClass, ...]:
        """Classes the reader can supply, from bVoltageSupport (A 5 V, B 3 V, C 1.8 V)."""
        return tuple(cls for bit, cls in _VOLTAGE_BITS if self.voltage_support & bit)

    @property
    def protocols(self) -> tuple[int, ...]:
        """Asynchronous protocols T the reader supports (0 and/or 1)."""
        return tuple(t for t in (0, 1) if self.protocols_raw & (1 << t))

    @property
    def features(self) -> CcidFeature:
        """The named dwFeatures bits that are set."""
        known = 0
        for flag in CcidFeature:
            known |= flag.value
        return CcidFeature(self.features_raw & known)

    @property
    def unknown_feature_bits(self) -> int:
        """dwFeatures bits the CCID specification does not define (0 when none)."""
        return self.features_raw & ~_KNOWN_FEATURE_BITS & 0xFFFFFFFF

    @property
    def exchange_level_code(self) -> int:
        """The raw exchange level (dwFeatures >> 16) & 7."""
        return (self.features_raw >> 16) & 0x07

    @property
    def exchange_level(self) -> ExchangeLevel | None:
        """The exchange level; None for the undefined codes 3, 5, 6 and 7."""
        return _LEVEL_BY_CODE.get(self.exchange_level_code)

    @property
    def ccid_version(self) -> str:
        """bcdCCID written ``1.10``."""
        return f"{self.bcd_ccid >> 8:X}.{self.bcd_ccid & 0xFF:02X}"

    @property
    def proprietary_type(self) -> bool:
        """True when bDescriptorType is 0xFF instead of 0x21."""
        return self.descriptor_type == PROPRIETARY_DESCRIPTOR_TYPE

    def feature_names(self) -> tuple[str, ...]:
        """One phrase per named dwFeatures bit that is set, in bit order."""
        return tuple(text for flag, text in _FEATURE_TEXT.items() if self.features_raw & flag)

    def to_bytes(self) -> bytes:
        """The 54 bytes, little-endian, as the reader sends them."""
        return _LAYOUT.pack(
            self.length,
            self.descriptor_type,
            self.bcd_ccid,
            self.max_slot_index,
            self.voltage_support,
            self.protocols_raw,
            self.default_clock_khz,
            self.maximum_clock_khz,
            self.num_clocks_supported,
            self.data_rate_bps,
            self.max_data_rate_bps,
            self.num_data_rates_supported,
            self.max_ifsd,
            self.synch_protocols,
            self.mechanical,
            self.features_raw,
            self.max_ccid_message_length,
            self.class_get_response,
            self.class_envelope,
            self.lcd_layout,
            self.pin_support,
            self.max_busy_slots,
        )

    def to_json(self) -> dict[str, object]:
        """Raw fields under their CCID names, plus the decoded views (README contract)."""
        level = self.exchange_level
        return {
            "bLength": self.length,
            "bDescriptorType": self.descriptor_type,
            "bcdCCID": self.ccid_version,
            "bMaxSlotIndex": self.max_slot_index,
            "bVoltageSupport": self.voltage_support,
            "dwProtocols": self.protocols_raw,
            "dwDefaultClock_khz": self.default_clock_khz,
            "dwMaximumClock_khz": self.maximum_clock_khz,
            "bNumClockSupported": self.num_clocks_supported,
            "dwDataRate": self.data_rate_bps,
            "dwMaxDataRate": self.max_data_rate_bps,
            "bNumDataRatesSupported": self.num_data_rates_supported,
            "dwMaxIFSD": self.max_ifsd,
            "dwSynchProtocols": self.synch_protocols,
            "dwMechanical": self.mechanical,
            "dwFeatures": self.features_raw,
            "dwMaxCCIDMessageLength": self.max_ccid_message_length,
            "bClassGetResponse": self.class_get_response,
            "bClassEnvelope": self.class_envelope,
            "wLcdLayout": self.lcd_layout,
            "bPINSupport": self.pin_support,
            "bMaxCCIDBusySlots": self.max_busy_slots,
            "voltages": [v.value for v in self.voltages],
            "protocols": list(self.protocols),
            "features": list(self.feature_names()),
            "unknown_feature_bits": self.unknown_feature_bits,
            "exchange_level": level.value if level is not None else None,
            "findings": [f.to_json() for f in self.findings],
        }


class UsbCcidInterface(Value):
    """A CCID class descriptor with what the surrounding USB descriptors said about it."""

    descriptor: CcidDescriptor
    """The decoded CCID class descriptor."""
    place: DescriptorPlace
    """Where it was found."""
    vendor_id: int | None
    """idVendor from the device descriptor; None when the input had none."""
    product_id: int | None
    """idProduct from the device descriptor; None when the input had none."""
    bcd_device: int | None
    """bcdDevice (firmware release) from the device descriptor; None when absent."""
    interface_number: int | None
    """bInterfaceNumber of the interface it belongs to; None for a bare descriptor."""
    interface_class: int | None
    """bInterfaceClass: 0x0B CCID, 0xFF vendor specific; None for a bare descriptor."""
    interface_subclass: int | None
    """bInterfaceSubClass; None for a bare descriptor."""
    interface_protocol: int | None
    """bInterfaceProtocol: 0 CCID bulk, 1 ICCD version A, 2 ICCD version B; None when bare."""

    @property
    def usb_id(self) -> str | None:
        """``058F:9540`` when both ids are known, else None."""
        if self.vendor_id is None or self.product_id is None:
            return None
        return f"{self.vendor_id:04X}:{self.product_id:04X}"


def decode_descriptor(data: bytes) -> CcidDescriptor:
    """Decode exactly 54 bytes of CCID class descriptor; bogus values become findings.

    Raises InputError when the bytes cannot be a CCID class descriptor at all (wrong size,
    bLength or bDescriptorType).
    """
    if len(data) != DESCRIPTOR_LENGTH:
        raise InputError(
            f"a CCID class descriptor is {DESCRIPTOR_LENGTH} bytes, got {len(data)}",
            "give the 54-byte descriptor, or the whole USB descriptor blob (sysfs `descriptors`)",
        )
    if data[0] != DESCRIPTOR_LENGTH or data[1] not in (
        CCID_DESCRIPTOR_TYPE,
        PROPRIETARY_DESCRIPTOR_TYPE,
    ):
        raise InputError(
            f"not a CCID class descriptor: bLength {data[0]:#04x}, bDescriptorType {data[1]:#04x}",
            "a CCID class descriptor starts with 36 21 (or 36 FF on some readers)",
        )
    values = _LAYOUT.unpack(data)
    plain = CcidDescriptor(*values)
    return replace(plain, findings=_sanity_findings(plain))


def _sanity_findings(desc: CcidDescriptor) -> tuple[Finding, ...]:
    out: list[Finding] = []
    if desc.proprietary_type:
        out.append(
            Finding(
                Severity.INFO,
                "descriptor-proprietary-type",
                "The reader uses bDescriptorType 0xFF instead of the CCID class type 0x21.",
                advice="Nothing to do: libccid accepts both; it marks an early or vendor firmware.",
            )
        )
    if not desc.voltages:
        out.append(
            Finding(
                Severity.WARNING,
                "descriptor-no-voltage",
                f"bVoltageSupport is {desc.voltage_support:#04x}: the reader declares no voltage.",
                advice="The descriptor is bogus; which voltages the reader really supplies is "
                "unknown. Give them by hand with --voltages.",
            )
        )
    if not desc.protocols:
        out.append(
            Finding(
                Severity.WARNING,
                "descriptor-no-protocol",
                f"dwProtocols is {desc.protocols_raw:#010x}: the reader declares neither T=0 "
                "nor T=1.",
                advice="The descriptor is bogus; libccid refuses every protocol the reader does "
                "not declare. A reader that declares T=0 and T=1 avoids the problem.",
            )
        )
    if desc.default_clock_khz == 0:
        out.append(
            Finding(
                Severity.WARNING,
                "descriptor-no-clock",
                "dwDefaultClock is 0: the reader does not say which clock it gives the card.",
                advice="Give the clock by hand with --clock MHz to get a speed prediction.",
            )
        )
    if desc.maximum_clock_khz < desc.default_clock_khz:
        out.append(
            Finding(
                Severity.INFO,
                "descriptor-max-clock-below-default",
                f"dwMaximumClock ({_mhz(desc.maximum_clock_khz)}) is below dwDefaultClock "
                f"({_mhz(desc.default_clock_khz)}).",
                advice="Harmless for libccid, which never reads dwMaximumClock; the default "
                "clock is the one the card gets.",
            )
        )
    if desc.default_clock_khz and not data_rate_matches_clock(
        desc.data_rate_bps, desc.default_clock_khz
    ):
        expected = desc.default_clock_khz * 1000 / 372
        out.append(
            Finding(
                Severity.INFO,
                "descriptor-data-rate-mismatch",
                f"dwDataRate is {desc.data_rate_bps} bit/s but dwDefaultClock/372 is "
                f"{expected:.0f} bit/s.",
                advice="Harmless for libccid, which computes rates from dwDefaultClock; the "
                "firmware reports one of the two wrongly.",
            )
        )
    if desc.exchange_level is None:
        out.append(
            Finding(
                Severity.WARNING,
                "descriptor-bad-exchange-level",
                f"dwFeatures {desc.features_raw:#010x} gives the undefined exchange level "
                f"{desc.exchange_level_code}.",
                advice="The descriptor is bogus; how the driver exchanges data with this "
                "reader is unclear. Prefer a reader with a valid descriptor.",
            )
        )
    return tuple(out)


def data_rate_matches_clock(data_rate_bps: int, clock_khz: int) -> bool:
    """True when dwDataRate is dwDefaultClock/372 up to integer rounding (less than 2 bit/s)."""
    return abs(data_rate_bps - clock_khz * 1000 / 372) < 2


def _mhz(khz: int) -> str:
    return f"{khz / 1000:g} MHz"


def find_descriptor(blob: bytes) -> UsbCcidInterface:
    """Find and decode the CCID class descriptor in USB descriptors (sysfs ``descriptors``).

    Walks the descriptors by their bLength; the first 54-byte descriptor of type 0x21 or 0xFF
    inside a CCID (0x0B) or vendor-specific (0xFF) interface is taken, whether it follows the
    interface descriptor or its endpoints. Raises InputError when there is none.
    """
    pos = 0
    vendor_id: int | None = None
    product_id: int | None = None
    bcd_device: int | None = None
    iface: bytes | None = None
    endpoints_seen = False
    while pos < len(blob):
        length = blob[pos]
        if length < 2 or pos + length > len(blob):
            raise InputError(
                f"malformed USB descriptors: a descriptor at byte {pos} claims {length} bytes "
                f"and {len(blob) - pos} are left",
                "give the whole, unmodified USB descriptor blob or the 54-byte CCID descriptor",
            )
        kind = blob[pos + 1]
        chunk = blob[pos : pos + length]
        if kind == _USB_DEVICE and length >= 14:
            vendor_id = int.from_bytes(chunk[8:10], "little")
            product_id = int.from_bytes(chunk[10:12], "little")
            bcd_device = int.from_bytes(chunk[12:14], "little")
        elif kind == _USB_CONFIGURATION:
            iface = None
        elif kind == _USB_INTERFACE and length >= 9:
            iface = chunk
            endpoints_seen = False
        elif kind == _USB_ENDPOINT:
            endpoints_seen = True
        elif (
            length == DESCRIPTOR_LENGTH
            and kind in (CCID_DESCRIPTOR_TYPE, PROPRIETARY_DESCRIPTOR_TYPE)
            and iface is not None
            and iface[5] in (_CLASS_CCID, _CLASS_VENDOR)
        ):
            return UsbCcidInterface(
                descriptor=decode_descriptor(chunk),
                place=DescriptorPlace.AFTER_ENDPOINTS
                if endpoints_seen
                else DescriptorPlace.AFTER_INTERFACE,
                vendor_id=vendor_id,
                product_id=product_id,
                bcd_device=bcd_device,
                interface_number=iface[2],
                interface_class=iface[5],
                interface_subclass=iface[6],
                interface_protocol=iface[7],
            )
        pos += length
    raise InputError(
        "no CCID class descriptor in these USB descriptors",
        "the device has no CCID (class 0B) interface: it is not a CCID smart-card reader",
    )


def load_descriptor(data: bytes) -> UsbCcidInterface:
    """Read a descriptor file: binary or hex text, a bare 54-byte descriptor or a whole blob."""
    raw = parse_hex_text(data.decode("ascii")) if _is_text(data) else data
    if not raw:
        raise InputError("the descriptor file is empty", "give a CCID descriptor, hex or binary")
    if len(raw) == DESCRIPTOR_LENGTH and raw[0] == DESCRIPTOR_LENGTH:
        return UsbCcidInterface(
            descriptor=decode_descriptor(raw),
            place=DescriptorPlace.BARE,
            vendor_id=None,
            product_id=None,
            bcd_device=None,
            interface_number=None,
            interface_class=None,
            interface_subclass=None,
            interface_protocol=None,
        )
    return find_descriptor(raw)


def _is_text(data: bytes) -> bool:
    # A descriptor always holds control bytes (bLength 0x12 or 0x36 followed by zeros);
    # a file of printable ASCII only is hex text.
    return all(b in b"\t\n\r " or 0x20 <= b < 0x7F for b in data)


_TOKEN = re.compile(r"[^\s:,;\-]+")


def parse_hex_text(text: str) -> bytes:
    """Hex text to bytes: pairs or long runs, separated by spaces, ``:`` ``,`` ``;`` or ``-``.

    A ``0x`` prefix per token and ``#`` comments (to the end of the line) are allowed. A
    character that is not hex is an InputError giving its line and column.
    """
    out = bytearray()
    for line_no, line in enumerate(text.splitlines(), start=1):
        code = line.split("#", 1)[0]
        for match in _TOKEN.finditer(code):
            token = match.group()
            start = match.start()
            if token[:2] in ("0x", "0X") and len(token) > 2:
                token = token[2:]
                start += 2
            for i, ch in enumerate(token):
                if ch not in "0123456789abcdefABCDEF":
                    col = start + i + 1
                    raise InputError(
                        f"not hex: {ch!r} at line {line_no}, column {col}",
                        "a descriptor file holds hex bytes such as `36 21 10 01 ...` "
                        "or the binary descriptor itself",
                    )
            if len(token) % 2:
                raise InputError(
                    f"odd number of hex digits in {match.group()!r} at line {line_no}, "
                    f"column {match.start() + 1}",
                    "write every byte as two hex digits",
                )
            out += bytes.fromhex(token)
    return bytes(out)
