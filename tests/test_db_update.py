"""`cardcheck db update` against a real HTTP server on 127.0.0.1: the list in use survives
every failure byte for byte, and exit code 4 says so."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from db_atrs import LIST_PATH, PREVIOUS, cut_at_entries, isolated_env
from httpserver import Route, serve
from pcsc_helpers import run_cli

GOOD = LIST_PATH.read_bytes()


ROUTES = {
    "/good.txt": Route(GOOD),
    "/empty.txt": Route(b""),
    "/cut.txt": Route(GOOD[:200000], announce=len(GOOD)),  # connection ends early
    "/short.txt": Route(GOOD[:30000]),  # a complete response holding a fraction of the list
    "/html": Route(b"<!DOCTYPE html><html><body>Down</body></html>", content_type="text/html"),
    "/html-as-text.txt": Route(b"<html><head><title>502 Bad Gateway</title></head></html>"),
    "/binary.bin": Route(bytes(range(256)) * 400, content_type="application/octet-stream"),
    "/small-list.txt": Route(cut_at_entries(GOOD, 1500)),  # valid, far smaller than in use
    "/silent": Route(silent=True),
}


@pytest.fixture(scope="module")
def base_url() -> object:
    with serve(ROUTES) as url:
        yield url


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("db", *args, env=env)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/empty.txt", "no ATR entries"),
        ("/cut.txt", "cut short"),
        ("/short.txt", "truncated"),
        ("/html", "HTML page"),
        ("/html-as-text.txt", "HTML page"),
        ("/binary.bin", "binary data"),
        ("/missing.txt", "HTTP 404"),
        ("/silent", "longer than --timeout 1 s"),
        ("/small-list.txt", "far fewer than the 4600"),
    ],
)
def test_failed_update_changes_nothing(
    own_copy: tuple[dict[str, str], Path], base_url: str, path: str, message: str
) -> None:
    env, ours = own_copy
    proc = run(env, "update", "--url", base_url + path, "--timeout", "1")
    assert proc.returncode == 4, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.startswith("cardcheck: error: ")
    assert message in proc.stderr
    assert "hint: the list in use was not changed" in proc.stderr
    assert ours.read_bytes() == PREVIOUS
    assert sorted(p.name for p in ours.parent.iterdir() if not p.name.startswith("index-")) == [
        "smartcard_list.txt"
    ]
    # and the list still works
    info = run(env, "info", "--json")
    assert info.returncode == 0
    assert json.loads(info.stdout)["entries"] == 4600


def test_good_update_replaces_atomically_and_keeps_a_backup(
    own_copy: tuple[dict[str, str], Path], base_url: str
) -> None:
    env, ours = own_copy
    proc = run(env, "update", "--url", base_url + "/good.txt", "--timeout", "5")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # not a terminal: no progress bar
    assert "5070 entries" in proc.stdout
    assert ours.read_bytes() == GOOD
    assert (ours.parent / "smartcard_list.txt.bak").read_bytes() == PREVIOUS
    info = json.loads(run(env, "info", "--json").stdout)
    assert info["path"] == str(ours) and info["kind"] == "cardcheck-cache"
    assert info["entries"] == 5070
    assert info["index"]["state"] == "cached"  # the update rebuilt the index
    again = run(env, "update", "--url", base_url + "/good.txt")
    assert again.returncode == 0 and "Already up to date" in again.stdout


def test_update_json(own_copy: tuple[dict[str, str], Path], base_url: str) -> None:
    env, ours = own_copy
    url = base_url + "/good.txt"
    proc = run(env, "update", "--url", url, "--json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "path": str(ours),
        "source": url,
        "changed": True,
        "size": len(GOOD),
        "entries": 5070,
        "patterns": 238,
        "previous": str(ours),
        "previous_entries": 4600,
        "backup": str(ours.parent / "smartcard_list.txt.bak"),
        "index": "built",  # built and saved for the new list
    }
    again = json.loads(run(env, "update", "--url", url, "--json").stdout)
    assert again["changed"] is False and again["entries"] == 5070
    assert again["index"] == "cached" and again["backup"] is None
    failed = run(env, "update", "--url", base_url + "/html", "--json")
    assert failed.returncode == 4
    assert failed.stdout == ""  # errors go to stderr, as for every command
    assert failed.stderr.startswith("cardcheck: error: ")
    assert ours.read_bytes() == GOOD


def test_force_installs_a_smaller_list(
    own_copy: tuple[dict[str, str], Path], base_url: str
) -> None:
    env, _ = own_copy
    proc = run(env, "update", "--url", base_url + "/small-list.txt", "--force")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(run(env, "info", "--json").stdout)["entries"] == 1500


def test_update_from_file(own_copy: tuple[dict[str, str], Path], tmp_path: Path) -> None:
    env, ours = own_copy
    proc = run(env, "update", "--from", str(LIST_PATH))
    assert proc.returncode == 0, proc.stderr
    assert ours.read_bytes() == GOOD
    missing = run(env, "update", "--from", str(tmp_path / "nope.txt"))
    assert missing.returncode == 4 and "cannot read" in missing.stderr
    assert ours.read_bytes() == GOOD


def test_first_update_without_any_list(tmp_path: Path, base_url: str) -> None:
    env = isolated_env(tmp_path, system=[])
    assert run(env, "info").returncode == 3
    proc = run(env, "update", "--url", base_url + "/good.txt")
    assert proc.returncode == 0, proc.stderr
    assert not (tmp_path / "cache" / "cardcheck" / "smartcard_list.txt.bak").exists()
    assert run(env, "info").returncode == 0


def test_url_and_from_together_is_a_usage_error(own_copy: tuple[dict[str, str], Path]) -> None:
    env, _ = own_copy
    proc = run(env, "update", "--url", "http://127.0.0.1:9/x", "--from", str(LIST_PATH))
    assert proc.returncode == 2
    assert "cannot be used together" in proc.stderr


def test_unreachable_server(own_copy: tuple[dict[str, str], Path]) -> None:
    env, ours = own_copy
    # Port 9 (discard) on the loopback: nothing listens, the connection is refused.
    proc = run(env, "update", "--url", "http://127.0.0.1:9/list.txt", "--timeout", "2")
    assert proc.returncode == 4
    assert "cannot reach" in proc.stderr
    assert ours.read_bytes() == PREVIOUS


def _read_terminal(master: int) -> bytes:
    import os

    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the other end is closed
            return out
        if not chunk:
            return out
        out += chunk


def test_progress_bar_on_a_terminal(own_copy: tuple[dict[str, str], Path], base_url: str) -> None:
    import os
    import pty

    env, ours = own_copy
    env = {**env, "COLUMNS": "100", "TERM": "xterm"}
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cardcheck", "db", "update", "--url", base_url + "/good.txt"],
            stdout=subprocess.PIPE,
            stderr=slave,
            env=env,
        )
        os.close(slave)
        terminal = _read_terminal(master)
        stdout = proc.communicate(timeout=60)[0]
    finally:
        os.close(master)
    assert proc.returncode == 0
    assert b"downloading the ATR list" in terminal  # the bar, on stderr only
    assert b"downloading" not in stdout
    assert b"\x1b[" in terminal  # drawn with terminal control sequences, then cleared
    assert ours.read_bytes() == GOOD
