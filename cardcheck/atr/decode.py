"""Decode an ATR (ISO/IEC 7816-3) into an :class:`~cardcheck.atr.model.AtrInfo`.

:func:`decode_atr` never raises: whatever is wrong with the bytes becomes a finding on the
result. :func:`encode_interface` writes the structure back (TS up to the last interface byte).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator

from cardcheck.atr import historical
from cardcheck.atr.historical import decode_historical
from cardcheck.atr.model import (
    AtrInfo,
    ClockStop,
    Convention,
    InterfaceByte,
    RateParameters,
    SpecificMode,
    T1Parameters,
    T15Parameters,
    Tck,
    VoltageClass,
)
from cardcheck.findings import Finding, Severity
from cardcheck.hextext import spaced_hex

MAX_ATR_LENGTH = 33
"""ISO/IEC 7816-3: an ATR has at most 33 bytes, TS included."""

TS_DIRECT = 0x3B
TS_INVERSE = 0x3F
TS_INVERSE_READ_AS_DIRECT = 0x03
"""What TS 3F becomes when an inverse-convention card is read as direct convention."""

FI_TABLE: dict[int, tuple[int, float]] = {
    0x0: (372, 4.0),
    0x1: (372, 5.0),
    0x2: (558, 6.0),
    0x3: (744, 8.0),
    0x4: (1116, 12.0),
    0x5: (1488, 16.0),
    0x6: (1860, 20.0),
    0x9: (512, 5.0),
    0xA: (768, 7.5),
    0xB: (1024, 10.0),
    0xC: (1536, 15.0),
    0xD: (2048, 20.0),
}
"""FI nibble -> (Fi, fmax in MHz); the missing nibbles (7, 8, E, F) are RFU."""

DI_TABLE: dict[int, int] = {
    0x1: 1,
    0x2: 2,
    0x3: 4,
    0x4: 8,
    0x5: 16,
    0x6: 32,
    0x7: 64,
    0x8: 12,
    0x9: 20,
}
"""DI nibble -> Di; the missing nibbles (0, A-F) are RFU."""

DEFAULT_TA1 = 0x11
DEFAULT_WI = 10
DEFAULT_IFSC = 32
DEFAULT_BWI = 4
DEFAULT_CWI = 13

_KINDS = ("TA", "TB", "TC", "TD")
_PRESENCE_BITS = (0x10, 0x20, 0x40, 0x80)

_CLOCK_STOP = (
    ClockStop.NOT_SUPPORTED,
    ClockStop.STATE_L,
    ClockStop.STATE_H,
    ClockStop.NO_PREFERENCE,
)
_CLASS_BITS = ((0x01, VoltageClass.A), (0x02, VoltageClass.B), (0x04, VoltageClass.C))
_CLASS_TEXT = {
    VoltageClass.A: "A (5 V)",
    VoltageClass.B: "B (3 V)",
    VoltageClass.C: "C (1.8 V)",
}


def inverse_to_direct(data: bytes) -> bytes:
    """Bytes of an inverse-convention card read as direct, turned back into what the card sent.

    Inverse convention sends each byte complemented, most significant bit first; a reader
    that ignores it sees every byte bit-reversed and complemented. The transform is its own
    inverse.
    """
    out = bytearray()
    for b in data:
        c = ~b & 0xFF
        out.append(int(f"{c:08b}"[::-1], 2))
    return bytes(out)


_hex = spaced_hex


def _next_level_names(y: int, level: int) -> str:
    names = [f"{k}{level}" for k, bit in zip(_KINDS, _PRESENCE_BITS, strict=True) if y & bit]
    return ", ".join(names) if names else "no further interface bytes"


def _fmt_mhz(mhz: float) -> str:
    return f"{mhz:g} MHz"


class _Builder:
    """Mutable state of one decoding run; only :func:`decode_atr` sees it."""

    __slots__ = ("data", "findings", "interface", "interface_complete", "td_protocols", "truncated")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.findings: list[Finding] = []
        self.interface: list[InterfaceByte] = []
        self.td_protocols: list[int] = []
        self.truncated = False
        self.interface_complete = True

    def add(
        self,
        severity: Severity,
        code: str,
        message: str,
        offset: int | None = None,
        advice: str | None = None,
    ) -> None:
        self.findings.append(Finding(severity, code, message, offset, advice))


def _levels(b: _Builder) -> Iterator[tuple[int, str, int, int | None]]:
    """Walk the interface bytes: yields (level, kind, offset, protocol context).

    Stops (and records a ``truncated`` finding) when the data ends before an announced byte.
    The caller reads ``b.data[offset]``; TD bytes drive the walk.
    """
    data = b.data
    y = data[1] & 0xF0
    level = 1
    pos = 2
    protocol: int | None = None
    while True:
        next_y = 0
        for kind, bit in zip(_KINDS, _PRESENCE_BITS, strict=True):
            if not y & bit:
                continue
            if pos >= len(data):
                b.truncated = True
                b.interface_complete = False
                announcer = "T0" if level == 1 else f"TD{level - 1}"
                b.add(
                    Severity.ERROR,
                    "truncated",
                    f"the ATR ends after {len(data)} bytes, but {announcer} announces "
                    f"{kind}{level} at offset {pos}",
                    pos,
                    "read the ATR again; if it is always cut, the reader or its driver "
                    "loses bytes (try another reader or a lower clock)",
                )
                return
            yield level, kind, pos, protocol
            if kind == "TD":
                next_y = data[pos] & 0xF0
            pos += 1
        if not y & 0x80:
            return
        td = data[pos - 1]
        protocol = td & 0x0F
        y = next_y
        level += 1


@functools.lru_cache(maxsize=256)
def _meaning_ta1(value: int, offset: int) -> tuple[str, RateParameters, tuple[Finding, ...]]:
    """Meaning, rate parameters and findings of TA1 ``value``: cached, as a list of ATRs holds
    few distinct TA1 values (the values are immutable and shared)."""
    fi_code, di_code = value >> 4, value & 0x0F
    fi_entry = FI_TABLE.get(fi_code)
    di = DI_TABLE.get(di_code)
    fi = fi_entry[0] if fi_entry else None
    fmax = fi_entry[1] if fi_entry else None
    rate = RateParameters(fi_code, di_code, fi, di, fmax, explicit=True)
    parts = [
        f"Fi={fi}" if fi is not None else f"FI={fi_code:X} (RFU)",
        f"Di={di}" if di is not None else f"DI={di_code:X} (RFU)",
    ]
    if fmax is not None:
        parts.append(f"fmax {_fmt_mhz(fmax)}")
    if fi is not None and di is not None:
        parts.append(f"{fi / di:g} clocks per etu")
    findings: list[Finding] = []
    if fi is None:
        findings.append(
            Finding(
                Severity.WARNING,
                "rfu-value",
                f"TA1 {value:02X}: FI={fi_code:X} is reserved for future use (no Fi, no fmax)",
                offset,
                "the card's speed is unknown: readers will stay at 372/1, or refuse it",
            )
        )
    if di is None:
        findings.append(
            Finding(
                Severity.WARNING,
                "rfu-value",
                f"TA1 {value:02X}: DI={di_code:X} is reserved for future use (no Di)",
                offset,
                "the card's speed is unknown: readers will stay at 372/1, or refuse it",
            )
        )
    return "clock rate: " + ", ".join(parts), rate, tuple(findings)


def _meaning_ta2(value: int, b: _Builder, offset: int) -> tuple[str, SpecificMode]:
    mode = SpecificMode(
        protocol=value & 0x0F,
        implicit_parameters=bool(value & 0x10),
        can_change=not value & 0x80,
    )
    text = (
        f"specific mode: T={mode.protocol}, "
        + ("parameters implicitly known" if mode.implicit_parameters else "parameters from TA1")
        + ", "
        + ("able to change mode" if mode.can_change else "unable to change mode")
        + " (no PPS)"
    )
    if value & 0x60:
        b.add(
            Severity.WARNING,
            "rfu-value",
            f"TA2 {value:02X}: bits 0x60 are reserved for future use and should be 0",
            offset,
        )
    return text, mode


def _meaning_tb(value: int, level: int) -> str:
    if level == 1 and value == 0:
        return "VPP not connected (programming voltage, deprecated)"
    if level == 1:
        return (
            f"programming voltage PI1={value & 0x1F}, II={value >> 5} (deprecated since "
            "ISO/IEC 7816-3:2006, ignored by readers)"
        )
    return f"programming voltage PI2={value} (deprecated since ISO/IEC 7816-3:2006, ignored)"


def _meaning_tc1(value: int) -> str:
    if value == 255:
        return "extra guard time N=255: minimum guard time (12 etu for T=0, 11 etu for T=1)"
    if value == 0:
        return "extra guard time N=0 (none)"
    return f"extra guard time N={value}: {12 + value} etu between characters"


@functools.lru_cache(maxsize=1024)
def _meaning_td(value: int, level: int) -> str:
    """Meaning of TD``level`` ``value``: cached, as the same few TD bytes recur."""
    t = value & 0x0F
    nxt = _next_level_names(value & 0xF0, level + 1)
    if t == 15:
        return f"T=15: global interface bytes follow; next: {nxt}"
    return f"protocol T={t}; next: {nxt}"


def _t15_ta(
    value: int, b: _Builder, offset: int
) -> tuple[str, ClockStop, tuple[VoltageClass, ...]]:
    clock_stop = _CLOCK_STOP[value >> 6]
    ui = value & 0x3F
    classes = tuple(cls for bit, cls in _CLASS_BITS if ui & bit)
    class_text = ", ".join(_CLASS_TEXT[c] for c in classes) or "none"
    if ui & ~0x07:
        b.add(
            Severity.WARNING,
            "rfu-value",
            f"class indicator {ui:02X}: bits 0x38 are reserved for future use",
            offset,
        )
    return f"clock stop: {clock_stop.value}; classes: {class_text}", clock_stop, classes


def decode_atr(data: bytes) -> AtrInfo:
    """Decode the ATR ``data`` (TS first). Never raises: problems are findings on the result."""
    data = bytes(data)
    b = _Builder(data)

    if not data:
        b.add(
            Severity.ERROR,
            "empty",
            "the ATR is empty: the card did not answer",
            None,
            "check that the card is inserted the right way round and that its contacts are clean",
        )
        return _bare(b, None, None, None)

    ts = data[0]
    convention: Convention | None = None
    if ts == TS_DIRECT:
        convention = Convention.DIRECT
    elif ts == TS_INVERSE:
        convention = Convention.INVERSE
    else:
        b.add(
            Severity.ERROR,
            "invalid-ts",
            f"TS is {ts:02X}, not 3B (direct) or 3F (inverse convention): "
            "not an ISO/IEC 7816-3 asynchronous card answer",
            0,
            "a memory (synchronous) card, a reader at the wrong speed or clock, or noise",
        )
        if ts == TS_INVERSE_READ_AS_DIRECT:
            b.add(
                Severity.ERROR,
                "inverse-read-as-direct",
                "TS 03 is an inverse-convention card read as direct convention; read correctly "
                f"the ATR would be {_hex(inverse_to_direct(data))}",
                0,
                "the reader or its UART did not switch to inverse convention: use a reader "
                "(or driver) that handles TS 3F",
            )

    if len(data) < 2:
        b.truncated = True
        b.add(
            Severity.ERROR,
            "truncated",
            "the ATR ends after TS: T0 is missing",
            1,
            "read the ATR again; a one-byte answer is usually a reader or contact problem",
        )
        return _bare(b, convention, ts, None)

    t0 = data[1]
    k = t0 & 0x0F
    end = _interface_end(data)
    if end is None:
        # Cut short: not cached, as the findings name the length of the whole ATR.
        iface = _decode_interface(data)
    else:
        key = data[:end]
        cached = _INTERFACE_CACHE.get(key)
        if cached is None:
            cached = _decode_interface(key)
            if len(_INTERFACE_CACHE) >= _INTERFACE_CACHE_SIZE:
                _INTERFACE_CACHE.clear()
            _INTERFACE_CACHE[key] = cached
        iface = cached
    b.findings.extend(iface.findings)
    b.truncated = iface.truncated
    b.interface_complete = iface.complete
    return _finish(b, convention, ts, t0, k, iface)


def cache_clear() -> None:
    """Forget every decoding cached so far (the interface bytes', the historical bytes' and the
    shared TCK verdicts): a fresh start, as in a new process (tests and benchmarks)."""
    _INTERFACE_CACHE.clear()
    _VALID_TCKS.clear()
    _meaning_ta1.cache_clear()
    _meaning_td.cache_clear()
    historical.cache_clear()


_INTERFACE_CACHE: dict[bytes, _Interface] = {}
"""Decoded interface bytes by TS..last interface byte: lists of ATRs share few of them."""
_INTERFACE_CACHE_SIZE = 4096
"""Entries kept before the cache starts over."""


def _interface_end(data: bytes) -> int | None:
    """Offset just after the last interface byte, or None when the ATR ends before it."""
    size = len(data)
    y = data[1]
    pos = 2
    while True:
        pos += _PRESENT_COUNT[y >> 4]
        if pos > size:
            return None
        if not y & 0x80:
            return pos
        y = data[pos - 1]


_PRESENT_COUNT = tuple(bin(nibble).count("1") for nibble in range(16))
"""How many of TA/TB/TC/TD a presence nibble announces."""


class _Interface:
    """What T0 and the interface bytes say: a pure function of those bytes (see the cache).

    Internal and never changed once made; a plain slotted class rather than a dataclass,
    which would cost start-up time for every one-ATR call.
    """

    __slots__ = (
        "complete",
        "end",
        "extra_guard_time",
        "findings",
        "interface",
        "protocols",
        "rate",
        "specific_mode",
        "t1",
        "t15",
        "tck_required",
        "td_protocols",
        "truncated",
        "vpp_tb1",
        "wi",
        "xor",
    )

    def __init__(
        self,
        data: bytes,
        *,
        interface: tuple[InterfaceByte, ...],
        td_protocols: tuple[int, ...],
        protocols: tuple[int, ...],
        findings: tuple[Finding, ...],
        truncated: bool,
        complete: bool,
        end: int,
        rate: RateParameters,
        specific_mode: SpecificMode | None,
        extra_guard_time: int | None,
        vpp_tb1: int | None,
        wi: int,
        t1: T1Parameters | None,
        t15: T15Parameters | None,
    ) -> None:
        self.interface = interface
        self.td_protocols = td_protocols
        self.protocols = protocols
        self.findings = findings
        self.truncated = truncated
        self.complete = complete
        self.end = end
        """Offset of the first historical byte (the end of the data when cut short)."""
        self.rate = rate
        self.specific_mode = specific_mode
        self.extra_guard_time = extra_guard_time
        self.vpp_tb1 = vpp_tb1
        self.wi = wi
        self.t1 = t1
        self.t15 = t15
        self.tck_required = any(t != 0 for t in td_protocols)
        """Whether a TCK is due: unless only T=0 is indicated (possibly by default)."""
        xor = 0
        for byte in data[1:end]:
            xor ^= byte
        self.xor = xor
        """XOR of T0 to the last interface byte: where the TCK's expected value starts from."""


