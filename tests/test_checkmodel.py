"""The pure parts of `cardcheck check`: verdict and latency statistics."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cardcheck.checkmodel import (
    CheckResult,
    CheckStatus,
    Verdict,
    histogram,
    latency_stats,
    verdict_of,
)


def result(status: CheckStatus) -> CheckResult:
    return CheckResult("atr", status, "m")


@pytest.mark.parametrize(
    ("statuses", "verdict"),
    [
        ([CheckStatus.PASS, CheckStatus.SKIP], Verdict.PASS),
        ([CheckStatus.PASS, CheckStatus.WARN, CheckStatus.SKIP], Verdict.WARN),
        ([CheckStatus.WARN, CheckStatus.FAIL], Verdict.FAIL),
        ([], Verdict.PASS),
    ],
)
def test_verdict(statuses: list[CheckStatus], verdict: Verdict) -> None:
    assert verdict_of([result(s) for s in statuses]) is verdict


def test_latency_figures_of_a_known_sample() -> None:
    # 20 samples 1..20 ms: median 10.5, nearest-rank p95 = 19th value.
    samples = [float(v) for v in range(20, 0, -1)]
    stats = latency_stats("00 A4 00 00 02 3F 00", samples, ["9000", "6A82", "9000"])
    assert (stats.min_ms, stats.median_ms, stats.p95_ms, stats.max_ms) == (1.0, 10.5, 19.0, 20.0)
    assert stats.count == 20
    assert stats.status_words == ("9000", "6A82")
    assert sum(b.count for b in stats.histogram) == 20
    assert stats.to_json()["median_ms"] == 10.5


def test_latency_needs_samples() -> None:
    with pytest.raises(ValueError, match="at least one"):
        latency_stats("00", [], [])


@given(st.lists(st.floats(min_value=0.0, max_value=1e4, allow_nan=False), min_size=1, max_size=200))
def test_histogram_counts_every_sample(samples: list[float]) -> None:
    bins = histogram(samples)
    assert sum(b.count for b in bins) == len(samples)
    stats = latency_stats("x", samples, [])
    assert stats.min_ms <= stats.median_ms <= stats.p95_ms <= stats.max_ms
