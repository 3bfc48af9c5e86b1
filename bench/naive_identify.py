"""The naive way to identify ATRs, as ATR_analysis does it: one regex per list entry, all tried.

Usage: python bench/naive_identify.py LIST ATR_FILE  (one hex ATR per line). Prints one JSON
line per ATR with the matching entries. A baseline for bench_identify.py, not used by cardcheck.
"""

from __future__ import annotations

import json
import re
import sys


def load(path: str) -> list[tuple[re.Pattern[str], str, list[str]]]:
    entries: list[tuple[re.Pattern[str], str, list[str]]] = []
    current: list[str] | None = None
    with open(path, encoding="utf-8") as handle:
        for raw in handle:
            line = raw.rstrip("\n")
            if line.startswith("\t"):
                if current is not None:
                    current.append(line[1:])
                continue
            current = None
            if not line.strip() or line.startswith("#"):
                continue
            current = []
            entries.append((re.compile(f"^{line}$", re.IGNORECASE), line, current))
    return entries


def main() -> None:
    entries = load(sys.argv[1])
    with open(sys.argv[2], encoding="utf-8") as handle:
        for line in handle:
            atr = bytes.fromhex(line.strip())
            text = " ".join(f"{b:02X}" for b in atr)
            found = [
                {"pattern": p, "exact": p.upper() == text, "descriptions": d}
                for regex, p, d in entries
                if regex.match(text)
            ]
            print(json.dumps({"atr": text, "identified": found}))


if __name__ == "__main__":
    main()