def _decode_interface(data: bytes) -> _Interface:
    """Walk T0 and the interface bytes of ``data`` (TS first, at least two bytes)."""
    b = _Builder(data)
    rate = RateParameters(1, 1, 372, 1, 5.0, explicit=False)
    specific_mode: SpecificMode | None = None
    extra_guard_time: int | None = None
    vpp_tb1: int | None = None
    wi = DEFAULT_WI
    t1_ta: int | None = None
    t1_tb: int | None = None
    t1_tc: int | None = None
    t15_ta: tuple[ClockStop, tuple[VoltageClass, ...], int] | None = None
    t15_tb: int | None = None
    end = 2

    for level, kind, offset, protocol in _levels(b):
        value = data[offset]
        end = offset + 1
        name = f"{kind}{level}"
        meaning: str
        if kind == "TD":
            t = value & 0x0F
            b.td_protocols.append(t)
            meaning = _meaning_td(value, level)
            if level == 1 and t == 15:
                b.add(
                    Severity.ERROR,
                    "td1-t15",
                    "TD1 announces T=15, which ISO/IEC 7816-3 forbids: T=15 is not a "
                    "protocol and may only appear from TD2 on",
                    offset,
                    "the card's ATR does not follow ISO/IEC 7816-3; readers may reject it",
                )
            elif t not in (0, 1, 15):
                meaning += " (not a common protocol)"
        elif level == 1 and kind == "TA":
            meaning, rate, found = _meaning_ta1(value, offset)
            b.findings.extend(found)
        elif level == 1 and kind == "TB":
            vpp_tb1 = value
            meaning = _meaning_tb(value, 1)
        elif level == 1 and kind == "TC":
            extra_guard_time = value
            meaning = _meaning_tc1(value)
        elif level == 2 and kind == "TA":
            meaning, specific_mode = _meaning_ta2(value, b, offset)
        elif level == 2 and kind == "TB":
            meaning = _meaning_tb(value, 2)
        elif level == 2 and kind == "TC":
            wi = value
            meaning = f"T=0 waiting time integer WI={value}: WWT = 960 x {value} x Fi/f"
            if value == 0:
                b.add(
                    Severity.WARNING,
                    "rfu-value",
                    "TC2 00: WI=0 is reserved for future use",
                    offset,
                )
        elif protocol == 1 and kind == "TA" and t1_ta is None:
            t1_ta = value
            meaning = f"T=1 IFSC={value} (information field size of the card)"
            if value in (0x00, 0xFF):
                b.add(
                    Severity.WARNING,
                    "invalid-ifsc",
                    f"IFSC {value:02X} is not allowed (valid values are 01 to FE)",
                    offset,
                    "T=1 exchanges with this card will likely fail; readers may fall back "
                    "to an IFSC of 32",
                )
        elif protocol == 1 and kind == "TB" and t1_tb is None:
            t1_tb = value
            meaning = f"T=1 BWI={value >> 4}, CWI={value & 0x0F} (block and character waiting)"
        elif protocol == 1 and kind == "TC" and t1_tc is None:
            t1_tc = value
            meaning = "T=1 error detection: " + ("CRC" if value & 0x01 else "LRC")
            if value & 0xFE:
                b.add(
                    Severity.WARNING,
                    "rfu-value",
                    f"TC{level} {value:02X}: only bit 0x01 (CRC/LRC) is defined for T=1",
                    offset,
                )
        elif protocol == 15 and kind == "TA" and t15_ta is None:
            meaning, stop, classes = _t15_ta(value, b, offset)
            t15_ta = (stop, classes, value & 0x3F)
        elif protocol == 15 and kind == "TB" and t15_tb is None:
            t15_tb = value
            meaning = f"SPU: use of contact C6 ({'proprietary' if value & 0x80 else 'standard'})"
            if value == 0:
                meaning = "SPU: contact C6 not used"
        elif protocol == 15:
            meaning = "global interface byte (reserved)"
        else:
            meaning = f"specific to T={protocol}"
        b.interface.append(InterfaceByte(name, kind, level, value, protocol, meaning, offset))

    if b.truncated:
        end = len(data)
    protocols = _protocols(b.td_protocols)
    t15_present = 15 in b.td_protocols
    if specific_mode is not None and specific_mode.protocol not in protocols:
        b.add(
            Severity.WARNING,
            "specific-mode-protocol",
            f"TA2 sets specific mode T={specific_mode.protocol}, which no TD offers",
            None,
        )
    t1: T1Parameters | None = None
    if 1 in protocols:
        t1 = T1Parameters(
            ifsc=DEFAULT_IFSC if t1_ta is None else t1_ta,
            bwi=DEFAULT_BWI if t1_tb is None else t1_tb >> 4,
            cwi=DEFAULT_CWI if t1_tb is None else t1_tb & 0x0F,
            crc=False if t1_tc is None else bool(t1_tc & 0x01),
            explicit_ifsc=t1_ta is not None,
            explicit_bwi_cwi=t1_tb is not None,
            explicit_edc=t1_tc is not None,
        )
    t15: T15Parameters | None = None
    if t15_present:
        t15 = T15Parameters(
            clock_stop=None if t15_ta is None else t15_ta[0],
            voltage_classes=() if t15_ta is None else t15_ta[1],
            class_indicator=None if t15_ta is None else t15_ta[2],
            spu=t15_tb,
        )
    return _Interface(
        data,
        interface=tuple(b.interface),
        td_protocols=tuple(b.td_protocols),
        protocols=protocols,
        findings=tuple(b.findings),
        truncated=b.truncated,
        complete=b.interface_complete,
        end=end,
        rate=rate,
        specific_mode=specific_mode,
        extra_guard_time=extra_guard_time,
        vpp_tb1=vpp_tb1,
        wi=wi,
        t1=t1,
        t15=t15,
    )


