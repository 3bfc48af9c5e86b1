"""The emulated USB CCID reader: its parts, the real pcscd + libccid driving it, and
``cardcheck check`` running live on it (sysfs included), faults included.

Readers are real dumps from ../shared/data/ccid_readers (libccid's ``parse`` output).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cardcheck.compat.ccid import find_descriptor
from cardcheck.testing.usbemu.cases import CASES, build_atr, case
from cardcheck.testing.usbemu.ccid import Card, CcidReader, is_pps, t1_answer
from cardcheck.testing.usbemu.descriptors import load_reader
from cardcheck.testing.usbemu.emulator import CHANNEL_ID
from tests.conftest import EmulatedReaderFactory

CHECK_TIMEOUT = 240
"""Seconds a `cardcheck check` may take here before the test calls it hung (a loaded machine
and libccid's own timeouts for a silent reader)."""


def cardcheck(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cardcheck", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=CHECK_TIMEOUT,
        check=False,
    )


# ---------------------------------------------------------------------------------------------
# The parts, without pcscd


def test_sysfs_descriptors_decode_to_the_dump() -> None:
    spec = load_reader("ACR38U-CCID.txt")  # 072F:90CC, 5 V only, 4 MHz, 129032 bit/s
    usb = find_descriptor(spec.sysfs_descriptors())
    assert (usb.vendor_id, usb.product_id) == (0x072F, 0x90CC)
    assert usb.bcd_device == spec.bcd_device
    desc = usb.descriptor
    assert desc.default_clock_khz == 4000
    assert desc.max_data_rate_bps == 129032
    assert desc.voltage_support == 0x01
    assert desc.protocols == (0, 1)


def test_cases_decode_as_intended() -> None:
    from cardcheck.atr.decode import decode_atr

    for item in CASES:
        info = decode_atr(item.atr)
        assert info.valid, item.name
    assert decode_atr(case("ta1-96").atr).interface_bytes[0].value == 0x96
    assert decode_atr(case("t1-then-t0").atr).protocols == (1, 0)
    mode = decode_atr(case("ta2-fixed").atr).specific_mode
    assert mode is not None and mode.protocol == 0 and not mode.can_change
    t15 = decode_atr(case("class-c").atr).t15
    assert t15 is not None and [c.value for c in t15.voltage_classes] == ["C"]
    with pytest.raises(ValueError):
        build_atr(ta2=0x01, protocols=())  # TA2 needs a TD1


def test_model_power_on_cold_then_warm() -> None:
    reader = CcidReader(load_reader("ACR38U-CCID.txt"))
    reader.insert(Card(atr=b"\x3b\x00", warm_atr=b"\x3b\x01"))
    assert reader.next_interrupt() == bytes([0x50, 0x03])  # slot 0: present, changed
    power_on = bytes([0x62, 0, 0, 0, 0, 0, 7, 1, 0, 0])
    reader.bulk_out(power_on)
    reader.bulk_out(power_on)  # while powered: a warm reset
    cold, warm = reader.next_bulk_in(), reader.next_bulk_in()
    assert cold is not None and cold[10:] == b"\x3b\x00"
    assert warm is not None and warm[10:] == b"\x3b\x01"
    logged = [e for e in reader.log if e["ev"] == "bulk_out"]
    assert [e["reset"] for e in logged] == ["cold", "warm"]
    assert logged[0]["voltage"] == "5V"
    reader.remove()
    assert reader.next_interrupt() == bytes([0x50, 0x02])


def test_model_reads_the_protocols_of_an_atr() -> None:
    from cardcheck.testing.usbemu.ccid import atr_protocols

    assert atr_protocols(case("no-ta1").atr) == (0,)
    assert atr_protocols(case("t1-then-t0").atr) == (1, 0)
    assert atr_protocols(case("class-ab").atr) == (0, 1, 15)


def test_model_pps_and_t1() -> None:
    assert is_pps(bytes.fromhex("FF11957B"))
    assert not is_pps(bytes.fromhex("FF11957C"))  # bad PCK
    assert not is_pps(bytes.fromhex("00A4040000"))
    card = Card(atr=b"")
    ifs = t1_answer(card, bytes.fromhex("00C101FE3E"))
    assert ifs == bytes.fromhex("00E101FE1E")  # S(IFS response), LRC
    first = t1_answer(card, bytes.fromhex("000007" + "00A40000023F00") + b"\x9e")
    assert first[:3] == bytes([0, 0x00, 2]) and first[3:5] == b"\x90\x00"
    second = t1_answer(card, bytes.fromhex("00400500A4000000") + b"\x00")
    assert second[1] == 0x40  # N(S) toggles


# ---------------------------------------------------------------------------------------------
# The real pcscd + libccid


def test_reader_appears_and_card_moves(emulated_reader: EmulatedReaderFactory) -> None:
    emu = emulated_reader("ACR38U-CCID.txt")
    answer = emu.client("wait", "--empty")
    assert answer["readers"] == ["ACS ACR 38U-CCID (EMU0001) 00 00"]
    assert "empty" in answer["state"]
    emu.insert(case("ta1-96").atr)
    answer = emu.client("connect")
    assert answer["ok"], answer
    assert answer["protocol"] == "T=1"
    assert answer["atr"] == case("ta1-96").atr.hex()
    assert answer["sw"] == "9000"
    messages = [e for e in emu.log() if e["ev"] == "bulk_out"]
    power = next(e for e in messages if e["msg"] == "IccPowerOn")
    assert power["voltage"] == "5V"
    assert next(e["pps"] for e in messages if "pps" in e) == "ff11957b"  # adapted to TA1 95
    params = next(e for e in messages if e["msg"] == "SetParameters")
    assert (params["bProtocolNum"], params["bmFindexDindex"]) == (1, "95")
    emu.remove()
    assert emu.client("wait", "--empty")["ok"]
    assert any(e["ev"] == "remove" for e in emu.log())
    assert "Set adapted speed" in emu.pcscd_log() or "adapted" in emu.pcscd_log().lower()


def test_rate_and_clock_tables_are_requested(emulated_reader: EmulatedReaderFactory) -> None:
    # OMNIKEY 3121: 17 data rates and a clock table; libccid asks for the rates at start-up.
    emu = emulated_reader("OMNIKEY_AG_3121.txt")
    requests = {e["request"] for e in emu.log() if e["ev"] == "control"}
    assert "GET_DATA_RATES" in requests


def test_everything_started_is_stopped(emulated_reader: EmulatedReaderFactory) -> None:
    system_socket = Path("/run/pcscd/pcscd.comm")
    before = system_socket.stat().st_ino if system_socket.exists() else None
    emu = emulated_reader("ACR38U-CCID.txt")
    assert emu.pcscd is not None and emu.host is not None and emu.workdir is not None
    pids = (emu.pcscd.pid, emu.host.pid)
    workdir, root = emu.workdir, emu.root
    assert emu.socket != system_socket
    emu.stop()
    for pid in pids:
        assert (
            not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text()
        )
    assert not workdir.exists()
    assert root is not None and not Path(root).exists()
    after = system_socket.stat().st_ino if system_socket.exists() else None
    assert after == before  # the system pcscd's socket was not touched


# ---------------------------------------------------------------------------------------------
# cardcheck check, live on the emulated reader


def test_check_runs_every_stage_live(emulated_reader: EmulatedReaderFactory) -> None:
    emu = emulated_reader("ACR38U-CCID.txt")
    emu.insert(case("ta1-96").atr)
    assert emu.client("wait", "--card")["ok"]
    done = cardcheck(["check", "--json", "--count", "3"], emu.env())
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    status = {c["id"]: c for c in report["checks"]}
    assert all(c["status"] != "skip" for c in report["checks"]), report["checks"]
    caps = status["reader-capabilities"]
    assert caps["status"] == "pass"
    assert "clock 4 MHz, max 129032 bit/s" in caps["message"]
    assert status["compatibility"]["status"] == "warn"
    assert "TA1 95" in status["compatibility"]["message"]
    assert status["protocol"]["message"].startswith("connected with T=1")
    # ...and libccid did set TA1 95, as predicted.
    fidi = {e["bmFindexDindex"] for e in emu.log() if e.get("msg") == "SetParameters"}
    assert fidi == {"95"}


def test_channel_id_points_at_the_emulated_sysfs(emulated_reader: EmulatedReaderFactory) -> None:
    emu = emulated_reader("ACR38U-CCID.txt")
    emu.insert(case("no-ta1").atr)
    assert emu.client("wait", "--card")["ok"]
    done = cardcheck(["readers", "--json"], emu.env())
    assert done.returncode == 0, done.stderr
    (reader,) = json.loads(done.stdout)["readers"]
    assert reader["attributes"]["channel_id"] == f"0x{CHANNEL_ID:08X}"
    assert reader["attributes"]["usb"] == {"bus": 1, "address": 2}


# ---------------------------------------------------------------------------------------------
# Faults: a message with a hint, a documented exit code, nothing hangs


def _failed_stage(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    report = json.loads(done.stdout)
    return next(c for c in report["checks"] if c["status"] == "fail")


def test_reader_stops_answering_mid_command(emulated_reader: EmulatedReaderFactory) -> None:
    # A fast T=1 card: libccid gives up after a few block waiting times (about 0.1 s each at
    # TA1 95). At the default speed each is 1.4 s and libccid retries many times; a T=0 card
    # at the default WI would have libccid wait 232 s inside SCardTransmit.
    emu = emulated_reader("ACR38U-CCID.txt")
    emu.insert(case("ta1-96").atr)
    assert emu.client("wait", "--card")["ok"]
    emu.faults(silent_after="XfrBlock", silent_count=3)  # from the 3rd block exchanged on
    done = cardcheck(["check", "--json", "--count", "5"], emu.env())
    assert done.returncode in (1, 3), done.stderr  # documented: check failed / environment
    failed = _failed_stage(done)
    assert failed["message"] and failed["advice"]
    assert any(e.get("unanswered") for e in emu.log())


def test_card_removed_during_pps(emulated_reader: EmulatedReaderFactory) -> None:
    emu = emulated_reader("ACR38U-CCID.txt")
    emu.faults(remove_on_pps=True)
    emu.insert(case("ta1-96").atr)
    assert emu.client("wait", "--card")["ok"]
    done = cardcheck(["check", "--json", "--count", "3"], emu.env())
    assert done.returncode in (1, 3), done.stdout + done.stderr
    text = done.stdout + done.stderr
    assert "removed" in text or "no card" in text or "not answer" in text, text
    assert "hint" in done.stderr or _failed_stage(done)["advice"]
    assert any(e["ev"] == "fault" and "PPS" in e["what"] for e in emu.log())


def test_reader_whose_firmware_libccid_refuses(emulated_reader: EmulatedReaderFactory) -> None:
    # SCL010: SCM 04E6:5291 with bcdDevice below 1.12, which libccid calls bogus.
    emu = emulated_reader("SCL010.txt", listed=False)
    answer = emu.client("wait", timeout=8)
    assert answer["readers"] == []
    assert "is bogus" in emu.pcscd_log()
    blob = Path(emu.workdir or "/nonexistent") / "scl010.descriptors"
    blob.write_bytes(load_reader("SCL010.txt").sysfs_descriptors())
    done = cardcheck(
        ["compat", "--json", "--descriptor", str(blob), "3B0214 50"], os.environ.copy()
    )
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert "reader-firmware-refused" in {f["code"] for f in report["findings"]}
    done = cardcheck(["check", "--json"], emu.env())
    assert done.returncode == 3
    stage = _failed_stage(done)
    assert stage["id"] == "readers"
    assert "libccid needs 1.12 or later" in stage["message"]
    assert "firmware" in stage["advice"]


def test_doctor_names_the_firmware_libccid_refuses(emulated_reader: EmulatedReaderFactory) -> None:
    # The same refused SCL010, seen by `cardcheck doctor`: a USB CCID device in sysfs, no PC/SC
    # reader for it, and the cause read from its bcdDevice.
    emu = emulated_reader("SCL010.txt", listed=False)
    assert emu.client("wait", timeout=8)["readers"] == []
    done = cardcheck(["doctor", "--json"], emu.env())
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    found = [f for f in report["findings"] if f["code"] == "bogus-firmware"]
    assert found, [f["code"] for f in report["findings"]]
    assert "04E6:5291" in json.dumps(found[0])


def test_doctor_matches_the_usb_device_to_its_pcsc_reader(
    emulated_reader: EmulatedReaderFactory,
) -> None:
    # A reader libccid drives: doctor pairs the sysfs device with pcscd's reader by CHANNEL_ID
    # (bus 1, address 2 of the emulation) and finds nothing wrong with either.
    emu = emulated_reader("ACR38U-CCID.txt")
    done = cardcheck(["doctor", "--json"], emu.env())
    report = json.loads(done.stdout)
    links = {link["id"]: link for link in report["links"]}
    device = next(line for line in links["usb"]["seen"] if "072F:90CC" in line)
    assert "(bus 1 address 2): PC/SC reader 'ACS ACR 38U-CCID" in device
    assert links["readers"]["status"] == "ok"
    assert links["service"]["status"] == "ok"
    problems = {f["code"] for f in report["findings"] if f["severity"] == "error"}
    assert problems == set(), problems
