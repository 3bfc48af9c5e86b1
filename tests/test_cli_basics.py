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
