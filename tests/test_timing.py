"""ATR timing (ISO/IEC 7816-3): bit rates, etu, guard and waiting times, fmax and clock flags."""

from __future__ import annotations

import json
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cardcheck.atr.decode import decode_atr
from cardcheck.atr.model import AtrInfo
from cardcheck.atr.timing import (
    COMMON_CLOCKS_MHZ,
    bit_rate,
    clock_table,
    etu_seconds,
    timing_for,
)

MHZ = 1_000_000.0


def atr(text: str) -> AtrInfo:
    return decode_atr(bytes.fromhex(text.replace(" ", "")))


def whole(rate: float | None) -> int:
    """Bit rate as the REFERENCE table writes it: whole bit/s, truncated (154838.7 -> 154838)."""
    assert rate is not None
    return math.floor(rate + 1e-6)


# REFERENCE §1 bit-rate table, every cell; "over" marks a clock above fmax.
# Row ATRs carry only TA1 (3B 10 <TA1>): T=0 by default, no historical bytes.
TABLE_CLOCKS = (3.5712, 4.0, 4.8, 5.0, 6.0, 8.0)
TABLE: dict[int, tuple[tuple[int | None, bool], ...]] = {
    0x11: ((9600, False), (10752, False), (12903, False), (13440, False), (16129, True),
           (21505, True)),
    0x18: ((115200, False), (129032, False), (154838, False), (161290, False), (None, True),
           (None, True)),
    0x96: ((223200, False), (250000, False), (300000, False), (312500, False), (None, True),
           (None, True)),
    0x38: ((57600, False), (64516, False), (77419, False), (80645, False), (96774, False),
           (129032, False)),
}  # fmt: skip
CELLS = [
    (ta1, mhz, rate, over)
    for ta1, row in TABLE.items()
    for mhz, (rate, over) in zip(TABLE_CLOCKS, row, strict=True)
]


@pytest.mark.parametrize(("ta1", "mhz", "rate", "over"), CELLS)
def test_reference_table_timing_for(ta1: int, mhz: float, rate: int | None, over: bool) -> None:
    """REFERENCE §1 bit-rate table, through timing_for."""
    timing = timing_for(atr(f"3B 10 {ta1:02X}"), mhz * MHZ)
    if rate is not None:
        assert whole(timing.bit_rate) == rate
    assert timing.above_fmax is over


@pytest.mark.parametrize("ta1", sorted(TABLE))
def test_reference_table_clock_table(ta1: int) -> None:
    """REFERENCE §1 bit-rate table, through clock_table (one row per clock)."""
    rows = clock_table(atr(f"3B 10 {ta1:02X}"), TABLE_CLOCKS)
    assert [row.clock_mhz for row in rows] == list(TABLE_CLOCKS)
    for row, (rate, over) in zip(rows, TABLE[ta1], strict=True):
        if rate is not None:
            assert whole(row.bit_rate) == rate
        assert row.above_fmax is over
        # default speed 372/1 whatever TA1 says (REFERENCE §1: 9600 bit/s at 3.5712 MHz)
        assert row.default_bit_rate == pytest.approx(row.clock_mhz * MHZ / 372)


def test_default_clock_table_rows() -> None:
    rows = clock_table(atr("3B 00"))
    assert tuple(row.clock_mhz for row in rows) == COMMON_CLOCKS_MHZ
    assert whole(rows[0].default_bit_rate) == 9600
    assert whole(rows[0].bit_rate) == 9600  # no TA1: 372/1
    # activation window is 1-5 MHz (REFERENCE §1): 6 and 8 MHz are outside
    assert [row.outside_activation_window for row in rows] == [
        False,
        False,
        False,
        False,
        False,
        True,
        True,
    ]
    assert list(rows[0].to_json()) == [
        "clock_mhz",
        "bit_rate",
        "default_bit_rate",
        "above_fmax",
        "outside_activation_window",
    ]


@pytest.mark.parametrize(
    ("fi", "di", "mhz", "rate"),
    [
        (372, 1, 3.5712, 9600),  # REFERENCE §1: the default speed
        (372, 12, 3.5712, 115200),  # TA1 18
        (512, 32, 4.8, 300000),  # TA1 96
        (744, 12, 8.0, 129032),  # TA1 38
    ],
)
def test_bit_rate_and_etu_helpers(fi: int, di: int, mhz: float, rate: int) -> None:
    assert whole(bit_rate(fi, di, mhz * MHZ)) == rate
    assert etu_seconds(fi, di, mhz * MHZ) == pytest.approx(1 / bit_rate(fi, di, mhz * MHZ))


