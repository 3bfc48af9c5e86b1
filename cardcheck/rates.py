"""One rounding rule for bit rates shown to people: whole bit/s, rounded down.

libccid computes a card's rate as an integer division (``1000 * clock_kHz * Di / Fi``) and
CCID descriptors list whole rates the same way (4 MHz / 372 is listed as 10752 bit/s), so a
rate is shown as that integer everywhere (``cardcheck atr``, ``cardcheck compat``), never
10752 in one place and 10753 in another.
"""

from __future__ import annotations

import math


def whole_bps(rate: float) -> int:
    """``rate`` in whole bit/s, rounded down (a hair of float error below a whole number,
    as 3.5712 MHz / 372 can give, still counts as that whole number)."""
    return math.floor(rate + 1e-6)
