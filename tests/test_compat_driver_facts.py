"""What the emulated readers showed libccid and pcscd do, as pure rules (no emulation here).

Each case names the reader dump and what the real libccid 1.5.2 did with it under the
emulation (tests/test_usbemu_compat.py and bench/ccid_sweep.py check them live).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cardcheck.atr.decode import decode_atr
from cardcheck.compat.ccid import find_descriptor
from cardcheck.compat.rules import ReaderCapabilities, compatibility
from cardcheck.testing.usbemu.cases import case
from cardcheck.testing.usbemu.descriptors import load_reader


def report(reader: str, atr_case: str, rates: tuple[int, ...] | None = None):  # type: ignore[no-untyped-def]
    spec = load_reader(reader)
    usb = find_descriptor(spec.sysfs_descriptors())
    caps = ReaderCapabilities.from_descriptor(
        usb, data_rates=rates, data_rates_known=rates is not None
    )
    return compatibility(decode_atr(case(atr_case).atr), caps)


def test_adapted_speed_pps_bytes() -> None:
    # ACR38U, TA1 96: libccid sent PPS FF 11 95 7B and SetParameters with 95.
    speed = report("ACR38U-CCID.txt", "ta1-96").speed
    assert speed is not None
    assert speed.pps_request == bytes.fromhex("FF11957B")
    assert speed.sends_set_parameters and speed.chosen_ta1 == 0x95


def test_power_up_voltages() -> None:
    assert report("ACR38U-CCID.txt", "no-ta1").power_up_voltage == "5 V"
    # JaCarta Flash: 3 V only, no automatic activation: IccPowerOn at 3 V.
    assert report("Aladdin_R.D._JaCarta_Flash.txt", "no-ta1").power_up_voltage == "3 V"
    # AK910: 3 V only, dwFeatures 0x04 (automatic activation): bPowerSelect 0.
    assert report("AK910_ckey_0001.txt", "no-ta1").power_up_voltage == "auto"


def test_firmware_libccid_refuses() -> None:
    # SCL010 (04E6:5291): its bcdDevice is below 1.12; libccid logs "is bogus", no reader.
    found = report("SCL010.txt", "no-ta1")
    codes = {f.code for f in found.findings}
    assert "reader-firmware-refused" in codes
    assert found.reader.to_json()["firmware"] is not None
    assert "reader-firmware-refused" not in {
        f.code for f in report("ACR38U-CCID.txt", "no-ta1").findings
    }


def test_t1_preferred_then_kept_default_on_a_t0_reader() -> None:
    # ANCUD (T=0 only, TPDU) with a T=0-then-T=1 card, TA1 18: pcscd asks for T=1, libccid
    # refuses, pcscd keeps T=0: no PPS, no SetParameters.
    found = report("ANCUD_CCID_USB_Reader_RNG.txt", "ta1-18")
    assert found.protocol == 0
    assert found.speed is not None and not found.speed.negotiated
    assert found.speed.pps_request is None and not found.speed.sends_set_parameters
    # ...and a T=1-first card there: every exchange fails at TPDU level.
    found = report("ANCUD_CCID_USB_Reader_RNG.txt", "t1-then-t0")
    assert found.protocol is None
    assert "protocol-default-unsupported" in {f.code for f in found.findings}


def test_rate_table_decides() -> None:
    # Genesys Logic Combo: 3 MHz, a rate table without TA1 96's rate: libccid stays at 11.
    spec = load_reader("Genesys_Logic_Combo_Card_Reader.txt")
    found = report(spec.key, "ta1-96", spec.data_rates)
    assert found.speed is not None and found.speed.chosen_ta1 == 0x11


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cardcheck", *args], capture_output=True, text=True, check=False
    )


def test_cli_data_rates(tmp_path: Path) -> None:
    spec = load_reader("Genesys_Logic_Combo_Card_Reader.txt")
    blob = tmp_path / "descriptors"
    blob.write_bytes(spec.sysfs_descriptors())
    rates = ",".join(str(r) for r in spec.data_rates)
    done = run(
        "compat", "--json", "--descriptor", str(blob), "--data-rates", rates, "3B9596018073C821130B"
    )
    data = json.loads(done.stdout)
    assert data["reader"]["data_rates_known"] is True
    assert data["speed"]["chosen_ta1"] == "11"
    assert data["speed"]["pps_request"] is None
    done = run("compat", "--descriptor", str(blob), "--data-rates", "fast", "3B00")
    assert done.returncode == 2
    assert "--data-rates" in done.stderr and "hint:" in done.stderr


def test_o2micro_sends_no_pps() -> None:
    # OZ776 with a T=0-then-T=1 card: libccid logs "PPS not supported on O2Micro readers.
    # Using T=0", sets T=0, and pcscd reports T=1: exchanges fail.
    found = report("Oz776S.txt", "class-ab")
    assert found.protocol is None
    assert "pps-unsupported-reader" in {f.code for f in found.findings}
    # A T=0-only card needs no PPS there: it works.
    assert report("Oz776S.txt", "no-ta1").protocol == 0