@pytest.mark.parametrize("clock", [0.0, -1.0, math.inf, math.nan])
def test_bad_clock_is_refused(clock: float) -> None:
    with pytest.raises(ValueError):
        bit_rate(372, 1, clock)
    with pytest.raises(ValueError):
        timing_for(atr("3B 00"), clock)


def test_t1_card_with_minimum_guard_time() -> None:
    # smartcard_list: 3B F6 18 00 FF 81 31 FE 45 4A 32 41 30 38 30 1B "NXP J2A080 - 80K (blank)"
    # TA1 18 (372/12), TC1 FF (minimum guard time), T=1 only, TB3 45 (BWI 4, CWI 5).
    info = atr("3B F6 18 00 FF 81 31 FE 45 4A 32 41 30 38 30 1B")
    t = timing_for(info, 3.5712 * MHZ)
    etu = 372 / (12 * 3.5712 * MHZ)
    assert t.etu_s == pytest.approx(etu)
    assert t.etu_us == pytest.approx(etu * 1e6)
    assert whole(t.bit_rate) == 115200
    assert t.minimum_guard_time is True
    assert t.t0 is None  # T=0 is not offered
    assert t.t1 is not None
    assert t.t1.guard_time_etu == 11  # ISO 7816-3: N=255 gives 11 etu in T=1
    assert t.t1.guard_time_s == pytest.approx(11 * etu)
    assert (t.t1.bwi, t.t1.cwi) == (4, 5)
    assert t.t1.cwt_etu == 11 + 2**5
    assert t.t1.cwt_s == pytest.approx(43 * etu)
    # BWT = 11 etu + 2^4 * 960 * 372 / f; 960*372/3.5712 MHz is exactly 0.1 s
    assert t.t1.bwt_s == pytest.approx(11 * etu + 1.6)
    assert t.t1.bgt_etu == 22
    assert t.t1.bgt_s == pytest.approx(22 * etu)
    assert t.above_fmax is False
    assert t.outside_activation_window is False


def test_yubikey_t1_timing() -> None:
    # smartcard_list: 3B FD 13 00 00 81 31 FE 15 80 73 C0 21 C0 57 59 75 62 69 4B 65 79 40
    # "Yubico YubiKey 5 NFC (PKI)": TA1 13 (372/4), TC1 00, TB3 15 (BWI 1, CWI 5).
    info = atr("3B FD 13 00 00 81 31 FE 15 80 73 C0 21 C0 57 59 75 62 69 4B 65 79 40")
    t = timing_for(info, 4 * MHZ)
    assert t.etu_us == pytest.approx(23.25)
    assert t.t1 is not None
    assert t.t1.guard_time_etu == 12
    assert t.t1.cwt_s == pytest.approx(43 * 23.25e-6)
    assert t.t1.bwt_s == pytest.approx(11 * 23.25e-6 + 2 * 960 * 372 / 4e6)


def test_t0_work_waiting_time() -> None:
    # smartcard_list: 3B 9F 96 80 1F C7 80 31 E0 73 F6 21 13 67 4D 45 16 00 43 01 00 8C
    # "SIM From Tuenti Movil Spain": TA1 96 (512/32), T=0 and T=15, WI default 10.
    info = atr("3B 9F 96 80 1F C7 80 31 E0 73 F6 21 13 67 4D 45 16 00 43 01 00 8C")
    t = timing_for(info, 3.5712 * MHZ)
    assert t.t1 is None
    assert t.t0 is not None
    assert t.t0.waiting_time_integer == 10
    assert t.t0.wwt_s == pytest.approx(960 * 10 * 512 / (3.5712 * MHZ))
    assert t.t0.guard_time_etu == 12
    assert t.t0.guard_time_s == pytest.approx(12 * 512 / (32 * 3.5712 * MHZ))


@pytest.mark.parametrize(
    ("source", "text", "guard_etu"),
    [
        ("ISO 7816-3 TC1 absent: N = 0", "3B 00", 12),
        ("ISO 7816-3 TC1 = 02: 12 + N etu", "3B 40 02", 14),
        ("ISO 7816-3 TC1 = FF in T=0: minimum 12 etu", "3B 40 FF", 12),
        ("ISO 7816-3 TC2 = 20 (WI 32) with TC1 = 05", "3B C0 05 40 20", 17),
    ],
)
def test_t0_guard_time(source: str, text: str, guard_etu: int) -> None:
    t = timing_for(atr(text), 4 * MHZ)
    assert t.t0 is not None, source
    assert t.t0.guard_time_etu == guard_etu, source
    assert t.t0.guard_time_s == pytest.approx(guard_etu * 372 / (4 * MHZ)), source


