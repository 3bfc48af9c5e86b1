"""`cardcheck watch` in a subprocess, on the real stack (pcscd + vpcd + virtual cards)."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
from datetime import datetime
from pathlib import Path

import pytest
from conftest import READER_0, VCardFactory
from pcsc_helpers import NO_SERVICE_ENV, cli_env, run_cli, write_list

from cardcheck.pcsc.adapter import open_context
from cardcheck.testing.pcscd import Pcscd

pytestmark = pytest.mark.pcsc

ATR = bytes.fromhex("3B021450")


class Watcher:
    """``cardcheck watch --json`` running, its lines read by a thread."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "cardcheck", "watch", "--json", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(),
        )
        self.lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def next_event(self, timeout: float = 10.0) -> dict[str, object]:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            self.proc.kill()
            raise AssertionError(f"no event within {timeout} s") from None
        event = json.loads(line)
        assert isinstance(event, dict)
        return event

    def stop(self) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        code = self.proc.wait(timeout=10)
        assert self.proc.stderr is not None
        return code, self.proc.stderr.read()


def stamp(event: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(event["time"]))


def test_insert_and_remove_within_a_second(vcard: VCardFactory, tmp_path: Path) -> None:
    db = write_list(tmp_path / "list.txt", {"3B 02 14 50": "Test card of cardcheck"})
    watcher = Watcher("--reader", READER_0, "--db", str(db))
    first = watcher.next_event()
    assert first["event"] == "empty" and first["reader"] == READER_0
    assert first["state"] == ["empty"]
    assert "atr" not in first

    inserted_at = datetime.now().astimezone()
    card = vcard(ATR, wait=False)
    inserted = watcher.next_event()
    assert inserted["event"] == "inserted"
    assert inserted["atr"] == "3B 02 14 50"
    assert inserted["identified"][0]["descriptions"] == ["Test card of cardcheck"]  # type: ignore[index]
    assert "present" in inserted["state"]  # type: ignore[operator]
    assert (stamp(inserted) - inserted_at).total_seconds() < 1.0

    removed_at = datetime.now().astimezone()
    card.stop()
    removed = watcher.next_event()
    assert removed["event"] == "removed"
    assert "atr" not in removed and "identified" not in removed
    assert (stamp(removed) - removed_at).total_seconds() < 1.0

    code, stderr = watcher.stop()
    assert code == 0  # Ctrl-C ends it cleanly
    assert "Traceback" not in stderr


def test_in_use_and_released(vcard: VCardFactory, tmp_path: Path) -> None:
    vcard(ATR)
    db = write_list(tmp_path / "list.txt", {"3B 02 14 50": "Test card"})
    watcher = Watcher("--reader", READER_0, "--db", str(db))
    present = watcher.next_event()
    assert present["event"] == "present" and present["atr"] == "3B 02 14 50"
    with open_context() as pcsc:
        conn = pcsc.connect(READER_0)
        assert watcher.next_event()["event"] == "in-use"
        conn.disconnect()
    assert watcher.next_event()["event"] == "released"
    assert watcher.stop()[0] == 0


def test_count_and_timeout_end_it(pcscd: Pcscd) -> None:
    counted = run_cli("watch", "--json", "--count", "1")
    assert counted.returncode == 0, counted.stderr
    assert len(counted.stdout.splitlines()) == 1
    assert json.loads(counted.stdout)["event"] in ("empty", "present")

    timed = run_cli("watch", "--json", "--timeout", "0.5", "--reader", READER_0)
    assert timed.returncode == 0, timed.stderr
    events = [json.loads(line) for line in timed.stdout.splitlines()]
    assert [e["reader"] for e in events] == [READER_0]


def test_human_view_in_a_pipe(vcard: VCardFactory, tmp_path: Path) -> None:
    vcard(ATR)
    db = write_list(tmp_path / "list.txt", {"3B 02 14 50": "Test card of cardcheck"})
    proc = run_cli("watch", "--reader", READER_0, "--count", "1", "--db", str(db))
    assert proc.returncode == 0, proc.stderr
    assert READER_0 in proc.stdout
    assert "present  3B 02 14 50  Test card of cardcheck" in proc.stdout


def test_unplugged_reader_is_waited_for(pcscd: Pcscd) -> None:
    proc = run_cli("watch", "--json", "--reader", "No Such Reader", "--timeout", "0.5")
    assert proc.returncode == 0
    assert proc.stdout == ""
    assert "no reader matches 'No Such Reader' yet; waiting" in proc.stderr


def test_service_down() -> None:
    proc = run_cli("watch", "--json", "--timeout", "1", env=cli_env(**NO_SERVICE_ENV))
    assert proc.returncode == 3
    assert proc.stdout == ""
    assert "pcscd) is not running" in proc.stderr
