"""Start-up a person feels: each cardcheck command against `ATR_analysis ATR`, side by side.

Every row runs the cardcheck command and `ATR_analysis` on the same ATR as pairs, one right after
the other (which one goes first alternates), and gives the median of each and the median of the
pair ratios (cardcheck / ATR_analysis), which is what the goals of issue 11 are stated in. Both
read Debian's ATR list (`/usr/share/pcsc/smartcard_list.txt`) from an empty home, cache and
config directory; cardcheck's index cache is built once before the timed runs, as after any first
run. Output goes to /dev/null (not a terminal: no colour, 80 columns, for both).

Three bytecode modes (`--modes`):
- `cached`: bytecode caching on (the environment's PYTHONDONTWRITEBYTECODE is dropped), as for an
  installed package after its first run;
- `readonly`: cardcheck's own modules from a read-only copy without `__pycache__`, with
  PYTHONDONTWRITEBYTECODE=1: compiled from source on every run (its dependencies and the
  standard library keep the bytecode pip and Python installed);
- `none`: nothing cached at all (PYTHONPYCACHEPREFIX pointing at an empty directory): the
  standard library, typer, rich and pyscard compiled on every run too; the worst case.

`readers` runs with pcscd, the vpcd driver and cardcheck's virtual card in the reader, holding
/tmp/cardcheck-vpcd.lock like the tests; it is left out (with the reason) when that is not
possible. Prints a Markdown table per mode and a JSON line; asserts nothing.

Run: .venv/bin/python bench/bench_startup.py [--pairs N] [--modes cached,readonly,none]
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ATR = "3B F8 13 00 00 81 31 FE 15 59 75 62 69 6B 65 79 34 D4"
"""A YubiKey 4 (in Debian's list), as typed by a person."""
DEBIAN_LIST = Path("/usr/share/pcsc/smartcard_list.txt")
SHARED_LIST = REPO.parent / "shared" / "data" / "smartcard_list.latest.txt"
VPCD_LOCK = Path("/tmp/cardcheck-vpcd.lock")

VIA_RICH = "--via-rich"
RICH_PROBE = (
    "import sys\n"
    "from cardcheck.render import console\n"
    "console.Table.lines = console.Tree.lines = lambda self, width: None\n"
    "console.one_column_each = lambda text: False\n"
    "from cardcheck.__main__ import main\n"
    "main()\n"
)
"""cardcheck with every Table, Tree and line of LineConsole handed to rich (its own fallback)."""

ROWS: list[tuple[str, list[str], float | None]] = [
    ("`cardcheck atr ATR` (human view)", ["atr", *ATR.split()], 1.5),
    ("`cardcheck atr ATR --json`", ["atr", *ATR.split(), "--json"], 1.0),
    ("`cardcheck --version`", ["--version"], 1.5),
    ("`cardcheck --help`", ["--help"], 1.5),
    ("`cardcheck atr --help`", ["atr", "--help"], 1.5),
    ("`cardcheck compat --help`", ["compat", "--help"], 1.5),
    ("`cardcheck readers --help`", ["readers", "--help"], 1.5),
    ("`cardcheck watch --help`", ["watch", "--help"], 1.5),
    ("`cardcheck check --help`", ["check", "--help"], 1.5),
    ("`cardcheck db --help`", ["db", "--help"], 1.5),
    ("`cardcheck db info --help`", ["db", "info", "--help"], 1.5),
    ("`cardcheck db search --help`", ["db", "search", "--help"], 1.5),
    ("`cardcheck db update --help`", ["db", "update", "--help"], 1.5),
    ("`cardcheck compat ATR --clock 4`", ["compat", *ATR.split(), "--clock", "4"], 1.5),
    ("`cardcheck db info` (index cached)", ["db", "info"], 1.5),
    ("`cardcheck db search yubikey`", ["db", "search", "yubikey"], 1.5),
    ("`cardcheck readers` (vpcd reader with a card)", ["readers"], 1.5),
    ("`cardcheck atr ATR`, every line drawn by rich", [VIA_RICH, "atr", *ATR.split()], None),
    ("`cardcheck db info`, every line drawn by rich", [VIA_RICH, "db", "info"], None),
]
"""(label, cardcheck's arguments, goal as a ratio). Rows starting with VIA_RICH run the same
command with LineConsole switched off, so every line goes through rich as before issue 11:
what LineConsole buys, measured side by side."""


def run(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def base_environment(root: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("XDG_", "CARDCHECK_", "PYTHON")) and k not in ("COLUMNS", "LINES")
    }
    for name in ("home", "cache", "config"):
        (root / name).mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(root / "home"),
        XDG_CACHE_HOME=str(root / "cache"),
        XDG_CONFIG_HOME=str(root / "config"),
        http_proxy="http://127.0.0.1:9",
        https_proxy="http://127.0.0.1:9",
    )
    if not DEBIAN_LIST.exists():
        # No pcsc-tools list: both read the shared copy, ATR_analysis from its cache path.
        env["CARDCHECK_SYSTEM_LISTS"] = str(SHARED_LIST)
        shutil.copy(SHARED_LIST, root / "cache" / "smartcard_list.txt")
    return env


