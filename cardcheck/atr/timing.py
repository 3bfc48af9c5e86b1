"""ATR timing (ISO/IEC 7816-3): etu, bit rate, guard and waiting times at a given clock.

Pure arithmetic over a decoded :class:`~cardcheck.atr.model.AtrInfo`; nothing here talks to a
reader. Values that depend on a reserved (RFU) Fi or Di are ``None``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from cardcheck.atr.model import AtrInfo
from cardcheck.values import Value

DEFAULT_FI = 372
"""Fi used before any speed change (and for the BWT formula)."""
DEFAULT_DI = 1
"""Di used before any speed change."""
ACTIVATION_MIN_HZ = 1_000_000.0
"""Lowest clock allowed during activation and the ATR."""
ACTIVATION_MAX_HZ = 5_000_000.0
"""Highest clock allowed during activation and the ATR."""
MINIMUM_GUARD_TIME_N = 255
"""TC1 value asking for the minimum guard time."""
BLOCK_GUARD_TIME_ETU = 22
"""T=1 block guard time, in etu."""

COMMON_CLOCKS_MHZ: tuple[float, ...] = (3.5712, 3.6864, 4.0, 4.8, 5.0, 6.0, 8.0)
"""Clock frequencies readers commonly drive, in MHz (3.5712 MHz gives 9600 bit/s at 372/1)."""


def _check_clock(clock_hz: float) -> None:
    if not math.isfinite(clock_hz) or clock_hz <= 0:
        raise ValueError(f"clock must be a positive number of hertz, got {clock_hz!r}")


def bit_rate(fi: int, di: int, clock_hz: float) -> float:
    """Bits per second for Fi, Di at ``clock_hz``: D*f/F. Raises ValueError for a bad clock."""
    _check_clock(clock_hz)
    return di * clock_hz / fi


def etu_seconds(fi: int, di: int, clock_hz: float) -> float:
    """Elementary time unit in seconds: F/(D*f). Raises ValueError for a bad clock."""
    _check_clock(clock_hz)
    return fi / (di * clock_hz)


def above_fmax(info: AtrInfo, clock_hz: float) -> bool | None:
    """True when ``clock_hz`` exceeds the card's fmax; None when fmax is RFU."""
    fmax = info.rate.fmax_mhz
    if fmax is None:
        return None
    return clock_hz > fmax * 1_000_000.0


def outside_activation_window(clock_hz: float) -> bool:
    """True when ``clock_hz`` is outside the 1-5 MHz allowed during activation and the ATR."""
    return not ACTIVATION_MIN_HZ <= clock_hz <= ACTIVATION_MAX_HZ


def _seconds(etu: float | None, count: float) -> float | None:
    return None if etu is None else etu * count


class T0Timing(Value):
    """T=0 character timing."""

    guard_time_etu: int
    """Character guard time in etu: 12 + N, or 12 when N = 255."""
    guard_time_s: float | None
    """Guard time in seconds; None when Fi or Di is RFU."""
    waiting_time_integer: int
    """WI from TC2 (default 10)."""
    wwt_s: float | None
    """Work waiting time 960*WI*Fi/f in seconds; None when Fi is RFU."""

    def to_json(self) -> dict[str, object]:
        """JSON form (stable key order)."""
        return {
            "guard_time_etu": self.guard_time_etu,
            "guard_time_s": self.guard_time_s,
            "waiting_time_integer": self.waiting_time_integer,
            "wwt_s": self.wwt_s,
        }


class T1Timing(Value):
    """T=1 character and block timing."""

    guard_time_etu: int
    """Character guard time in etu: 12 + N, or 11 when N = 255."""
    guard_time_s: float | None
    """Guard time in seconds; None when Fi or Di is RFU."""
    cwi: int
    """Character waiting time integer."""
    bwi: int
    """Block waiting time integer."""
    cwt_etu: int
    """Character waiting time 11 + 2^CWI, in etu."""
    cwt_s: float | None
    """CWT in seconds; None when Fi or Di is RFU."""
    bwt_s: float | None
    """Block waiting time 11 etu + 2^BWI*960*372/f in seconds; None when Fi or Di is RFU."""
    bgt_etu: int
    """Block guard time, 22 etu."""
    bgt_s: float | None
    """BGT in seconds; None when Fi or Di is RFU."""

    def to_json(self) -> dict[str, object]:
        """JSON form (stable key order)."""
        return {
            "guard_time_etu": self.guard_time_etu,
            "guard_time_s": self.guard_time_s,
            "cwi": self.cwi,
            "bwi": self.bwi,
            "cwt_etu": self.cwt_etu,
            "cwt_s": self.cwt_s,
            "bwt_s": self.bwt_s,
            "bgt_etu": self.bgt_etu,
            "bgt_s": self.bgt_s,
        }


