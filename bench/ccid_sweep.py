"""Agreement of ``cardcheck compat --descriptor`` with the real libccid, reader by reader.

Every reader dump whose USB id the installed libccid lists (or a subset) is emulated under
umockdev with the real pcscd + libccid (cardcheck.testing.usbemu), each ATR case of
cardcheck.testing.usbemu.cases is inserted, connected (T=0|T=1) and removed, and what libccid
did (power-up voltage, PPS, SetParameters' Fi/Di, protocol, refusal) is compared with the
prediction. Prints the agreement table by field and by ATR, then every disagreement.

    sudo .venv/bin/python bench/ccid_sweep.py                 # every listed reader (long)
    sudo .venv/bin/python bench/ccid_sweep.py --sample        # the CI sample
    sudo .venv/bin/python bench/ccid_sweep.py --stride 5      # every 5th listed reader
    sudo .venv/bin/python bench/ccid_sweep.py --readers ACR38U-CCID.txt --json out.jsonl

Root needed (private mount namespace). About 0.5 s a case; the machine is shared, so prefer a
stride or the sample when others need it.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

from cardcheck.testing.usbemu.cases import CASES
from cardcheck.testing.usbemu.differential import FIELDS, CaseResult, run_reader
from cardcheck.testing.usbemu.selection import listed_readers, sample_readers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--readers", nargs="*", help="dump names (default: every listed one)")
    parser.add_argument("--sample", action="store_true", help="the CI sample of readers")
    parser.add_argument("--stride", type=int, default=1, help="every Nth listed reader")
    parser.add_argument("--offset", type=int, default=0, help="start of the stride")
    parser.add_argument("--cases", nargs="*", help="ATR case names (default: all)")
    parser.add_argument("--json", type=Path, help="write every case as JSON Lines here")
    args = parser.parse_args()

    if args.readers:
        readers = tuple(args.readers)
    elif args.sample:
        readers = sample_readers()
    else:
        readers = listed_readers()[args.offset :: args.stride]
    cases = [c for c in CASES if not args.cases or c.name in args.cases]
    out = args.json.open("w") if args.json else None
    results: list[CaseResult] = []
    started = time.monotonic()
    for number, key in enumerate(readers, 1):
        try:
            for result in run_reader(key, cases):
                results.append(result)
                if out is not None:
                    out.write(json.dumps(_record(result)) + "\n")
        except Exception as exc:  # a broken emulation run is reported, the sweep goes on
            print(f"{key}: emulation failed: {exc!r}", file=sys.stderr)
        bad = sum(1 for r in results if r.reader == key and r.disagreements)
        print(f"[{number}/{len(readers)}] {key}: {bad} disagreement(s)", file=sys.stderr)
    elapsed = time.monotonic() - started
    if out is not None:
        out.close()
    _table(results, readers, cases, elapsed)
    return 0 if all(not r.disagreements for r in results) else 1


def _record(result: CaseResult) -> dict[str, object]:
    return {
        "reader": result.reader,
        "case": result.case,
        "predicted": {f: result.predicted.value(f) for f in FIELDS},
        "observed": {f: result.observed.value(f) for f in FIELDS},
        "disagreements": list(result.disagreements),
        "gap": result.gap,
        "client": result.detail.get("client"),
    }


def _table(
    results: list[CaseResult], readers: tuple[str, ...], cases: list, elapsed: float
) -> None:
    gaps = sorted({(r.reader, r.gap) for r in results if r.gap is not None})
    results = [r for r in results if r.gap is None]
    total = len(results)
    agreed = sum(1 for r in results if not r.disagreements)
    refused = sorted({r.reader for r in results if r.observed.refused})
    print(
        f"\n{len(readers)} readers x {len(cases)} ATRs; {len(readers) - len(gaps)} readers "
        f"emulated: {total} cases in {elapsed:.0f} s ({elapsed / max(total, 1):.2f} s a case)"
    )
    print(f"agreement: {agreed}/{total} cases ({100 * agreed / max(total, 1):.1f} %)")
    print(f'readers libccid refused ("Firmware is bogus"): {", ".join(refused) or "none"}')
    for reader, why in gaps:
        print(f"not emulated: {reader}: {why}")
    print()
    by_field = collections.Counter(f for r in results for f in r.disagreements)
    print("| field | agreed | disagreed |")
    print("| --- | --- | --- |")
    for name in FIELDS:
        print(f"| {name} | {total - by_field[name]} | {by_field[name]} |")
    print("\n| ATR case | cases | agreed | disagreed fields |")
    print("| --- | --- | --- | --- |")
    for item in cases:
        mine = [r for r in results if r.case == item.name]
        fields = collections.Counter(f for r in mine for f in r.disagreements)
        text = ", ".join(f"{k} {v}" for k, v in fields.most_common()) or "-"
        ok = sum(1 for r in mine if not r.disagreements)
        print(f"| {item.name} ({item.about}) | {len(mine)} | {ok} | {text} |")
    bad = [r for r in results if r.disagreements]
    if bad:
        print("\nDisagreements:")
        for r in bad:
            diffs = "; ".join(
                f"{f}: predicted {r.predicted.value(f)!r}, libccid {r.observed.value(f)!r}"
                for f in r.disagreements
            )
            extra = r.detail.get("client", {}).get("error") if r.detail.get("client") else None
            print(f"- {r.reader} / {r.case}: {diffs}" + (f" ({extra})" if extra else ""))


if __name__ == "__main__":
    sys.exit(main())
