"""The validators of cardcheck's numeric options, written once for every command.

Each validator takes the option's text (or an already converted default) and returns the
value, or raises :class:`OptionValueError` (a :class:`ValueError`) whose message says what is
wrong and what is allowed. NaN, infinities and values out of range are refused everywhere:
``float("nan")`` passes any ``min <= x <= max`` test that is written as two comparisons
failing, so ranges are checked here with :func:`math.isfinite` first.

Each numeric option declared in :mod:`cardcheck.clispec` names its validator here. The typer
commands use it as the option's parser (:func:`for_click`: click then reports ``Invalid value
for '--clock': ...`` with exit 2); the typer-free start-up path (:mod:`cardcheck.fastpath`)
calls the same function and leaves a refused value to typer, which gives that message. Pure:
no typer, no printing.
"""

from __future__ import annotations

import math

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TypeVar

    T = TypeVar("T")


class OptionValueError(ValueError):
    """A value that an option does not accept; the message says why and what is allowed,
    ``hint`` (if any) what to do instead."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


def _text(value: object) -> str:
    return value if isinstance(value, str) else str(value)


def _g(number: float) -> str:
    """``number`` as people write it: 31536000, not 3.1536e+07; 0.001; 1e+99 stays short."""
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return f"{number:g}"


def _float(value: object, *, what: str, low: float, high: float, unit: str) -> float:
    """``value`` as a finite float in [low, high]."""
    if isinstance(value, bool):
        raise OptionValueError(f"{what} must be a number, not {value!r}")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = _text(value).strip()
        try:
            number = float(text)
        except ValueError:
            raise OptionValueError(
                f"{text!r} is not a number; {what} is {_g(low)} to {_g(high)}{unit}"
            ) from None
    if not math.isfinite(number):
        raise OptionValueError(
            f"{_text(value).strip()!r} is not a finite number; {what} is {_g(low)} to "
            f"{_g(high)}{unit}"
        )
    if not low <= number <= high:
        raise OptionValueError(
            f"{_g(number)} is out of range; {what} is {_g(low)} to {_g(high)}{unit}"
        )
    return number


def _int(value: object, *, what: str, low: int, high: int, unit: str = "") -> int:
    """``value`` as an integer in [low, high] (no fractions, no exponents, no NaN)."""
    if isinstance(value, bool):
        raise OptionValueError(f"{what} must be a whole number, not {value!r}")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not value.is_integer():
            raise OptionValueError(f"{value!r} is not a whole number; {what} is {low} to {high}")
        number = int(value)
    else:
        text = _text(value).strip()
        try:
            number = int(text, 10)
        except ValueError:
            raise OptionValueError(
                f"{text!r} is not a whole number; {what} is {low} to {high}{unit}"
            ) from None
    if not low <= number <= high:
        raise OptionValueError(f"{number} is out of range; {what} is {low} to {high}{unit}")
    return number


CLOCK_MHZ_RANGE = (0.001, 1000.0)
"""A card clock in MHz (ISO/IEC 7816-3 cards run at 1-20 MHz; wider to allow experiments)."""
MAX_RATE_RANGE = (1, 0xFFFFFFFE)
"""A reader's maximum data rate in bit/s (a 32-bit dwMaxDataRate; 0xFFFFFFFF means unknown)."""
TIMEOUT_RANGE = (0.1, 86400.0)
"""db update --timeout, seconds: at least 0.1, at most a day."""
WATCH_TIMEOUT_RANGE = (0.0, 365 * 86400.0)
"""watch --timeout, seconds: 0 (show the current state and stop) to a year (31536000 s;
beyond it, leave --timeout out)."""
JOBS_RANGE = (1, 1024)
"""--jobs: at least one process; more than the cores are capped (see atr_jobs.cap_jobs)."""
CHECK_COUNT_RANGE = (1, 10000)
"""check --count: latency round trips."""
WATCH_COUNT_RANGE = (1, 1_000_000_000)
"""watch --count: events before stopping."""


def clock_mhz(value: object) -> float:
    """``--clock MHz`` (atr, compat)."""
    low, high = CLOCK_MHZ_RANGE
    return _float(value, what="the clock", low=low, high=high, unit=" MHz")


def max_rate_bps(value: object) -> int:
    """``compat --max-rate BPS``."""
    low, high = MAX_RATE_RANGE
    return _int(value, what="the maximum data rate", low=low, high=high, unit=" bit/s")


def timeout_seconds(value: object) -> float:
    """``--timeout S`` (db update, watch)."""
    low, high = TIMEOUT_RANGE
    return _float(value, what="the timeout", low=low, high=high, unit=" seconds")


def watch_timeout(value: object) -> float:
    """``watch --timeout S``."""
    low, high = WATCH_TIMEOUT_RANGE
    try:
        return _float(value, what="the timeout", low=low, high=high, unit=" seconds")
    except OptionValueError as exc:
        raise OptionValueError(
            str(exc),
            "give the seconds to watch, e.g. --timeout 30, or leave --timeout out to watch "
            "until Ctrl-C",
        ) from None


def jobs(value: object) -> int:
    """``atr --jobs N``."""
    low, high = JOBS_RANGE
    return _int(value, what="--jobs", low=low, high=high, unit=" processes")


def check_count(value: object) -> int:
    """``check --count N``."""
    low, high = CHECK_COUNT_RANGE
    return _int(value, what="--count", low=low, high=high, unit=" round trips")


def watch_count(value: object) -> int:
    """``watch --count N``."""
    low, high = WATCH_COUNT_RANGE
    return _int(value, what="--count", low=low, high=high, unit=" events")


def for_click(validate: Callable[[object], T]) -> Callable[[object], T]:
    """``validate`` as a typer ``parser=``: its message (and hint, on a line of its own)
    becomes typer's usage error (exit 2) instead of a bare "Invalid value" (typer is imported
    only when a value is refused)."""

    def parse(value: object) -> T:
        try:
            return validate(value)
        except OptionValueError as exc:
            import typer

            hint = f"\n  hint: {exc.hint}" if exc.hint else ""
            raise typer.BadParameter(f"{exc}{hint}") from None

    parse.__name__ = validate.__name__
    parse.__doc__ = validate.__doc__
    return parse