def _bare(b: _Builder, convention: Convention | None, ts: int | None, t0: int | None) -> AtrInfo:
    """The result for an ATR that ends before its interface bytes (empty, or TS alone)."""
    return AtrInfo(
        raw=b.data,
        convention=convention,
        ts=ts,
        t0=t0,
        interface_bytes=(),
        protocols=(0,),
        t15_present=False,
        rate=RateParameters(1, 1, 372, 1, 5.0, explicit=False),
        specific_mode=None,
        extra_guard_time=None,
        vpp_tb1=None,
        waiting_time_integer=DEFAULT_WI,
        t1=None,
        t15=None,
        historical=b"",
        historical_declared=0,
        tck=_TCK_NOT_REQUIRED,
        extra=b"",
        findings=tuple(b.findings),
        historical_info=decode_historical(b"", len(b.data)),
        td_protocols=(),
        interface_complete=False,
        historical_offset=len(b.data),
    )


_TCK_NOT_REQUIRED = Tck(present=False, value=None, expected=None, valid=None, required=False)
"""The TCK of an ATR that indicates T=0 alone: none is due (a frozen value, shared)."""
_TCK_CUT_REQUIRED = Tck(present=False, value=None, expected=None, valid=None, required=True)
"""The TCK of a truncated ATR that would need one."""
_VALID_TCKS: dict[int, Tck] = {}
"""A correct TCK by its value: the same few values recur in a list of ATRs."""


