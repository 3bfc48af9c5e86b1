"""Result types of ``cardcheck check``: one result per stage, latency figures, the verdict.

Pure: no PC/SC, no printing. The stages themselves run in :mod:`cardcheck.commands.check`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum


class CheckStatus(StrEnum):
    """Outcome of one stage."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


class Verdict(StrEnum):
    """Outcome of the whole check: fail if any stage failed, warn if any warned, else pass."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


STAGES: tuple[str, ...] = (
    "service",
    "readers",
    "card",
    "atr",
    "identify",
    "reader-capabilities",
    "compatibility",
    "protocol",
    "warm-reset",
    "latency",
)
"""Every stage id, in the order they run."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one stage."""

    id: str
    """Stage id, one of :data:`STAGES`."""
    status: CheckStatus
    """pass, warn, fail or skip."""
    message: str
    """What was found, in one or two sentences."""
    advice: str | None = None
    """What to do about it; None when there is nothing to do."""

    def to_json(self) -> dict[str, object]:
        """The JSON form documented in the README."""
        return {
            "id": self.id,
            "status": self.status.value,
            "message": self.message,
            "advice": self.advice,
        }


def verdict_of(results: Sequence[CheckResult]) -> Verdict:
    """fail if any stage failed, warn if any warned, else pass (skips do not count)."""
    statuses = {r.status for r in results}
    if CheckStatus.FAIL in statuses:
        return Verdict.FAIL
    if CheckStatus.WARN in statuses:
        return Verdict.WARN
    return Verdict.PASS


@dataclass(frozen=True, slots=True)
class HistogramBin:
    """One bar of the latency histogram: round trips with low_ms <= t < high_ms."""

    low_ms: float
    """Lower edge in milliseconds (inclusive)."""
    high_ms: float
    """Upper edge in milliseconds (exclusive, inclusive for the last bin)."""
    count: int
    """Round trips in this bin."""


@dataclass(frozen=True, slots=True)
class LatencyStats:
    """Round-trip times of the latency APDU, in milliseconds."""

    apdu: str
    """The command sent, ``"00 A4 00 00 02 3F 00"``."""
    count: int
    """Round trips measured."""
    min_ms: float
    """Fastest round trip."""
    median_ms: float
    """Median round trip."""
    p95_ms: float
    """95th percentile (nearest rank)."""
    max_ms: float
    """Slowest round trip."""
    histogram: tuple[HistogramBin, ...]
    """Equal-width bins from min to max."""
    status_words: tuple[str, ...]
    """Distinct status words answered, e.g. ``("9000",)``: shown, not judged."""

    def to_json(self) -> dict[str, object]:
        """The JSON form documented in the README."""
        return {
            "apdu": self.apdu,
            "count": self.count,
            "min_ms": round(self.min_ms, 3),
            "median_ms": round(self.median_ms, 3),
            "p95_ms": round(self.p95_ms, 3),
            "max_ms": round(self.max_ms, 3),
            "histogram": [
                {"low_ms": round(b.low_ms, 3), "high_ms": round(b.high_ms, 3), "count": b.count}
                for b in self.histogram
            ],
            "status_words": list(self.status_words),
        }


def _median(ordered: Sequence[float]) -> float:
    n = len(ordered)
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2.0


def _nearest_rank(ordered: Sequence[float], percent: float) -> float:
    rank = max(1, math.ceil(percent / 100.0 * len(ordered)))
    return ordered[rank - 1]


def histogram(samples_ms: Sequence[float], bins: int = 8) -> tuple[HistogramBin, ...]:
    """Equal-width bins from the smallest to the largest sample (one bin when all equal)."""
    if not samples_ms:
        return ()
    low, high = min(samples_ms), max(samples_ms)
    if high <= low:
        return (HistogramBin(low, high, len(samples_ms)),)
    width = (high - low) / bins
    counts = [0] * bins
    for value in samples_ms:
        counts[min(bins - 1, int((value - low) / width))] += 1
    return tuple(
        HistogramBin(low + i * width, low + (i + 1) * width, counts[i]) for i in range(bins)
    )


def latency_stats(
    apdu: str, samples_ms: Sequence[float], status_words: Sequence[str]
) -> LatencyStats:
    """Summarise round-trip times. ``samples_ms`` must not be empty."""
    if not samples_ms:
        raise ValueError("latency_stats needs at least one sample")
    ordered = sorted(samples_ms)
    return LatencyStats(
        apdu=apdu,
        count=len(ordered),
        min_ms=ordered[0],
        median_ms=_median(ordered),
        p95_ms=_nearest_rank(ordered, 95.0),
        max_ms=ordered[-1],
        histogram=histogram(ordered),
        status_words=tuple(dict.fromkeys(status_words)),
    )