class Timing(Value):
    """Timing of one card at one clock, at the speed TA1 announces."""

    clock_hz: float
    """The clock frequency f, in hertz."""
    fi: int | None
    """Clock rate conversion integer from TA1 (372 by default); None when RFU."""
    di: int | None
    """Baud rate adjustment integer from TA1 (1 by default); None when RFU."""
    fmax_mhz: float | None
    """The card's maximum clock in MHz; None when RFU."""
    etu_s: float | None
    """Elementary time unit F/(D*f) in seconds; None when Fi or Di is RFU."""
    bit_rate: float | None
    """D*f/F bits per second; None when Fi or Di is RFU."""
    default_bit_rate: float
    """Bit rate at 372/1 (the speed of the ATR itself and of a card left unnegotiated)."""
    extra_guard_time: int
    """N from TC1 (0 when absent)."""
    minimum_guard_time: bool
    """True when N = 255: the minimum guard time (12 etu for T=0, 11 etu for T=1)."""
    above_fmax: bool | None
    """The clock exceeds the card's fmax; None when fmax is RFU."""
    outside_activation_window: bool
    """The clock is outside 1-5 MHz, not allowed during activation and the ATR."""
    t0: T0Timing | None
    """T=0 times when the card offers T=0, else None."""
    t1: T1Timing | None
    """T=1 times when the card offers T=1, else None."""

    @property
    def etu_us(self) -> float | None:
        """The etu in microseconds; None when Fi or Di is RFU."""
        return None if self.etu_s is None else self.etu_s * 1_000_000.0

    def to_json(self) -> dict[str, object]:
        """JSON form (stable key order)."""
        return {
            "clock_hz": self.clock_hz,
            "fi": self.fi,
            "di": self.di,
            "fmax_mhz": self.fmax_mhz,
            "etu_s": self.etu_s,
            "etu_us": self.etu_us,
            "bit_rate": self.bit_rate,
            "default_bit_rate": self.default_bit_rate,
            "extra_guard_time": self.extra_guard_time,
            "minimum_guard_time": self.minimum_guard_time,
            "above_fmax": self.above_fmax,
            "outside_activation_window": self.outside_activation_window,
            "t0": None if self.t0 is None else self.t0.to_json(),
            "t1": None if self.t1 is None else self.t1.to_json(),
        }


def _guard_time_etu(n: int, protocol: int) -> int:
    if n == MINIMUM_GUARD_TIME_N:
        return 12 if protocol == 0 else 11
    return 12 + n


def timing_for(info: AtrInfo, clock_hz: float) -> Timing:
    """Times and rates of the card described by ``info`` at ``clock_hz`` hertz.

    Raises ValueError only when ``clock_hz`` is not a positive finite number.
    """
    _check_clock(clock_hz)
    fi, di = info.rate.fi, info.rate.di
    etu = None if fi is None or di is None else etu_seconds(fi, di, clock_hz)
    rate = None if fi is None or di is None else bit_rate(fi, di, clock_hz)
    n = info.extra_guard_time or 0

    t0: T0Timing | None = None
    if 0 in info.protocols:
        gt0 = _guard_time_etu(n, 0)
        wi = info.waiting_time_integer
        t0 = T0Timing(
            guard_time_etu=gt0,
            guard_time_s=_seconds(etu, gt0),
            waiting_time_integer=wi,
            wwt_s=None if fi is None else 960 * wi * fi / clock_hz,
        )

    t1: T1Timing | None = None
    if info.t1 is not None:
        gt1 = _guard_time_etu(n, 1)
        cwt_etu = 11 + 2**info.t1.cwi
        t1 = T1Timing(
            guard_time_etu=gt1,
            guard_time_s=_seconds(etu, gt1),
            cwi=info.t1.cwi,
            bwi=info.t1.bwi,
            cwt_etu=cwt_etu,
            cwt_s=_seconds(etu, cwt_etu),
            bwt_s=None if etu is None else 11 * etu + 2**info.t1.bwi * 960 * 372 / clock_hz,
            bgt_etu=BLOCK_GUARD_TIME_ETU,
            bgt_s=_seconds(etu, BLOCK_GUARD_TIME_ETU),
        )

    return Timing(
        clock_hz=clock_hz,
        fi=fi,
        di=di,
        fmax_mhz=info.rate.fmax_mhz,
        etu_s=etu,
        bit_rate=rate,
        default_bit_rate=bit_rate(DEFAULT_FI, DEFAULT_DI, clock_hz),
        extra_guard_time=n,
        minimum_guard_time=n == MINIMUM_GUARD_TIME_N,
        above_fmax=above_fmax(info, clock_hz),
        outside_activation_window=outside_activation_window(clock_hz),
        t0=t0,
        t1=t1,
    )


class ClockRow(Value):
    """One row of the clock table: what a card gives at one clock frequency."""

    clock_mhz: float
    """The clock frequency in MHz."""
    bit_rate: float | None
    """Bit rate at TA1's Fi/Di; None when either is RFU."""
    default_bit_rate: float
    """Bit rate at the default 372/1."""
    above_fmax: bool | None
    """The clock exceeds the card's fmax; None when fmax is RFU."""
    outside_activation_window: bool
    """The clock is outside the 1-5 MHz activation window."""

    @property
    def clock_hz(self) -> float:
        """The clock frequency in hertz."""
        return self.clock_mhz * 1_000_000.0

    def to_json(self) -> dict[str, object]:
        """JSON form (stable key order)."""
        return {
            "clock_mhz": self.clock_mhz,
            "bit_rate": self.bit_rate,
            "default_bit_rate": self.default_bit_rate,
            "above_fmax": self.above_fmax,
            "outside_activation_window": self.outside_activation_window,
        }


def clock_table(
    info: AtrInfo, clocks_mhz: Sequence[float] = COMMON_CLOCKS_MHZ
) -> tuple[ClockRow, ...]:
    """Bit rates of the card at each clock in ``clocks_mhz`` (MHz), with the fmax markings."""
    rows: list[ClockRow] = []
    for mhz in clocks_mhz:
        hz = mhz * 1_000_000.0
        _check_clock(hz)
        fi, di = info.rate.fi, info.rate.di
        rows.append(
            ClockRow(
                clock_mhz=mhz,
                bit_rate=None if fi is None or di is None else bit_rate(fi, di, hz),
                default_bit_rate=bit_rate(DEFAULT_FI, DEFAULT_DI, hz),
                above_fmax=above_fmax(info, hz),
                outside_activation_window=outside_activation_window(hz),
            )
        )
    return tuple(rows)
