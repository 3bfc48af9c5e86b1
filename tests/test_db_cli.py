"""`cardcheck db info|search` as a user runs them: exit code, stdout and stderr apart."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from db_atrs import LIST_PATH, isolated_env
from pcsc_helpers import run_cli

REPO = Path(__file__).resolve().parents[1]


def run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=env)


def test_info_human(tmp_path: Path) -> None:
    proc = run(isolated_env(tmp_path), "db", "info")
    assert proc.returncode == 0
    assert proc.stderr == ""
    assert f"ATR list in use: {LIST_PATH}" in proc.stdout
    assert "5070 (4832 ATRs, 238 patterns); invalid entries skipped: 0" in proc.stdout
    assert "\x1b[" not in proc.stdout


def test_info_json_and_the_empty_cache_trap(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    trap = tmp_path / "cache" / "smartcard_list.txt"
    trap.write_bytes(b"")
    proc = run(env, "db", "info", "--json")
    assert proc.returncode == 0
    data = json.loads(proc.stdout)
    assert data["path"] == str(LIST_PATH)
    assert data["skipped"] == [
        {
            "path": str(trap),
            "kind": "pcsc-tools-user-cache",
            "status": "skipped",
            "reason": "it is empty",
            "hint": data["skipped"][0]["hint"],
        }
    ]
    assert proc.stderr.splitlines()[0] == f"cardcheck: warning: skipped {trap}: it is empty"
    assert proc.stderr.splitlines()[1].startswith(f"  hint: delete it (rm {trap})")


def test_search(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    proc = run(env, "db", "search", "YUBIKEY", "--json")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["query"] == "YUBIKEY"
    assert data["count"] == len(data["entries"]) >= 10
    assert all(
        any("yubikey" in d.lower() for d in entry["descriptions"]) for entry in data["entries"]
    )
    assert set(data["entries"][0]) == {"pattern", "is_pattern", "descriptions", "source", "line"}
    human = run(env, "db", "search", "yubikey")
    assert human.returncode == 0
    assert human.stdout.rstrip().endswith(f"{data['count']} entries mention 'yubikey'")
    nothing = run(env, "db", "search", "no such card at all")
    assert nothing.returncode == 0 and "0 entries mention" in nothing.stdout
    empty = run(env, "db", "search", "  ")
    assert empty.returncode == 2 and "search text is empty" in empty.stderr


def test_no_list_anywhere_exits_3(tmp_path: Path) -> None:
    env = isolated_env(tmp_path, system=[])
    proc = run(env, "db", "info")
    assert proc.returncode == 3
    assert proc.stdout == ""
    assert "cardcheck: error: no usable ATR list" in proc.stderr
    assert "apt install pcsc-tools" in proc.stderr
    assert "cardcheck db update" in proc.stderr


def test_explicit_db_errors(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    missing = run(env, "db", "info", "--db", str(tmp_path / "nope.txt"))
    assert missing.returncode == 2
    assert "no such file" in missing.stderr
    junk = tmp_path / "junk.txt"
    junk.write_bytes(b"\x00\x01binary")
    invalid = run(env, "db", "info", "--db", str(junk))
    assert invalid.returncode == 3
    assert "is not a usable ATR list: it is binary data" in invalid.stderr
    ok = run(env, "db", "info", "--json", "--db", str(LIST_PATH))
    assert ok.returncode == 0 and json.loads(ok.stdout)["kind"] == "option"


def test_help_of_every_db_command(tmp_path: Path) -> None:
    env = isolated_env(tmp_path)
    for command in ("info", "search", "update"):
        proc = run(env, "db", command, "--help")
        assert proc.returncode == 0
        assert "Usage:" in proc.stdout


def test_identify_path_stays_light(tmp_path: Path) -> None:
    # Opening the database and identifying imports neither rich nor the db info records.
    code = (
        "import sys\n"
        "from cardcheck.db import open_database\n"
        "db = open_database()\n"
        "assert db.identify(bytes.fromhex('3B8F8001804F0CA000000306030001000000006A'))\n"
        "print(sorted(m for m in sys.modules if m.startswith(('rich', 'cardcheck.db.records',"
        " 'typer', 'smartcard', 'tempfile', 'urllib.request'))))\n"
    )
    env = isolated_env(tmp_path)
    for _ in range(2):  # first run builds the index, second loads it
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
        )
        assert proc.stdout.strip() in ("[]", "['tempfile']")
    assert proc.stdout.strip() == "[]"


def test_wheel_contains_atr_db(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path), str(REPO)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if proc.returncode != 0:  # offline: build cannot fetch hatchling into an isolated env
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
             "-w", str(tmp_path), str(REPO)],
            capture_output=True, text=True, check=False, timeout=300,
        )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    [wheel] = tmp_path.glob("cardcheck-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    expected = {
        f"cardcheck/atr_db/{p.relative_to(REPO / 'atr_db')}"
        for p in (REPO / "atr_db").rglob("*")
        if p.is_file()
    }
    assert "cardcheck/atr_db/README.md" in expected
    assert expected <= set(names)
    assert "cardcheck/paths.py" in names and "cardcheck/db/index.py" in names
