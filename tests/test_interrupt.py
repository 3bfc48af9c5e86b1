"""Ctrl-C (SIGINT) ends every command with ``cardcheck: interrupted`` and exit 130.

typer turns a KeyboardInterrupt into a silent exit 130; cardcheck's CLI turns it back into the
message. The PC/SC commands are interrupted while blocked in tests/test_pcsc_robust.py.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pcsc_helpers import no_list_env


@pytest.fixture
def silent_server() -> Iterator[str]:
    """An HTTP URL on 127.0.0.1 whose server accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/smartcard_list.txt"
    stop.set()
    thread.join(timeout=5)
    for conn in held:
        conn.close()
    server.close()


def interrupted(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "cardcheck", *args],
        stdin=subprocess.PIPE,  # left open: `atr --file -` waits for lines
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    time.sleep(1.5)
    assert proc.poll() is None, "the command ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=15)
    return proc.returncode, err


def test_db_update_waiting_for_a_server(silent_server: str, tmp_path: Path) -> None:
    env = no_list_env(tmp_path)
    code, err = interrupted(["db", "update", "--url", silent_server, "--timeout", "60"], env)
    assert code == 130
    assert err.endswith("cardcheck: interrupted\n")
    assert not (tmp_path / "cache" / "cardcheck" / "smartcard_list.txt").exists()


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_atr_reading_standard_input(json_flag: list[str], tmp_path: Path) -> None:
    code, err = interrupted(["atr", "--file", "-", "--no-db", *json_flag], no_list_env(tmp_path))
    assert code == 130
    assert err.endswith("cardcheck: interrupted\n")
    assert "Traceback" not in err