def _valid_tck(value: int) -> Tck:
    tck = _VALID_TCKS.get(value)
    if tck is None:
        tck = _VALID_TCKS[value] = Tck(True, value, value, True, True)
    return tck


def _protocols(td_protocols: list[int]) -> tuple[int, ...]:
    out: list[int] = []
    for t in td_protocols:
        if t != 15 and t not in out:
            out.append(t)
    return tuple(out) if out else (0,)


def _finish(
    b: _Builder,
    convention: Convention | None,
    ts: int,
    t0: int,
    k: int,
    p: _Interface,
) -> AtrInfo:
    data = b.data
    hist_start = p.end

    # Historical bytes.
    historical = data[hist_start : hist_start + k]
    if not b.truncated and len(historical) < k:
        b.truncated = True
        b.add(
            Severity.ERROR,
            "truncated",
            f"T0 announces {k} historical bytes, only {len(historical)} are there",
            len(data),
            "read the ATR again; if it is always cut, the reader or its driver loses bytes",
        )
    hist_info = decode_historical(historical, hist_start)
    b.findings.extend(hist_info.findings)

    # TCK: due unless only T=0 is indicated (possibly by default).
    required = p.tck_required
    tck_pos = hist_start + k
    tck: Tck
    if b.truncated:
        tck = _TCK_CUT_REQUIRED if required else _TCK_NOT_REQUIRED
        end = len(data)
    elif required:
        expected = p.xor
        for byte in historical:
            expected ^= byte
        if tck_pos < len(data):
            value = data[tck_pos]
            if value == expected:
                tck = _valid_tck(value)
            else:
                tck = Tck(True, value, expected, False, True)
                b.add(
                    Severity.ERROR,
                    "tck-mismatch",
                    f"TCK is {value:02X} but the XOR of T0 to the last historical byte "
                    f"gives {expected:02X}",
                    tck_pos,
                    "a corrupted read (try again, clean the contacts) or a card that "
                    "computes TCK wrongly; strict readers will reject it",
                )
            end = tck_pos + 1
        else:
            tck = Tck(False, None, expected, None, True)
            b.add(
                Severity.ERROR,
                "tck-missing",
                f"the ATR offers protocols other than T=0 alone, so a TCK is due at offset "
                f"{tck_pos} (it would be {expected:02X}), but the ATR ends there",
                tck_pos,
                "a truncated read (try again) or a card that omits TCK; strict readers "
                "will reject it",
            )
            end = tck_pos
    else:
        tck = _TCK_NOT_REQUIRED
        end = tck_pos

    extra = data[end:]
    if extra:
        shown = _hex(extra[:16]) + (" ..." if len(extra) > 16 else "")
        message = f"{len(extra)} byte(s) after the end of the ATR: {shown}"
        if not required and len(extra) == 1:
            xor = 0
            for byte in data[1:]:
                xor ^= byte
            if xor == 0:
                message += (
                    " (it would be a correct TCK, but only T=0 is indicated, where ISO/IEC "
                    "7816-3 forbids a TCK)"
                )
        b.add(
            Severity.WARNING,
            "extra-bytes",
            message,
            end,
            "they are not part of the ATR: a reader or driver artefact, or a card that "
            "sends a TCK it should not",
        )
    if max(end, len(data)) > MAX_ATR_LENGTH:
        # Bytes after the end count too: 3.5 MB of them is not an ATR with a warning.
        b.add(
            Severity.ERROR,
            "too-long",
            f"the ATR has {len(data)} bytes; ISO/IEC 7816-3 allows at most {MAX_ATR_LENGTH}",
            MAX_ATR_LENGTH,
            "readers may cut or reject it",
        )

    # Positional, in field order: 23 keywords would cost a twentieth of the whole decoding.
    return AtrInfo(
        data,  # raw
        convention,
        ts,
        t0,
        p.interface,  # interface_bytes
        p.protocols,
        p.t15 is not None,  # t15_present
        p.rate,
        p.specific_mode,
        p.extra_guard_time,
        p.vpp_tb1,
        p.wi,  # waiting_time_integer
        p.t1,
        p.t15,
        historical,
        k,  # historical_declared
        tck,
        extra,
        tuple(b.findings),
        hist_info,  # historical_info
        p.td_protocols,
        p.complete,  # interface_complete
        hist_start,  # historical_offset
    )


def encode_interface(info: AtrInfo) -> bytes:
    """Write TS, T0 and the interface bytes back from the decoded structure.

    T0 and every TDi are rebuilt from which bytes were found at each level, the number of
    historical bytes and the announced protocols, so that for an ATR whose interface bytes
    are complete, ``encode_interface(decode_atr(x)) == x[:info.historical_offset]``.
    """
    if info.ts is None:
        return b""
    if info.t0 is None:
        return bytes([info.ts])
    by_level: dict[int, dict[str, int]] = {}
    for ib in info.interface_bytes:
        by_level.setdefault(ib.level, {})[ib.kind] = ib.value

    def presence(level: int) -> int:
        kinds = by_level.get(level, {})
        return sum(bit for kind, bit in zip(_KINDS, _PRESENCE_BITS, strict=True) if kind in kinds)

    out = bytearray([info.ts, presence(1) | info.historical_declared])
    for level in sorted(by_level):
        kinds = by_level[level]
        for kind in _KINDS[:3]:
            if kind in kinds:
                out.append(kinds[kind])
        if "TD" in kinds:
            out.append(presence(level + 1) | info.td_protocols[level - 1])
    return bytes(out)
