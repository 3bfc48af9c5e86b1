"""cardcheck's predictions against what the real libccid did, on a sample of real readers.

Each reader of the sample (cardcheck.testing.usbemu.selection: a few chosen ones and every
30th dump whose USB id libccid lists) is emulated with its real descriptor; each ATR of
``SAMPLE_CASES`` is inserted and connected with T=0|T=1, and ``cardcheck compat --json
--descriptor <its sysfs descriptors>`` must have predicted the power-up voltage, the
protocol, the PPS request (bytes), SetParameters' Fi/Di and whether libccid refuses the
reader. The whole sweep over every listed reader and every case is bench/ccid_sweep.py.
"""

from __future__ import annotations

from functools import cache

import pytest

from cardcheck.testing.usbemu.cases import SAMPLE_CASES, case
from cardcheck.testing.usbemu.differential import CaseResult, run_reader
from cardcheck.testing.usbemu.selection import sample_readers

READERS = sample_readers()


@cache
def results(reader: str) -> dict[str, CaseResult]:
    """Every sample case on one reader (one emulation and one pcscd for all of them)."""
    return {r.case: r for r in run_reader(reader, [case(name) for name in SAMPLE_CASES])}


@pytest.mark.parametrize("reader", READERS)
def test_prediction_matches_libccid(reader: str) -> None:
    found = results(reader)
    assert set(found) == set(SAMPLE_CASES)
    gaps = {r.gap for r in found.values() if r.gap is not None}
    assert not gaps, f"{reader} could not be emulated: {gaps}"  # compared nothing: not a pass
    wrong = {
        name: {
            field: (r.predicted.value(field), r.observed.value(field)) for field in r.disagreements
        }
        for name, r in found.items()
        if r.disagreements
    }
    assert not wrong, f"{reader}: (predicted, libccid) by case and field: {wrong}"


def test_sample_covers_the_interesting_outcomes() -> None:
    seen = [r for reader in READERS for r in results(reader).values()]
    assert any(r.observed.refused for r in seen)  # a firmware libccid calls bogus
    assert any(r.observed.pps and r.observed.pps[4:6] == "95" for r in seen)  # adapted speed
    assert any(
        r.observed.connect and r.observed.pps is None and r.observed.fidi == "96" for r in seen
    )
    assert {r.observed.voltage for r in seen} >= {"5 V", "3 V"}
