"""Insert-to-event latency of `cardcheck watch --json` against `pcsc_scan`, and idle CPU.

Both watch the same vpcd reader at the same time while cardcheck's virtual card is inserted
and removed several times; latency = time the line is read from the program's output minus
the time the card connected to vpcd. Then `cardcheck watch` (and pcsc_scan) sit idle for
about 10 s and their CPU time is read from /proc/<pid>/stat. Prints figures; asserts nothing.

Run: .venv/bin/python bench/bench_watch.py [--insertions N] [--idle S]
"""

from __future__ import annotations

import argparse
import os
import pty
import queue
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cardcheck.testing.pcscd import Pcscd
from cardcheck.testing.vcard import VPCD_PORT, CardConfig, VirtualCard, reader_name

READER = reader_name(VPCD_PORT)
ATR = bytes.fromhex("3B021450")


class Lines:
    """Lines a program writes, each with the monotonic time it was read."""

    def __init__(self, argv: list[str], *, tty: bool) -> None:
        if tty:  # pcsc_scan buffers its output when it is not a terminal
            master, slave = pty.openpty()
            self.proc = subprocess.Popen(argv, stdout=slave, stderr=subprocess.DEVNULL)
            os.close(slave)
            stream = os.fdopen(master, "r", errors="replace")
        else:
            self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
            assert self.proc.stdout is not None
            stream = self.proc.stdout
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: object) -> None:
        try:
            for line in stream:  # type: ignore[attr-defined]
                self.lines.put((time.monotonic(), line))
        except OSError:
            return

    def wait_for(self, test: Callable[[str], bool], timeout: float = 10.0) -> float | None:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                when, line = self.lines.get(timeout=left)
            except queue.Empty:
                return None
            if test(line):
                return when

    def drain(self) -> None:
        while not self.lines.empty():
            self.lines.get_nowait()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def is_cardcheck(kind: str) -> Callable[[str], bool]:
    return lambda line: f'"event": "{kind}"' in line


def is_pcsc_scan(kind: str) -> Callable[[str], bool]:
    word = "Card inserted" if kind == "inserted" else "Card removed"
    return lambda line: word in line


def median_ms(values: list[float]) -> str:
    if not values:
        return "n/a"
    low, high = min(values) * 1000, max(values) * 1000
    middle = statistics.median(values) * 1000
    return f"{middle:7.1f} ms (min {low:.1f}, max {high:.1f}, n={len(values)})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--insertions", type=int, default=10)
    parser.add_argument("--idle", type=float, default=10.0)
    args = parser.parse_args()
    if shutil.which("pcsc_scan") is None:
        print("pcsc_scan is not installed (apt install pcsc-tools)", file=sys.stderr)
        return 3
    with Pcscd() as service:
        print(f"pcscd: {'started for the benchmark' if service.started else 'already running'}")
        cardcheck = Lines(
            [sys.executable, "-m", "cardcheck", "watch", "--json", "--reader", READER], tty=False
        )
        scan = Lines(["pcsc_scan", "-n"], tty=True)
        try:
            cardcheck.wait_for(is_cardcheck("empty"))
            time.sleep(1.5)  # let pcsc_scan print its start-up state
            cardcheck.drain()
            scan.drain()
            results: dict[str, dict[str, list[float]]] = {
                "cardcheck watch": {"inserted": [], "removed": []},
                "pcsc_scan": {"inserted": [], "removed": []},
            }
            for _ in range(args.insertions):
                card = VirtualCard(CardConfig(atr=ATR))
                for kind in ("inserted", "removed"):
                    t0 = time.monotonic()
                    if kind == "inserted":
                        card.start()
                    else:
                        card.stop()
                    for name, lines, test in (
                        ("cardcheck watch", cardcheck, is_cardcheck(kind)),
                        ("pcsc_scan", scan, is_pcsc_scan(kind)),
                    ):
                        seen = lines.wait_for(test)
                        if seen is not None:
                            results[name][kind].append(seen - t0)
                    time.sleep(0.3)
                    cardcheck.drain()
                    scan.drain()
            print(f"\ninsert/remove to event on {READER!r}, {args.insertions} cycles, median:")
            for name, kinds in results.items():
                for kind, values in kinds.items():
                    print(f"  {name:<16} {kind:<9} {median_ms(values)}")

            time.sleep(1.0)
            before = {
                name: cpu_seconds(p.proc.pid)
                for name, p in (("cardcheck watch", cardcheck), ("pcsc_scan", scan))
            }
            start = time.monotonic()
            time.sleep(args.idle)
            elapsed = time.monotonic() - start
            print(f"\nCPU while idle for {elapsed:.1f} s (no card events):")
            for name, proc in (("cardcheck watch", cardcheck), ("pcsc_scan", scan)):
                used = cpu_seconds(proc.proc.pid) - before[name]
                print(f"  {name:<16} {used * 1000:6.0f} ms CPU = {100 * used / elapsed:.2f} %")
        finally:
            cardcheck.stop()
            scan.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
