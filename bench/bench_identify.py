"""Card identification speed: figures only, no asserts.

- bulk: identify every concrete entry of the list plus ATRs generated from every pattern, with
  the index (in-process, and `cardcheck atr --file F --json` as a whole process) against a naive
  loop of compiled regexes over the whole list (bench/naive_identify.py, one process);
- one ATR: `cardcheck atr X --json` against `ATR_analysis X`, whole processes, side by side;
- cold index build time, cached load time, on-disk cache size.

Run: .venv/bin/python bench/bench_identify.py [LIST]  (default: ../shared/data list).
Python runs with bytecode caching on (as an installed package does), whatever the environment.
"""

from __future__ import annotations

import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from db_atrs import atr_from_pattern, read_entries  # noqa: E402

from cardcheck.db.index import ListIndex, atr_text  # noqa: E402
from cardcheck.db.parse import decode_list, parse_list  # noqa: E402

DEFAULT_LIST = REPO.parent / "shared" / "data" / "smartcard_list.latest.txt"
PROBE = "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A"


def environment(root: Path, listing: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "CARDCHECK_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for name in ("home", "cache", "config"):
        (root / name).mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(root / "home"),
        XDG_CACHE_HOME=str(root / "cache"),
        XDG_CONFIG_HOME=str(root / "config"),
        CARDCHECK_SYSTEM_LISTS=str(listing),
        http_proxy="http://127.0.0.1:9",
        https_proxy="http://127.0.0.1:9",
    )
    return env


