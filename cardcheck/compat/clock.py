"""Clock advice for a card: bit rates at common reader clocks and which clocks are in spec.

A clock is in spec for a card when it is within the 1-5 MHz ISO/IEC 7816-3 allows during
activation and the ATR, and not above the card's fmax (TA1). Serial readers with a selectable
crystal (3.5712 or 6 MHz) run the card at that crystal from the ATR on. The arithmetic is
:mod:`cardcheck.atr.timing`'s.
"""

from __future__ import annotations

from cardcheck.atr.model import AtrInfo
from cardcheck.atr.timing import COMMON_CLOCKS_MHZ, ClockRow, clock_table
from cardcheck.rates import whole_bps
from cardcheck.values import Value

CRYSTALS_MHZ: tuple[float, ...] = (3.5712, 6.0)
"""The crystals serial readers (Phoenix/Smartmouse style) usually offer."""


class ClockOption(Value):
    """What the card gives at one clock, and whether that clock is in spec for it."""

    clock_mhz: float
    """The clock in MHz."""
    default_rate_bps: float
    """Bit rate at Fi=372, Di=1 (during the ATR, and when no speed is negotiated)."""
    card_rate_bps: float | None
    """Bit rate at TA1's Fi/Di; None when either is RFU."""
    within_fmax: bool | None
    """Not above the card's fmax; None when fmax is RFU."""
    within_activation: bool
    """Within the 1-5 MHz allowed during activation and the ATR."""

    @property
    def in_spec(self) -> bool:
        """Within the activation window and not above fmax (unknown fmax does not count)."""
        return self.within_activation and self.within_fmax is not False

    def to_json(self) -> dict[str, object]:
        """JSON form (stable key order)."""
        return {
            "clock_mhz": self.clock_mhz,
            "default_rate_bps": round(self.default_rate_bps),
            "card_rate_bps": None if self.card_rate_bps is None else round(self.card_rate_bps),
            "within_fmax": self.within_fmax,
            "within_activation": self.within_activation,
            "in_spec": self.in_spec,
        }


class CrystalChoice(Value):
    """One crystal of a serial reader and whether it suits the card."""

    option: ClockOption
    """The card at that crystal."""
    reason: str
    """Why it is in spec or not, in one sentence."""

    def to_json(self) -> dict[str, object]:
        """JSON form (stable key order)."""
        return {
            "clock_mhz": self.option.clock_mhz,
            "in_spec": self.option.in_spec,
            "reason": self.reason,
        }


class ClockAdvice(Value):
    """Clock advice for one card (and the reader's clock when known)."""

    ta1: int | None
    """TA1 of the ATR; None when absent (defaults 372/1, fmax 5 MHz)."""
    fi: int | None
    """Fi of TA1 (372 by default); None when RFU."""
    di: int | None
    """Di of TA1 (1 by default); None when RFU."""
    fmax_mhz: float | None
    """The card's fmax in MHz; None when RFU."""
    options: tuple[ClockOption, ...]
    """The card at each common reader clock."""
    best_mhz: float | None
    """The fastest common clock that is in spec; None when none is."""
    crystals: tuple[CrystalChoice, ...]
    """The serial-reader crystal choices."""
    reader: ClockOption | None
    """The card at the reader's own clock; None when that clock is unknown."""

    def to_json(self) -> dict[str, object]:
        """The ``clock_advice`` object of ``compat --json``."""
        return {
            "ta1": None if self.ta1 is None else f"{self.ta1:02X}",
            "fi": self.fi,
            "di": self.di,
            "fmax_mhz": self.fmax_mhz,
            "best_mhz": self.best_mhz,
            "reader": None if self.reader is None else self.reader.to_json(),
            "options": [o.to_json() for o in self.options],
            "crystals": [c.to_json() for c in self.crystals],
        }


def _option(row: ClockRow) -> ClockOption:
    return ClockOption(
        clock_mhz=row.clock_mhz,
        default_rate_bps=row.default_bit_rate,
        card_rate_bps=row.bit_rate,
        within_fmax=None if row.above_fmax is None else not row.above_fmax,
        within_activation=not row.outside_activation_window,
    )


def _crystal_reason(option: ClockOption, fmax_mhz: float | None) -> str:
    where = f"{option.clock_mhz:g} MHz"
    problems: list[str] = []
    if not option.within_activation:
        problems.append("outside the 1-5 MHz ISO 7816-3 allows during the ATR")
    if option.within_fmax is False and fmax_mhz is not None:
        problems.append(f"above the card's fmax of {fmax_mhz:g} MHz")
    if problems:
        return f"{where} is " + " and ".join(problems) + "."
    rate = option.card_rate_bps if option.card_rate_bps is not None else option.default_rate_bps
    fmax = "unknown (RFU)" if fmax_mhz is None else f"{fmax_mhz:g} MHz"
    return (
        f"{where} is in spec (fmax {fmax}): {whole_bps(option.default_rate_bps)} bit/s during "
        f"the ATR, {whole_bps(rate)} bit/s at the card's Fi/Di."
    )


def clock_advice(info: AtrInfo, reader_clock_mhz: float | None = None) -> ClockAdvice:
    """Bit rates at common clocks, the serial crystals, and the reader's own clock if known."""
    options = tuple(_option(row) for row in clock_table(info, COMMON_CLOCKS_MHZ))
    crystals = tuple(
        CrystalChoice(option, _crystal_reason(option, info.rate.fmax_mhz))
        for option in (_option(row) for row in clock_table(info, CRYSTALS_MHZ))
    )
    reader = None
    if reader_clock_mhz is not None and reader_clock_mhz > 0:
        reader = _option(clock_table(info, (reader_clock_mhz,))[0])
    in_spec = [o.clock_mhz for o in options if o.in_spec]
    return ClockAdvice(
        ta1=(info.rate.fi_code << 4 | info.rate.di_code) if info.rate.explicit else None,
        fi=info.rate.fi,
        di=info.rate.di,
        fmax_mhz=info.rate.fmax_mhz,
        options=options,
        best_mhz=max(in_spec) if in_spec else None,
        crystals=crystals,
        reader=reader,
    )
