"""`cardcheck check` against the real stack: pcscd + vpcd + cardcheck's own virtual card.

The virtual cards go into "Virtual PCD 00 01" (port 35964). Nothing here mocks pyscard.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import VCardFactory
from pcsc_helpers import exclusive_holder

from cardcheck.testing.pcscd import Pcscd, wait_reader

PORT = 35964
READER = "Virtual PCD 00 01"
LIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "smartcard_list.latest.txt"
YUBIKEY = bytes.fromhex("3BF81300008131FE15597562696B657934D4")  # T=1, in the list
MULTIFLEX = bytes.fromhex("3B021450")  # Schlumberger Multiflex 3k, T=0


def wait_empty() -> None:
    wait_reader(READER, atr=None)


def check(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ, NO_COLOR="1")
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "cardcheck", "check", "--reader", READER, "--db", str(LIST), *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
        check=False,
    )


def statuses(report: dict[str, object]) -> dict[str, str]:
    checks = report["checks"]
    assert isinstance(checks, list)
    return {c["id"]: c["status"] for c in checks}


def test_good_card_passes_every_stage_it_can(vcard: VCardFactory) -> None:
    card = vcard(YUBIKEY, port=PORT)
    proc = check("--json", "--count", "7")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["verdict"] == "pass"
    assert report["reader"] == READER
    got = statuses(report)
    assert list(got) == [
        "service",
        "readers",
        "card",
        "atr",
        "identify",
        "reader-capabilities",
        "compatibility",
        "protocol",
        "warm-reset",
        "latency",
    ]
    assert got["atr"] == got["identify"] == got["protocol"] == got["latency"] == "pass"
    # The virtual reader is not USB/CCID: its capabilities are unknown, said plainly.
    assert got["reader-capabilities"] == "skip"
    assert report["atr"]["atr"] == "3B F8 13 00 00 81 31 FE 15 59 75 62 69 6B 65 79 34 D4"
    assert any("Yubikey" in d for m in report["atr"]["identified"] for d in m["descriptions"])
    assert report["protocol"] == "T=1"
    assert report["latency"]["count"] == 7
    assert report["latency"]["status_words"] == ["9000"]
    # Exactly the 7 timed APDUs reached the card, each the default SELECT MF.
    assert card.apdus == [bytes.fromhex("00A40000023F00")] * 7
    # Progress went to stderr, one line per stage that ran.
    assert "cardcheck: check latency: pass" in proc.stderr


def test_slow_card_latency_is_measured(vcard: VCardFactory) -> None:
    vcard(MULTIFLEX, port=PORT, response_delay=0.08)
    proc = check("--json", "--count", "5", "--apdu", "00 B0 00 00 01")
    assert proc.returncode == 0, proc.stderr
    latency = json.loads(proc.stdout)["latency"]
    assert latency["apdu"] == "00 B0 00 00 01"
    # Every round trip includes the card's 80 ms delay: nothing is invented.
    assert latency["min_ms"] >= 80.0
    assert latency["min_ms"] <= latency["median_ms"] <= latency["p95_ms"] <= latency["max_ms"]
    assert json.loads(proc.stdout)["latency"]["status_words"] == ["6D00"]


def test_atr_changing_on_warm_reset_warns(vcard: VCardFactory) -> None:
    vcard(YUBIKEY, port=PORT, warm_atr=MULTIFLEX)
    proc = check("--json", "--count", "2")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["verdict"] == "warn"
    assert statuses(report)["warm-reset"] == "warn"
    assert report["warm_atr"] == "3B 02 14 50"
    warm = next(c for c in report["checks"] if c["id"] == "warm-reset")
    assert "3B F8 13" in warm["message"] and "3B 02 14 50" in warm["message"]
    assert warm["advice"]
    strict = check("--count", "2", "--strict")
    assert strict.returncode == 1
    assert strict.stdout.startswith("WARN")


def test_no_card_is_an_environment_error(pcscd: Pcscd) -> None:
    wait_empty()
    proc = check("--json")
    assert proc.returncode == 3
    report = json.loads(proc.stdout)
    assert report["verdict"] == "fail"
    got = statuses(report)
    assert got["service"] == got["readers"] == "pass"
    assert got["card"] == "fail"
    assert {got[s] for s in ("atr", "protocol", "latency")} == {"skip"}
    human = check()
    assert human.returncode == 3
    assert "no card in 'Virtual PCD 00 01'" in human.stdout
    assert "insert the card" in human.stdout


def test_card_removed_during_the_check(vcard: VCardFactory) -> None:
    # The card drops its connection on the 3rd APDU of the latency stage.
    card = vcard(YUBIKEY, port=PORT, drop_on_apdu=3)
    proc = check("--json", "--count", "10")
    assert card.dropped.is_set()
    assert proc.returncode == 3, proc.stdout
    report = json.loads(proc.stdout)
    latency = next(c for c in report["checks"] if c["id"] == "latency")
    assert latency["status"] == "fail"
    assert latency["advice"]


def test_unknown_reader_name(pcscd: Pcscd) -> None:
    proc = check("--reader", "No Such Reader 99")
    assert proc.returncode == 2  # the --reader rule: no match is a usage error
    assert "--reader 'No Such Reader 99' matches none of the readers" in proc.stderr
    assert "Virtual PCD 00 00" in proc.stderr


def test_service_down() -> None:
    # The client library connects to PCSCLITE_CSOCK_NAME: a socket nobody serves is exactly
    # what a client sees when pcscd is not running (the shared pcscd stays up).
    proc = check("--json", env={"PCSCLITE_CSOCK_NAME": "/nonexistent/pcscd.comm"})
    assert proc.returncode == 3
    report = json.loads(proc.stdout)
    service = report["checks"][0]
    assert service["id"] == "service" and service["status"] == "fail"
    assert "not running" in service["message"]
    assert "systemctl start pcscd" in service["advice"]
    assert set(statuses(report).values()) == {"fail", "skip"}


def test_bad_apdu_is_a_usage_error() -> None:
    proc = check("--apdu", "00 A4 ZZ")
    assert proc.returncode == 2
    assert "ZZ" in proc.stderr
    assert "is not hex" in proc.stderr and "ATR" not in proc.stderr
    short = check("--apdu", "00A4")
    assert short.returncode == 2
    assert "too short" in short.stderr


def test_card_held_exclusively_by_another_program(vcard: VCardFactory) -> None:
    vcard(YUBIKEY, port=PORT)
    with exclusive_holder(READER):
        proc = check("--json")
    assert proc.returncode == 3
    report = json.loads(proc.stdout)
    card = next(c for c in report["checks"] if c["id"] == "card")
    assert card["status"] == "fail"
    assert "exclusively" in card["message"]
    assert "scdaemon" in card["advice"]
    # The ATR comes from the reader state: still decoded and identified.
    got = statuses(report)
    assert got["atr"] == "pass" and got["identify"] == "pass"
    assert report["atr"]["atr"] == "3B F8 13 00 00 81 31 FE 15 59 75 62 69 6B 65 79 34 D4"
    assert any("Yubikey" in d for m in report["atr"]["identified"] for d in m["descriptions"])
    assert got["protocol"] == got["latency"] == "skip"
