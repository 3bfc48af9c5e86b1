"""Result types of the ATR decoder (ISO/IEC 7816-3 and 7816-4): plain frozen values.

The decoder (:mod:`cardcheck.atr.decode`) fills these; renderers, the compatibility rules and
the JSON contract read them. ``None`` always means "absent" or "reserved for future use".
"""

from __future__ import annotations

from enum import StrEnum

from cardcheck.findings import Finding, Severity
from cardcheck.hextext import spaced_hex
from cardcheck.values import Value, field

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up

if TYPE_CHECKING:
    from cardcheck.atr.historical import HistoricalInfo


class Convention(StrEnum):
    """Bit convention announced by TS."""

    DIRECT = "direct"
    INVERSE = "inverse"


class ClockStop(StrEnum):
    """Clock stop indicator XI (first TA after T=15, bits 8-7)."""

    NOT_SUPPORTED = "not supported"
    STATE_L = "state L"
    STATE_H = "state H"
    NO_PREFERENCE = "no preference"


class VoltageClass(StrEnum):
    """Operating condition classes of ISO/IEC 7816-3 (class indicator UI)."""

    A = "A"  # 5 V (4.5-5.5 V)
    B = "B"  # 3 V (2.7-3.3 V)
    C = "C"  # 1.8 V (1.62-1.98 V)


class InterfaceByte(Value):
    """One interface byte TAi/TBi/TCi/TDi with its meaning."""

    name: str
    """``TA1``, ``TD2``, ..."""
    kind: str
    """``TA``, ``TB``, ``TC`` or ``TD``."""
    level: int
    """i in TAi (1-based)."""
    value: int
    """The byte value."""
    protocol: int | None
    """Protocol context: T of TD(i-1) for i >= 2, None for the global level-1 bytes."""
    meaning: str
    """Human explanation of this byte."""
    offset: int = field(compare=False)
    """Offset of the byte in the ATR."""


class RateParameters(Value):
    """TA1: clock rate conversion (Fi, fmax) and baud rate adjustment (Di)."""

    fi_code: int
    """FI nibble (high nibble of TA1), 1 when TA1 is absent."""
    di_code: int
    """DI nibble (low nibble of TA1), 1 when TA1 is absent."""
    fi: int | None
    """Clock rate conversion integer Fi; None when FI is RFU."""
    di: int | None
    """Baud rate adjustment integer Di; None when DI is RFU."""
    fmax_mhz: float | None
    """Maximum clock frequency in MHz; None when FI is RFU."""
    explicit: bool
    """True when TA1 is present, False for the defaults (372/1/5 MHz)."""


class SpecificMode(Value):
    """TA2: the card runs in specific mode (no PPS)."""

    protocol: int
    """The protocol T the card runs (low nibble)."""
    implicit_parameters: bool
    """Bit 0x10: parameters are implicitly known, not those of TA1."""
    can_change: bool
    """False when bit 0x80 is set: the card is unable to change mode."""


class T1Parameters(Value):
    """T=1 specific bytes (first TA/TB/TC after a TD announcing T=1), with defaults filled in."""

    ifsc: int
    """Information field size of the card (default 32)."""
    bwi: int
    """Block waiting time integer (default 4)."""
    cwi: int
    """Character waiting time integer (default 13)."""
    crc: bool
    """Error detection: True for CRC, False for LRC (default)."""
    explicit_ifsc: bool
    """True when IFSC came from the ATR."""
    explicit_bwi_cwi: bool
    """True when BWI/CWI came from the ATR."""
    explicit_edc: bool
    """True when the error detection code came from the ATR."""


class T15Parameters(Value):
    """Global bytes after T=15: clock stop, class indicator and SPU."""

    clock_stop: ClockStop | None
    """XI; None when the byte is absent."""
    voltage_classes: tuple[VoltageClass, ...]
    """Classes the card supports (UI bits); empty when absent."""
    class_indicator: int | None
    """Raw UI value (bits 6-1), None when absent."""
    spu: int | None
    """First TB after T=15 (standard or proprietary use of contact C6), None when absent."""


class Tck(Value):
    """The check byte."""

    present: bool
    """Whether a TCK byte is there (by the ISO rule: due unless only T=0 is indicated)."""
    value: int | None
    """The TCK byte found, None when absent."""
    expected: int | None
    """The value that would make the XOR of T0..TCK zero; None when not computable."""
    valid: bool | None
    """True/False when present and computable; None when absent or truncated."""
    required: bool
    """Whether ISO 7816-3 requires a TCK for this ATR."""


class AtrInfo(Value):
    """Everything the decoder found in one ATR. Never raised, always returned."""

    raw: bytes
    """The ATR bytes as given (including extra bytes)."""
    convention: Convention | None
    """From TS; None when TS is not 3B/3F."""
    ts: int | None
    """TS byte, None for an empty input."""
    t0: int | None
    """T0 byte, None when truncated before it."""
    interface_bytes: tuple[InterfaceByte, ...]
    """All interface bytes in order."""
    protocols: tuple[int, ...]
    """Offered protocols in TD order, T=15 excluded, no duplicates; (0,) without TD1."""
    t15_present: bool
    """Whether a TD announces T=15 (global bytes)."""
    rate: RateParameters
    """TA1 (or its defaults)."""
    specific_mode: SpecificMode | None
    """TA2, None when absent (negotiable mode)."""
    extra_guard_time: int | None
    """TC1 value N, None when absent (N=0 by default)."""
    vpp_tb1: int | None
    """TB1 (deprecated programming voltage), None when absent."""
    waiting_time_integer: int
    """T=0 WI from TC2 (default 10)."""
    t1: T1Parameters | None
    """T=1 parameters when T=1 is offered, None otherwise."""
    t15: T15Parameters | None
    """T=15 global parameters when T=15 is announced, None otherwise."""
    historical: bytes
    """The historical bytes actually present (may be fewer than T0 announced if truncated)."""
    historical_declared: int
    """K from T0."""
    tck: Tck
    """Check byte verdict."""
    extra: bytes
    """Bytes after the end of the ATR (not part of the XOR)."""
    findings: tuple[Finding, ...]
    """Problems and remarks, errors first is not guaranteed: in order of discovery."""
    historical_info: HistoricalInfo
    """The historical bytes decoded (ISO/IEC 7816-4); its findings are also in ``findings``."""
    td_protocols: tuple[int, ...]
    """The T of TD1, TD2, ... as announced (T=15 and repeats kept): the ATR's structure."""
    interface_complete: bool
    """False when the ATR ends before an interface byte that T0 or a TD announces."""
    historical_offset: int = field(compare=False)
    """Offset of the first historical byte (= the end of the interface bytes)."""

    @property
    def valid(self) -> bool:
        """False iff there is an error finding."""
        return not any(f.severity is Severity.ERROR for f in self.findings)

    @property
    def hex(self) -> str:
        """The ATR written ``3B 8F 80 ...`` (upper case, single spaces)."""
        return spaced_hex(self.raw)
