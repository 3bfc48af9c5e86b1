"""Run every benchmark of bench/ one after the other and print their figures.

Run: make bench (or .venv/bin/python bench/run_all.py). Each script prints its own figures;
the README's Performance section quotes them. The PC/SC benchmark needs pcscd with the vpcd
driver, which it starts itself when possible (as root).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ("bench_startup.py", "bench_decode.py", "bench_identify.py", "bench_watch.py")


def main() -> int:
    worst = 0
    for name in SCRIPTS:
        script = HERE / name
        if not script.exists():
            print(f"== {name}: missing", flush=True)
            worst = 1
            continue
        print(f"== {name}", flush=True)
        code = subprocess.run([sys.executable, str(script)], check=False).returncode
        if code:
            print(f"== {name} exited {code}", flush=True)
            worst = max(worst, code)
    return worst


if __name__ == "__main__":
    sys.exit(main())