def wall(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


ROUNDS = 5
"""Rounds of the whole-process bulk comparison."""


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and CPU time (user + system, the process and its children) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    elapsed = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return elapsed, cpu


def best_of(count: int, action: object) -> float:
    assert callable(action)
    times = []
    for _ in range(count):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    listing = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_LIST
    entries = read_entries(listing)
    concrete = [e for e in entries if re.fullmatch(r"[0-9A-F ]+", e)]
    rnd = random.Random(1)
    generated = []
    for pattern in entries:
        if pattern in concrete:
            continue
        for _ in range(5):
            atr = atr_from_pattern(pattern, rnd)
            if atr is not None:
                generated.append(atr)
    atrs = [bytes.fromhex(e) for e in concrete] + generated
    print(f"list: {listing} ({len(entries)} entries)")
    print(f"ATRs: {len(atrs)} ({len(concrete)} concrete entries, {len(generated)} from patterns)")

    data = listing.read_bytes()
    build = best_of(5, lambda: ListIndex.build(parse_list(decode_list(data))))
    print(f"cold index build (parse + index), best of 5: {build * 1e3:.1f} ms")
    index = ListIndex.build(parse_list(decode_list(data)))
    texts = [atr_text(a) for a in atrs]

    def indexed() -> None:
        fresh = ListIndex.from_data(index.to_data())  # regexes compiled from scratch
        for text in texts:
            fresh.lookup(text)

    sys.path.insert(0, str(REPO / "bench"))
    from naive_identify import load

    def naive() -> None:
        compiled = load(str(listing))
        for text in texts:
            [p for regex, p, _ in compiled if regex.match(text)]

    fast = best_of(3, indexed)
    slow = best_of(1, naive)
    print(
        f"in-process bulk: index {fast * 1e3:.1f} ms ({fast / len(texts) * 1e6:.1f} us/ATR), "
        f"naive {slow * 1e3:.0f} ms: {slow / fast:.0f}x"
    )

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        env = environment(root, listing)
        atr_file = root / "atrs.txt"
        atr_file.write_text("".join(a.hex().upper() + "\n" for a in atrs))
        # The console script, as users run it (python -m would add runpy's start-up).
        script = Path(sys.executable).parent / "cardcheck"
        cardcheck = [str(script)] if script.exists() else [sys.executable, "-m", "cardcheck"]
        print(f"cardcheck runs as: {' '.join(cardcheck)}")
        cold = wall([*cardcheck, "db", "info", "--json"], env)
        index_file = next((root / "cache" / "cardcheck").glob("index-*.marshal"))
        print(f"first run (builds and saves the index): cardcheck db info {cold * 1e3:.0f} ms")
        print(
            f"on-disk index: {index_file.stat().st_size / 1024:.0f} KiB "
            f"(list {len(data) / 1024:.0f} KiB)"
        )
        load_code = (
            "import time; t=time.perf_counter(); from cardcheck.db import open_database; "
            "d=open_database(); d.identify(bytes.fromhex('" + PROBE.replace(" ", "") + "')); "
            "print(time.perf_counter()-t)"
        )
        loads = [
            float(
                subprocess.run(
                    [sys.executable, "-c", load_code], env=env, capture_output=True, text=True
                ).stdout
            )
            for _ in range(7)
        ]
        print(
            f"import cardcheck.db + open_database (cached index) + identify, in a fresh process: "
            f"median {statistics.median(loads) * 1e3:.1f} ms"
        )

        # Side by side, in rounds: cardcheck with its default processes (one per core for a
        # long file), cardcheck --jobs 1, then the naive loop; wall time and CPU time (user +
        # system of the process and its workers).
        ours_cmd = [*cardcheck, "atr", "--file", str(atr_file), "--json"]
        naive_cmd = [
            sys.executable,
            str(REPO / "bench" / "naive_identify.py"),
            str(listing),
            str(atr_file),
        ]
        runs: dict[str, list[tuple[float, float]]] = {"auto": [], "one": [], "naive": []}
        for _ in range(ROUNDS):
            runs["auto"].append(timed(ours_cmd, env))
            runs["one"].append(timed([*ours_cmd, "--jobs", "1"], env))
            runs["naive"].append(timed(naive_cmd, env))
        auto_jobs = subprocess.run(
            [
                sys.executable,
                "-c",
                f"from cardcheck.commands.atr_jobs import auto_jobs; print(auto_jobs({len(atrs)}))",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        print(f"whole process, {len(atrs)} ATRs, {ROUNDS} rounds side by side (wall / CPU):")
        for key, label in (
            ("auto", f"cardcheck atr --file F --json ({auto_jobs} processes)"),
            ("one", "cardcheck atr --file F --json --jobs 1"),
            ("naive", "naive regex loop (bench/naive_identify.py)"),
        ):
            walls = [w for w, _ in runs[key]]
            cpus = [c for _, c in runs[key]]
            print(
                f"  {label}: wall median {statistics.median(walls):.3f} s "
                f"(min {min(walls):.3f}, max {max(walls):.3f}), "
                f"CPU median {statistics.median(cpus):.3f} s"
            )
        for key, label in (("auto", "default processes"), ("one", "--jobs 1")):
            ratios = [n[0] / o[0] for o, n in zip(runs[key], runs["naive"], strict=True)]
            cpu_ratios = [n[1] / o[1] for o, n in zip(runs[key], runs["naive"], strict=True)]
            print(
                f"  naive / cardcheck ({label}), per round: wall "
                + ", ".join(f"{r:.1f}x" for r in ratios)
                + "; CPU "
                + ", ".join(f"{r:.1f}x" for r in cpu_ratios)
            )
        probe_out = subprocess.run(
            [*cardcheck, "atr", PROBE, "--json"], env=env, capture_output=True, text=True
        ).stdout
        if '"identified"' not in probe_out:
            print("  (cardcheck atr does not report `identified` yet: its figure is decoding only)")

        analysis = shutil.which("ATR_analysis")
        if analysis:
            (root / "cache" / "smartcard_list.txt").write_bytes(data)  # fresh: no update attempt
            ours, theirs = [], []
            for _ in range(15):
                ours.append(wall([*cardcheck, "atr", PROBE, "--json"], env))
                theirs.append(wall([analysis, *PROBE.split()], env))
            (root / "cache" / "smartcard_list.txt").unlink()
            o, t = statistics.median(ours), statistics.median(theirs)
            print(
                f"one ATR, median of 15 side by side: cardcheck atr X --json {o * 1e3:.0f} ms, "
                f"ATR_analysis X {t * 1e3:.0f} ms: ratio {o / t:.2f}"
            )
        bare = statistics.median(wall([sys.executable, "-c", "pass"], env) for _ in range(7))
        print(f"(python -c pass: {bare * 1e3:.0f} ms)")


if __name__ == "__main__":
    main()
