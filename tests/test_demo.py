"""``make demo``: Ctrl-C stops it at once (exit 130, no further steps), and it leaves nothing
behind (no emulated reader, no empty pcscd log)."""

from __future__ import annotations

import glob
import os
import select
import signal
import subprocess
import sys
import time

from cardcheck.testing.pcscd import Pcscd


def _logs() -> dict[str, int]:
    return {path: os.path.getsize(path) for path in glob.glob("/tmp/cardcheck-pcscd-*.log")}


def test_ctrl_c_stops_the_demo(pcscd: Pcscd) -> None:
    before_logs = _logs()
    before_emulations = set(glob.glob("/tmp/cardcheck-usbemu-*"))
    demo = subprocess.Popen(
        [sys.executable, "-m", "cardcheck.demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert demo.stdout is not None
    seen = ""
    deadline = time.monotonic() + 180
    while "=== cardcheck check" not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([demo.stdout], [], [], 5)
        if ready:
            line = demo.stdout.readline()
            if not line:
                break
            seen += line
    assert "=== cardcheck check" in seen, seen
    os.killpg(demo.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
    rest, _ = demo.communicate(timeout=120)
    output = seen + rest
    assert demo.returncode == 130, output
    assert "interrupted" in output
    assert "=== cardcheck atr" not in output  # the remaining steps did not run
    assert "=== cardcheck compat" not in output
    new_empty = [p for p, size in _logs().items() if p not in before_logs and size == 0]
    assert new_empty == []
    # The demo's emulated reader is gone: a work directory left now belongs to a live process
    # of another run (a concurrent sweep), never to the demo, which has exited.
    left = set(glob.glob("/tmp/cardcheck-usbemu-*")) - before_emulations
    assert [d for d in left if not _in_use(d)] == []


def _in_use(directory: str) -> bool:
    """Whether a running process names ``directory`` on its command line."""
    for cmdline in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            with open(cmdline, "rb") as stream:
                if directory.encode() in stream.read():
                    return True
        except OSError:
            continue
    return False
