"""`cardcheck db update` refuses incomplete lists and is bounded in time; old index caches are
pruned (issue 9). Against a real HTTP server on 127.0.0.1 and real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from db_atrs import LIST_PATH, PREVIOUS, TRAILER, isolated_env
from httpserver import Route, serve
from pcsc_helpers import run_cli

GOOD = LIST_PATH.read_bytes()


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=env)


def cut_mid_description() -> bytes:
    """The real list cut in the middle of a description line near its end (no trailer)."""
    at = GOOD.rindex(b"\n\t", 0, len(GOOD) - 200) + 10
    return GOOD[:at]


def undescribed(share: float) -> bytes:
    """The real list (trailer kept) with the descriptions of ``share`` of its entries gone."""
    out: list[bytes] = []
    entry = 0
    drop = False
    for line in GOOD.split(b"\n"):
        if line and not line.startswith((b"#", b"\t")):
            entry += 1
            drop = (entry % 100) < share * 100
        elif line.startswith(b"\t") and drop:
            continue
        out.append(line)
    return b"\n".join(out)


def test_the_real_list_ends_with_the_trailer() -> None:
    # What the check relies on: the published list closes with this line.
    assert GOOD.rstrip().rsplit(b"\n", 1)[-1] + b"\n" == TRAILER


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (cut_mid_description(), "does not end with the line '# do not delete'"),
        (GOOD.replace(b"# do not delete", b""), "does not end with the line"),
        (undescribed(0.9), "entries are invalid (no description"),
        (undescribed(0.2), "entries are invalid (no description"),
    ],
    ids=["cut-mid-description", "no-trailer", "90%-undescribed", "20%-undescribed"],
)
def test_an_incomplete_list_is_refused_unless_forced(
    own_copy: tuple[dict[str, str], Path], tmp_path: Path, data: bytes, message: str
) -> None:
    env, ours = own_copy
    new = tmp_path / "new.txt"
    new.write_bytes(data)
    proc = run(env, "db", "update", "--from", str(new))
    assert proc.returncode == 4, proc.stderr
    assert proc.stdout == ""
    assert message in proc.stderr
    assert "--force" in proc.stderr  # the hint says how to install it anyway
    assert ours.read_bytes() == PREVIOUS  # untouched

    forced = run(env, "db", "update", "--from", str(new), "--force", "--json")
    assert forced.returncode == 0, forced.stderr
    assert ours.read_bytes() == data
    assert json.loads(forced.stdout)["changed"] is True


def test_the_complete_list_is_installed(own_copy: tuple[dict[str, str], Path]) -> None:
    env, ours = own_copy
    proc = run(env, "db", "update", "--from", str(LIST_PATH))
    assert proc.returncode == 0, proc.stderr
    assert ours.read_bytes() == GOOD


def test_a_few_undescribed_entries_are_fine(
    own_copy: tuple[dict[str, str], Path], tmp_path: Path
) -> None:
    env, ours = own_copy
    new = tmp_path / "new.txt"
    new.write_bytes(undescribed(0.05))
    proc = run(env, "db", "update", "--from", str(new))
    assert proc.returncode == 0, proc.stderr
    assert ours.read_bytes() == new.read_bytes()


def test_from_a_device_that_never_ends_is_bounded(own_copy: tuple[dict[str, str], Path]) -> None:
    env, ours = own_copy
    proc = run(env, "db", "update", "--from", "/dev/zero")
    assert proc.returncode == 4
    assert "more than" in proc.stderr
    assert ours.read_bytes() == PREVIOUS


@pytest.fixture(scope="module")
def drip_url() -> object:
    routes = {
        "/drip.txt": Route(GOOD, drip=1.0),  # a byte a second: 600,000 s for the list
    }
    with serve(routes) as url:
        yield url


def test_timeout_bounds_the_whole_update_against_a_dripping_server(
    own_copy: tuple[dict[str, str], Path], drip_url: str
) -> None:
    env, ours = own_copy
    # Each byte arrives well within any per-read timeout: only a bound on the whole ends it.
    proc = run(env, "db", "update", "--url", drip_url + "/drip.txt", "--timeout", "2")
    assert proc.returncode == 4, proc.stderr
    assert proc.stdout == ""
    assert "took longer than --timeout 2 s" in proc.stderr
    assert "hint: the list in use was not changed" in proc.stderr
    assert ours.read_bytes() == PREVIOUS


# --- index caches of lists gone or changed are pruned ------------------------------------------


def _indexes(env: dict[str, str]) -> set[str]:
    return {p.name for p in (Path(env["XDG_CACHE_HOME"]) / "cardcheck").glob("index-*.marshal")}


def test_index_of_a_list_that_is_gone_is_pruned(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    big = tmp_path / "big.txt"
    big.write_bytes(GOOD)
    assert run(env, "atr", "3B 02 14 50", "--db", str(big)).returncode == 0
    first = _indexes(env)
    assert len(first) == 1

    big.unlink()
    other = tmp_path / "other.txt"
    other.write_bytes(PREVIOUS)
    assert run(env, "db", "info", "--db", str(other)).returncode == 0
    second = _indexes(env)
    assert len(second) == 1  # only the index of other.txt: big.txt's is gone
    assert second.isdisjoint(first)


def test_index_of_a_list_still_there_is_kept(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    one, two = tmp_path / "one.txt", tmp_path / "two.txt"
    one.write_bytes(GOOD)
    two.write_bytes(PREVIOUS)
    assert run(env, "db", "info", "--db", str(one)).returncode == 0
    assert run(env, "db", "info", "--db", str(two)).returncode == 0
    assert len(_indexes(env)) == 2
    # and the kept index is used again, not rebuilt
    info = json.loads(run(env, "db", "info", "--db", str(one), "--json").stdout)
    assert info["index"]["state"] == "cached"


def test_old_format_and_corrupt_caches_are_pruned(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    cache = Path(env["XDG_CACHE_HOME"]) / "cardcheck"
    cache.mkdir(parents=True)
    (cache / "index-deadbeef.marshal").write_bytes(b"not marshal at all")
    (cache / "index-0badf00d.marshal").write_bytes(b"\x00" * 100)
    own = tmp_path / "own.txt"
    own.write_bytes(GOOD)
    assert run(env, "db", "info", "--db", str(own)).returncode == 0
    assert "index-deadbeef.marshal" not in _indexes(env)
    assert "index-0badf00d.marshal" not in _indexes(env)
    assert len(_indexes(env)) == 1


def test_ctrl_c_during_a_slow_download_says_interrupted(
    own_copy: tuple[dict[str, str], Path], drip_url: str
) -> None:
    import signal
    import time

    env, ours = own_copy
    proc = subprocess.Popen(
        [sys.executable, "-m", "cardcheck", "db", "update", "--url", drip_url + "/drip.txt"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        time.sleep(2)  # well into the download (a byte a second)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 130
    assert out == ""
    assert err == "cardcheck: interrupted\n"
    assert ours.read_bytes() == PREVIOUS


# --- lists that are pipes are not read (they could block for ever) -----------------------------


def test_a_fifo_as_list_or_local_additions_is_skipped_not_read(tmp_path: Path) -> None:
    import os

    env = isolated_env(tmp_path)
    local = Path(env["XDG_CONFIG_HOME"]) / "cardcheck" / "local_atrs.txt"
    local.parent.mkdir(parents=True)
    os.mkfifo(local)  # nobody ever writes to it: opening it to read would block for ever
    proc = run(env, "atr", "3B 02 14 50")
    assert proc.returncode == 0, proc.stderr
    assert f"skipped {local}: it is not a regular file" in proc.stderr

    fifo = tmp_path / "list.fifo"
    os.mkfifo(fifo)
    proc = run(env, "db", "info", "--db", str(fifo))
    assert proc.returncode == 3
    assert "it is not a regular file" in proc.stderr


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("notaurl", "not an http or https URL"),
        ("http://[::1", "Invalid IPv6 URL"),
        ("ftp://127.0.0.1/list.txt", "not an http or https URL"),
        ("file:///etc/passwd", "not an http or https URL"),
        ("http://", "not an http or https URL"),
    ],
)
def test_a_bad_url_is_a_usage_error_not_a_traceback(
    own_copy: tuple[dict[str, str], Path], url: str, reason: str
) -> None:
    env, ours = own_copy
    proc = run(env, "db", "update", "--url", url)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"cardcheck: error: --url {url!r}: ")
    assert reason in proc.stderr
    assert "Traceback" not in proc.stderr
    assert ours.read_bytes() == PREVIOUS
