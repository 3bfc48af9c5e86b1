"""`cardcheck compat` end to end, in a subprocess: exit code, stdout and stderr checked apart.

Descriptor files are built in a temp directory from the libccid `parse` dumps (test_ccid.dump);
cards are ATRs of the pcsc-tools list.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from test_ccid import dump

ICLASS_T0_T1_96 = "3B 95 96 80 B1 FE 55 1F C7 47 72 61 63 65 13"  # IClass SE Processor
MULTIFLEX_T0 = "3B 02 14 50"  # Schlumberger Multiflex 3k


def run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200")
    proc = subprocess.run(
        [sys.executable, "-m", "cardcheck", "compat", *args],
        capture_output=True,
        input=stdin,
        check=False,
        env=env,
    )
    return subprocess.CompletedProcess(
        proc.args, proc.returncode, proc.stdout.decode(), proc.stderr.decode()
    )


@pytest.fixture
def acr38u_blob(tmp_path: Path) -> Path:
    """ACR38U-CCID.txt as a sysfs `descriptors` file (binary)."""
    path = tmp_path / "descriptors"
    path.write_bytes(dump("ACR38U-CCID.txt").usb_blob())
    return path


def test_blob_warns_about_the_adapted_speed(acr38u_blob: Path) -> None:
    proc = run(*ICLASS_T0_T1_96.split(), "--descriptor", str(acr38u_blob))
    assert proc.returncode == 0
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("WARN: ")
    assert "TA1 95, 125000 bit/s instead of TA1 96, 250000 bit/s" in proc.stdout
    assert "what to do:" in proc.stdout
    assert "Clock advice" in proc.stdout
    assert "\x1b[" not in proc.stdout  # NO_COLOR and not a terminal
    # Order: verdict, findings, reader, speed, clock advice.
    positions = [proc.stdout.index(s) for s in ("Problems", "Reader", "Speed", "Clock advice")]
    assert positions == sorted(positions)


def test_json(acr38u_blob: Path) -> None:
    proc = run(ICLASS_T0_T1_96, "--descriptor", str(acr38u_blob), "--json")
    assert proc.returncode == 0
    assert proc.stderr == ""
    data = json.loads(proc.stdout)
    assert data["verdict"] == "warn"
    assert {"severity", "code", "message", "advice"} == set(data["findings"][0])
    assert data["findings"][0]["code"] == "speed-fallback"
    assert data["speed"]["chosen_ta1"] == "95"
    assert data["speed"]["chosen_rate_bps"] == 125000
    assert data["reader"]["usb_id"] == "072F:90CC"
    assert data["reader"]["descriptor"]["bcdCCID"] == "1.00"
    assert data["clock_advice"]["fmax_mhz"] == 5.0


def test_alcor_blob_in_hex_gets_the_driver_cap(tmp_path: Path) -> None:
    # AlcorMicro_AU9560.txt as hex text; its USB id brings the 200000 bit/s cap.
    path = tmp_path / "alcor.hex"
    path.write_text(dump("AlcorMicro_AU9560.txt").usb_blob().hex(" ") + "\n")
    data = json.loads(run(ICLASS_T0_T1_96, "-d", str(path), "--json").stdout)
    assert data["speed"]["chosen_rate_bps"] == 115625
    assert data["reader"]["quirks"][0]["max_data_rate_bps"] == 200000


def test_bare_descriptor_from_stdin() -> None:
    # OMNIKEY_AG_3121.txt, the 54 bytes alone: no USB id, and 300000 bit/s for TA1 96.
    raw = dump("OMNIKEY_AG_3121.txt").descriptor_bytes()
    proc = run(ICLASS_T0_T1_96, "--descriptor", "-", "--json", stdin=raw)
    assert proc.returncode == 0
    data = json.loads(proc.stdout)
    assert data["reader"]["usb_id"] is None
    assert data["speed"]["chosen_rate_bps"] == 300000


def test_fail_exits_1(tmp_path: Path) -> None:
    # ReinerSCT_cyberJack_one.txt supplies 3 V only; the Multiflex is class A (5 V).
    path = tmp_path / "cyberjack.bin"
    path.write_bytes(dump("ReinerSCT_cyberJack_one.txt").usb_blob())
    proc = run(MULTIFLEX_T0, "--descriptor", str(path))
    assert proc.returncode == 1
    assert proc.stderr == ""
    assert proc.stdout.startswith("FAIL: ")
    assert "voltage-unsupported" in proc.stdout


def test_hand_flags() -> None:
    # The ACR38U's values by hand: 4 MHz, 129032 bit/s, 5 V, T=0 and T=1.
    proc = run(
        ICLASS_T0_T1_96,
        "--clock", "4", "--max-rate", "129032", "--voltages", "5", "--protocols", "0,1",
        "--json",
    )  # fmt: skip
    assert proc.returncode == 0
    data = json.loads(proc.stdout)
    assert data["reader"]["source"] == "flags"
    assert data["speed"]["chosen_rate_bps"] == 125000


def test_flags_override_the_descriptor(acr38u_blob: Path) -> None:
    proc = run(ICLASS_T0_T1_96, "-d", str(acr38u_blob), "--max-rate", "250000", "--json")
    data = json.loads(proc.stdout)
    assert data["reader"]["source"] == "descriptor and flags"
    assert data["speed"]["chosen_rate_bps"] == 250000
    assert data["verdict"] == "pass"


def test_no_reader_is_a_usage_error() -> None:
    proc = run(MULTIFLEX_T0)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "no reader given" in proc.stderr
    assert "hint:" in proc.stderr


def test_missing_atr_is_a_usage_error(acr38u_blob: Path) -> None:
    proc = run("--descriptor", str(acr38u_blob))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Missing argument" in proc.stderr


def test_bad_atr_hex(acr38u_blob: Path) -> None:
    proc = run("3B 0Z", "--descriptor", str(acr38u_blob))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "not hex" in proc.stderr.lower()


def test_unreadable_descriptor_file(tmp_path: Path) -> None:
    proc = run(MULTIFLEX_T0, "--descriptor", str(tmp_path / "missing"))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "cannot read the descriptor" in proc.stderr


def test_descriptor_file_not_hex(tmp_path: Path) -> None:
    path = tmp_path / "bad.hex"
    path.write_text("36 21 10 01\n00 07 zz\n")
    proc = run(MULTIFLEX_T0, "--descriptor", str(path))
    assert proc.returncode == 2
    assert "line 2, column 7" in proc.stderr


def test_descriptor_file_without_ccid(tmp_path: Path) -> None:
    path = tmp_path / "hid.bin"
    device = bytes([18, 1, 0, 2, 0, 0, 0, 64, 0x6D, 0x04, 0x1C, 0xC5, 0, 1, 1, 2, 0, 1])
    path.write_bytes(device + bytes([9, 2, 18, 0, 1, 1, 0, 0x80, 50, 9, 4, 0, 0, 1, 3, 1, 2, 0]))
    proc = run(MULTIFLEX_T0, "--descriptor", str(path))
    assert proc.returncode == 2
    assert "no CCID class descriptor" in proc.stderr


def test_bad_voltages_flag() -> None:
    proc = run(MULTIFLEX_T0, "--voltages", "12")
    assert proc.returncode == 2
    assert "--voltages" in proc.stderr


def test_help() -> None:
    proc = run("--help")
    assert proc.returncode == 0
    for option in ("--descriptor", "--clock", "--max-rate", "--voltages", "--protocols", "--json"):
        assert option in proc.stdout