def mode_environment(mode: str, env: dict[str, str], root: Path) -> dict[str, str]:
    env = dict(env)
    if mode == "readonly":
        copy = root / "readonly"
        if not copy.exists():
            ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
            shutil.copytree(REPO / "cardcheck", copy / "cardcheck", ignore=ignore)
            shutil.copytree(REPO / "atr_db", copy / "atr_db", ignore=ignore)
            for path in sorted(copy.rglob("*"), reverse=True):
                path.chmod(0o555 if path.is_dir() else 0o444)
            copy.chmod(0o555)
        env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONPATH=str(copy))
    elif mode == "none":
        empty = root / "no-pycache"
        empty.mkdir(exist_ok=True)
        env.update(PYTHONDONTWRITEBYTECODE="1", PYTHONPYCACHEPREFIX=str(empty))
    return env


@contextlib.contextmanager
def reader_with_card() -> Iterator[str | None]:
    """pcscd with the vpcd readers and the virtual card inserted; yields why not, or None."""
    with VPCD_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            sys.path.insert(0, str(REPO))
            from cardcheck.testing.pcscd import Pcscd, wait_reader
            from cardcheck.testing.vcard import CardConfig, VirtualCard
        except ImportError as exc:
            yield f"cannot import the test helpers: {exc}"
            return
        try:
            service = Pcscd()
            service.start()
        except Exception as exc:  # the reason goes into the output
            yield f"no pcscd with vpcd: {exc}"
            return
        try:
            card = VirtualCard(CardConfig(atr=bytes.fromhex(ATR.replace(" ", ""))))
            card.start()
            try:
                wait_reader(card.reader, atr=bytes.fromhex(ATR.replace(" ", "")))
                yield None
            finally:
                card.stop()
        finally:
            service.stop()


def measure(
    cardcheck: list[str], analysis: str, env: dict[str, str], pairs: int
) -> dict[str, float]:
    ours: list[float] = []
    theirs: list[float] = []
    ratios: list[float] = []
    reference = [analysis, *ATR.split()]
    run(cardcheck, env)  # warm: the OS's file cache, the index cache, the bytecode
    run(reference, env)
    for index in range(pairs):
        if index % 2:
            t = run(reference, env)
            o = run(cardcheck, env)
        else:
            o = run(cardcheck, env)
            t = run(reference, env)
        ours.append(o)
        theirs.append(t)
        ratios.append(o / t)
    return {
        "cardcheck_s": statistics.median(ours),
        "atr_analysis_s": statistics.median(theirs),
        "ratio": statistics.median(ratios),
        "ratio_min": min(ratios),
        "ratio_max": max(ratios),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pairs", type=int, default=11, help="pairs per row (default 11)")
    parser.add_argument("--modes", default="cached,readonly", help="cached,readonly,none")
    parser.add_argument("--only", default="", help="run only rows whose label contains this")
    args = parser.parse_args()
    analysis = shutil.which("ATR_analysis")
    if analysis is None:
        print("ATR_analysis is not installed (apt install pcsc-tools)", file=sys.stderr)
        return 3
    script = Path(sys.executable).parent / "cardcheck"
    cardcheck = [str(script)] if script.exists() else [sys.executable, "-m", "cardcheck"]
    rows = [row for row in ROWS if args.only in row[0]]
    results: dict[str, dict[str, dict[str, float] | str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        base = base_environment(root)
        python_row = statistics.median(run([sys.executable, "-c", "pass"], base) for _ in range(7))
        print(f"cardcheck runs as: {' '.join(cardcheck)}; ATR_analysis {ATR}")
        print(f"list: {DEBIAN_LIST if DEBIAN_LIST.exists() else SHARED_LIST}")
        print(f"(python -c pass, cached: {python_row * 1e3:.0f} ms)")
        for mode in args.modes.split(","):
            env = mode_environment(mode, base, root)
            results[mode] = {}
            print(f"\nbytecode: {mode}, median of {args.pairs} pairs side by side\n")
            print("| command | cardcheck | `ATR_analysis ATR` | ratio (median of pairs) | goal |")
            print("| --- | --- | --- | --- | --- |")
            for label, argv, goal in rows:
                if argv == ["readers"]:
                    # The lock and the readers only for this row: other runs wait meanwhile.
                    with reader_with_card() as no_reader:
                        if no_reader is None:
                            figures = measure([*cardcheck, *argv], analysis, env, args.pairs)
                    if no_reader is not None:
                        results[mode][label] = no_reader
                        print(f"| {label} | not run: {no_reader} | | | |")
                        continue
                elif argv[0] == VIA_RICH:
                    probe = [sys.executable, "-c", RICH_PROBE, *argv[1:]]
                    figures = measure(probe, analysis, env, args.pairs)
                else:
                    figures = measure([*cardcheck, *argv], analysis, env, args.pairs)
                results[mode][label] = figures
                verdict = "" if goal is None else f"<= {goal:g}x"
                if goal is not None and figures["ratio"] > goal:
                    verdict += " (missed)"
                print(
                    f"| {label} | {figures['cardcheck_s'] * 1e3:.0f} ms | "
                    f"{figures['atr_analysis_s'] * 1e3:.0f} ms | **{figures['ratio']:.2f}x** "
                    f"({figures['ratio_min']:.2f}-{figures['ratio_max']:.2f}) | {verdict} |",
                    flush=True,
                )
    print()
    print(json.dumps({"bench": "startup", "pairs": args.pairs, "results": results}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
