"""The start-up fast path of `cardcheck atr` behaves exactly like the typer command."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

LIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "smartcard_list.latest.txt"


def run(
    args: list[str], *, fast: bool, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NO_COLOR="1", PCSCLITE_CSOCK_NAME="/nonexistent/pcscd.comm")
    env.pop("CARDCHECK_NO_FASTPATH", None)
    if not fast:
        env["CARDCHECK_NO_FASTPATH"] = "1"
    return subprocess.run(
        [sys.executable, "-m", "cardcheck", *args],
        capture_output=True,
        text=True,
        env=env,
        input=stdin,
        check=False,
    )


CASES = [
    ["atr", "3B", "02", "14", "50", "--json", "--db", str(LIST)],
    ["atr", "3B021450", "--db", str(LIST)],
    ["atr", "3b:02:14:50", "--no-db", "--json"],
    ["atr", "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A", "--db=" + str(LIST)],
    ["atr", "3B", "96", "--clock", "4.8", "--no-db"],  # truncated: exit 1
    ["atr", "3B", "0G", "--no-db"],  # not hex: exit 2
    ["atr", "--file", "-", "--json", "--no-db"],
    ["atr", "-f", "-", "--db", str(LIST)],
    ["atr", "3B 02 14 50", "--db", "/nonexistent/list.txt"],  # missing --db: exit 2
    ["atr", "-f", "-", "--json", "--no-db", "--jobs", "2"],
    ["atr", "-f", "-", "--json", "--no-db", "--jobs=3"],
    ["atr", "-f", "-", "--json", "--no-db", "--jobs", "0"],  # not a count: exit 2
    ["compat", "3B 95 96 80 B1 FE 55 1F C7 47 72 61 63 65 13", "--clock", "4"],
    ["compat", "3B", "02", "14", "50", "--clock=20", "--max-rate", "9600", "--json"],
    ["compat", "3B", "02", "14", "50"],  # no reader: exit 2
    ["compat", "3B", "02", "14", "50", "--voltages", "7"],  # bad voltages: exit 2
    ["db", "info", "--db", str(LIST)],
    ["db", "info", "--json", "--db", str(LIST)],
    ["db", "search", "yubikey", "--db", str(LIST)],
    ["db", "search", "--json", "Gemalto", "--db", str(LIST)],
    ["db", "search", " ", "--db", str(LIST)],  # empty text: exit 2
    ["db", "info", "--db", "/nonexistent/list.txt"],  # exit 2 or 3, the same on both paths
    ["readers", "--json"],  # no PC/SC service (PCSCLITE_CSOCK_NAME): exit 3 on both paths
    ["--help"],
    ["db", "--help"],
    ["db", "search", "-h"],
    ["check", "--help"],
    ["watch", "--help"],
    ["readers", "--help"],
    ["compat", "--help"],
    ["db", "update", "--help"],
    ["doctor", "--help"],
    ["doctor", "--root", "/nonexistent/not-a-tree"],  # not a directory: exit 2 on both paths
    ["watch", "--timeout", "nan"],  # refused by options.watch_timeout: exit 2, typer's message
    ["check", "--count", "10001"],  # refused by options.check_count
    ["db"],  # the group's help on stderr: exit 2
]


@pytest.mark.parametrize("args", CASES, ids=[" ".join(c[:4]) for c in CASES])
def test_fast_path_equals_typer(args: list[str]) -> None:
    stdin = "3B 02 14 50\n# comment\nzz\n3B 96\n"
    if args[0] == "db":
        run(args, fast=True, stdin=stdin)  # the index is built once: both then read it cached
    fast = run(args, fast=True, stdin=stdin)
    slow = run(args, fast=False, stdin=stdin)
    assert (fast.returncode, fast.stdout, fast.stderr) == (
        slow.returncode,
        slow.stdout,
        slow.stderr,
    )


def test_fast_path_exit_codes() -> None:
    assert run(["atr", "3B", "02", "14", "50", "--no-db"], fast=True).returncode == 0
    assert run(["atr", "3B", "96", "--no-db"], fast=True).returncode == 1
    bad = run(["atr", "3B", "0G", "--no-db"], fast=True)
    assert bad.returncode == 2
    assert "0G" in bad.stderr


def test_help_and_bad_options_go_to_typer() -> None:
    helped = run(["atr", "--help"], fast=True)
    assert helped.returncode == 0
    assert "--clock" in helped.stdout
    bad = run(["atr", "3B", "00", "--clock", "fast"], fast=True)
    assert bad.returncode == 2
    assert "clock" in bad.stderr.lower()


def test_version_without_and_with_typer() -> None:
    fast = run(["--version"], fast=True)
    slow = run(["--version"], fast=False)
    assert (fast.returncode, fast.stdout, fast.stderr) == (
        slow.returncode,
        slow.stdout,
        slow.stderr,
    )
    assert fast.stdout.startswith("cardcheck ")


def test_parse_options_leaves_doubtful_input_to_typer() -> None:
    from cardcheck.clispec import ATR
    from cardcheck.fastpath import parse_options

    ATR_OPTIONS = ATR.options
    good = parse_options(ATR_OPTIONS, ["3B", "--clock=4", "--jobs", "2", "-f", "-", "--json"])
    assert good is not None
    assert (good["clock"], good["jobs"], good["file"], good["json_output"]) == (4.0, 2, "-", True)
    assert good["arguments"] == ["3B"]
    for bad in (
        ["3B", "--clock"],
        ["3B", "--clock", "nan"],
        ["3B", "--clock", "inf"],
        ["3B", "--clock", "0"],
        ["3B", "--jobs", "0"],
        ["3B", "--jobs", "1.5"],
        ["3B", "--json=yes"],
        ["3B", "--unknown"],
        ["3B", "-x"],
    ):
        assert parse_options(ATR_OPTIONS, bad) is None, bad
