"""`make demo`: the main job, shown on whatever is available (placeholder until `check` lands)."""

from __future__ import annotations

import sys

from cardcheck.cli import run

SAMPLES = [
    "3B 02 14 50",
]


def main() -> int:
    for sample in SAMPLES:
        print(f"$ cardcheck atr {sample}", flush=True)
        run(["atr", *sample.split()])
    return 0


if __name__ == "__main__":
    sys.exit(main())