def test_waiting_time_integer_from_tc2() -> None:
    # ISO 7816-3: TC2 = WI; WWT = 960 * WI * Fi / f
    t = timing_for(atr("3B C0 05 40 20"), 4 * MHZ)
    assert t.t0 is not None
    assert t.t0.waiting_time_integer == 0x20
    assert t.t0.wwt_s == pytest.approx(960 * 32 * 372 / (4 * MHZ))


@pytest.mark.parametrize(
    ("source", "text", "fi", "di"),
    [
        ("REFERENCE §1: FI 7 is RFU", "3B 10 71", None, 1),
        ("REFERENCE §1: FI E is RFU", "3B 10 E1", None, 1),
        ("REFERENCE §1: DI 0 is RFU", "3B 10 10", 372, None),
        ("REFERENCE §1: DI A is RFU", "3B 10 1A", 372, None),
    ],
)
def test_rfu_values_give_none(source: str, text: str, fi: int | None, di: int | None) -> None:
    t = timing_for(atr(text), 4 * MHZ)
    assert (t.fi, t.di) == (fi, di), source
    assert t.etu_s is None and t.etu_us is None and t.bit_rate is None, source
    assert t.t0 is not None
    assert t.t0.guard_time_s is None
    assert (t.t0.wwt_s is None) is (fi is None)
    assert t.above_fmax is (None if fi is None else False)
    [row] = clock_table(atr(text), (4.0,))
    assert row.bit_rate is None
    assert whole(row.default_bit_rate) == 10752
    json.dumps(t.to_json())


@pytest.mark.parametrize(
    ("mhz", "outside"),
    [(0.5, True), (1.0, False), (3.5712, False), (5.0, False), (5.01, True), (8.0, True)],
)
def test_activation_window(mhz: float, outside: bool) -> None:
    """REFERENCE §1: during activation and the ATR the clock must be 1-5 MHz."""
    assert timing_for(atr("3B 00"), mhz * MHZ).outside_activation_window is outside


def test_fmax_boundary_is_allowed() -> None:
    """fmax is a maximum: TA1 38 (fmax 8 MHz) at exactly 8 MHz is fine, above is not."""
    info = atr("3B 10 38")
    assert timing_for(info, 8 * MHZ).above_fmax is False
    assert timing_for(info, 8.5 * MHZ).above_fmax is True


def test_json_keys() -> None:
    info = atr("3B F6 18 00 FF 81 31 FE 45 4A 32 41 30 38 30 1B")
    out = timing_for(info, 3.5712 * MHZ).to_json()
    assert list(out) == [
        "clock_hz",
        "fi",
        "di",
        "fmax_mhz",
        "etu_s",
        "etu_us",
        "bit_rate",
        "default_bit_rate",
        "extra_guard_time",
        "minimum_guard_time",
        "above_fmax",
        "outside_activation_window",
        "t0",
        "t1",
    ]
    assert out["t0"] is None
    assert isinstance(out["t1"], dict)
    assert list(out["t1"]) == [
        "guard_time_etu",
        "guard_time_s",
        "cwi",
        "bwi",
        "cwt_etu",
        "cwt_s",
        "bwt_s",
        "bgt_etu",
        "bgt_s",
    ]
    assert out["extra_guard_time"] == 255
    json.dumps(out)


@given(st.binary(max_size=40), st.floats(min_value=0.1, max_value=50.0))
def test_any_atr_any_clock(data: bytes, mhz: float) -> None:
    """Whatever decode_atr returns, timing never raises and rate and etu agree."""
    info = decode_atr(data)
    t = timing_for(info, mhz * MHZ)
    if t.bit_rate is not None:
        assert t.etu_s is not None
        assert t.bit_rate * t.etu_s == pytest.approx(1.0)
    else:
        assert t.etu_s is None
    fmax = info.rate.fmax_mhz
    assert t.above_fmax is (None if fmax is None else mhz > fmax)
    json.dumps(t.to_json())
    json.dumps([row.to_json() for row in clock_table(info)])
