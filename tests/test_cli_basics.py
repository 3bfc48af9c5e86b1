"""CLI basics: the entry points exist and usage errors exit 2."""

from __future__ import annotations

import subprocess
import sys


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cardcheck", *args], capture_output=True, text=True, check=False
    )


def test_help_lists_commands() -> None:
    proc = run_cli("--help")
    assert proc.returncode == 0
    assert "atr" in proc.stdout


def test_missing_argument_is_usage_error() -> None:
    proc = run_cli("atr")
    assert proc.returncode == 2
    assert "Missing argument" in proc.stderr


def test_atr_help_keeps_heavy_modules_out() -> None:
    """Start-up stays light: help of `atr` loads neither rich, pyscard nor the decoder."""
    code = (
        "import sys\n"
        "from cardcheck.cli import run\n"
        "run(['atr', '--help'])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'rich', 'smartcard'}\n"
        "               or m in {'cardcheck.atr.decode', 'cardcheck.db', 'cardcheck.pcsc'})\n"
        "print('HEAVY:' + ','.join(heavy))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "Usage: cardcheck atr" in proc.stdout
    assert proc.stdout.splitlines()[-1] == "HEAVY:"


def test_every_command_has_help() -> None:
    for args in (
        ["atr"],
        ["readers"],
        ["watch"],
        ["compat"],
        ["check"],
        ["db", "info"],
        ["db", "search"],
        ["db", "update"],
    ):
        proc = run_cli(*args, "--help")
        assert proc.returncode == 0, (args, proc.stderr)
        assert f"Usage: cardcheck {' '.join(args)}" in proc.stdout


def test_readme_usage_lines_match_help() -> None:
    """The README is the user's manual: its usage lines are those of --help."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for args in (["atr"], ["readers"], ["watch"], ["compat"], ["check"]):
        proc = run_cli(*args, "--help")
        usage = next(line for line in proc.stdout.splitlines() if line.startswith("Usage:"))
        assert usage in readme, usage
        # Every long option of the command is documented in the README.
        import re

        for option in set(re.findall(r"^\s+(?:-\w, )?(--[a-z-]+)", proc.stdout, re.M)):
            if option != "--help":
                assert f"`{option}" in readme, (args, option)
    for sub in ("info", "search", "update"):
        proc = run_cli("db", sub, "--help")
        usage = next(line for line in proc.stdout.splitlines() if line.startswith("Usage:"))
        assert usage in readme, usage
