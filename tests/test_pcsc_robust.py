"""Issue 9, PC/SC half, against the real stack (pcscd + vpcd + cardcheck's virtual card).

Only allowlisted APDUs ever reach a card; no command hangs when another program holds the card
in a transaction, the card or reader does not answer or pcscd is stuck; Ctrl-C ends every
command with ``cardcheck: interrupted`` and 130; one ``--reader`` rule everywhere.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import READER_0, READER_1, VCardFactory
from pcsc_helpers import cli_env, mute_service, run_cli, transaction_holder

from cardcheck.errors import InputError
from cardcheck.pcsc.adapter import open_context
from cardcheck.pcsc.apdus import ApduRefused, is_allowed
from cardcheck.pcsc.model import match_reader
from cardcheck.testing.pcscd import Pcscd, wait_reader
from cardcheck.testing.vcard import SELECT_MF

pytestmark = pytest.mark.pcsc

PORT_1 = 35964
LIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "smartcard_list.latest.txt"
MULTIFLEX = bytes.fromhex("3B021450")  # Schlumberger Multiflex 3k, T=0, in the list
YUBIKEY = bytes.fromhex("3BF81300008131FE15597562696B657934D4")  # T=1, in the list


def answer_everything(apdu: bytes) -> bytes:
    """A card that says 90 00 to any command (so nothing stops a command early)."""
    return b"\x90\x00"


def start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cardcheck", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )


def python_handles_sigint(proc: subprocess.Popen[str], timeout: float = 10.0) -> bool:
    """Wait until the interpreter in ``proc`` has installed its SIGINT handler (SigCgt in
    /proc): before that a SIGINT ends the process the default way, before any Python runs.
    False when the process ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            status = Path(f"/proc/{proc.pid}/status").read_text()
        except OSError:
            return False
        caught = next(line for line in status.splitlines() if line.startswith("SigCgt:"))
        if int(caught.split()[1], 16) & (1 << (signal.SIGINT - 1)):
            return True
        time.sleep(0.005)
    return False


def interrupt(proc: subprocess.Popen[str], after: float) -> tuple[int, str]:
    """SIGINT to ``proc`` after ``after`` seconds; its exit code and stderr."""
    time.sleep(after)
    assert proc.poll() is None, "the command ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=15)
    return proc.returncode, err


# -- harmless for real -------------------------------------------------------------------


REFUSED = {
    "00 20 00 80 08 31 32 33 34 FF FF FF FF": "VERIFY",
    "00 D6 00 00 02 01 02": "UPDATE BINARY",
    "00 E4 00 00 02 3F 00": "DELETE FILE",
    "00 2C 00 80 00": "RESET RETRY COUNTER",
    "00 24 00 80 04 31 32 33 34": "CHANGE REFERENCE DATA",
    "00 84 00 00 08": "GET CHALLENGE",
    "80 CA 9F 7F 00": "proprietary class",
    "00 B0 00 00 05 00": "malformed",
}


def test_refused_apdus_never_reach_the_card(vcard: VCardFactory) -> None:
    card = vcard(MULTIFLEX, port=PORT_1, handler=answer_everything)
    for text, name in REFUSED.items():
        proc = run_cli("check", "--reader", READER_1, "--apdu", text)
        assert proc.returncode == 2, (text, proc.stderr)
        assert name in proc.stderr
        assert "cardcheck: error:" in proc.stderr and "hint:" in proc.stderr
        # Refused before any PC/SC call: no stage ran at all.
        assert "check service" not in proc.stderr
    assert card.apdus == []


def test_the_adapter_refuses_unlisted_apdus_too(vcard: VCardFactory) -> None:
    card = vcard(MULTIFLEX, port=PORT_1, handler=answer_everything)
    with open_context() as pcsc, pcsc.connect(READER_1) as conn:
        for text in REFUSED:
            with pytest.raises(ApduRefused):
                conn.transmit(bytes.fromhex(text))
        assert conn.transmit(SELECT_MF) == (b"", 0x90, 0x00)
    assert card.apdus == [SELECT_MF]


def test_every_command_sends_only_allowed_apdus(vcard: VCardFactory, tmp_path: Path) -> None:
    card = vcard(YUBIKEY, port=PORT_1, handler=answer_everything)
    extra = ["00 B0 00 00 10", "00 B2 01 04 00", "00 CA 9F 7F 00", "00 C0 00 00 10"]
    runs: list[list[str]] = [
        ["readers"],
        ["readers", "--json", "--db", str(LIST)],
        ["watch", "--json", "--timeout", "1"],
        ["watch", "--reader", "00 01", "--timeout", "1"],
        ["check", "--count", "2"],
        ["check", "--json", "--reader", "pcd 00 01", "--count", "2", "--db", str(LIST)],
        *(["check", "--reader", READER_1, "--count", "1", "--apdu", apdu] for apdu in extra),
        ["atr", "3B F8 13 00 00 81 31 FE 15 59 75 62 69 6B 65 79 34 D4"],
        ["compat", "3B 02 14 50", "--clock", "4"],
        ["db", "info", "--db", str(LIST)],
        ["db", "search", "yubikey", "--db", str(LIST)],
    ]
    if run_cli("doctor", "--help").returncode == 0:
        runs.append(["doctor"])
    for args in runs:
        proc = run_cli(*args)
        assert "Traceback" not in proc.stderr, (args, proc.stderr)
        assert proc.returncode in (0, 1, 3), (args, proc.returncode, proc.stderr)
    assert card.apdus, "the check runs sent nothing at all"
    refused = [apdu.hex(" ") for apdu in card.apdus if not is_allowed(apdu)]
    assert refused == []
    assert set(card.apdus) == {SELECT_MF, *(bytes.fromhex(a) for a in extra)}


# -- nothing hangs ---------------------------------------------------------------------------


def test_card_in_another_programs_transaction(vcard: VCardFactory) -> None:
    card = vcard(MULTIFLEX, port=PORT_1)
    with transaction_holder(READER_1):
        readers = run_cli("readers")
        readers_json = run_cli("readers", "--json")
        checked = run_cli("check", "--json", "--reader", READER_1, "--db", str(LIST))
    assert readers.returncode == 3, readers.stderr
    assert "in use by another program (in a transaction)" in readers.stderr
    assert "hint: " in readers.stderr and "scdaemon" in readers.stderr
    assert "3B 02 14 50" in readers.stdout  # everything else is still listed
    listed = {r["name"]: r for r in json.loads(readers_json.stdout)["readers"]}
    assert readers_json.returncode == 3
    assert "in a transaction" in listed[READER_1]["note"]
    assert listed[READER_1]["atr"] == "3B 02 14 50"

    assert checked.returncode == 3, checked.stderr
    report = json.loads(checked.stdout)
    got = {c["id"]: c for c in report["checks"]}
    # The ATR comes from the reader state: decoded and identified even so.
    assert got["atr"]["status"] == "pass" and got["identify"]["status"] == "pass"
    assert any("Multiflex" in d for m in report["atr"]["identified"] for d in m["descriptions"])
    assert got["protocol"]["status"] == "fail"
    assert "in use by another program (in a transaction)" in got["protocol"]["message"]
    assert got["latency"]["status"] == "skip"
    assert card.apdus == []


@pytest.mark.parametrize("command", [["readers"], ["check", "--reader", READER_1]])
def test_ctrl_c_while_waiting_for_a_transaction(vcard: VCardFactory, command: list[str]) -> None:
    vcard(MULTIFLEX, port=PORT_1)
    with transaction_holder(READER_1):
        code, err = interrupt(start(*command), after=1.0)
    assert code == 130, err
    assert err.endswith("cardcheck: interrupted\n")
    assert "Traceback" not in err


def test_empty_atr_card_is_unresponsive_not_a_hang(vcard: VCardFactory) -> None:
    vcard(b"", port=PORT_1, wait=False)
    time.sleep(1.0)  # let pcscd try the card
    proc = run_cli("readers", "--json")
    assert proc.returncode == 3, proc.stderr
    assert "unresponsive" in proc.stderr and "hint: " in proc.stderr
    listed = {r["name"]: r for r in json.loads(proc.stdout)["readers"]}
    assert "unresponsive" in listed[READER_1]["note"]
    assert listed[READER_0]["note"] is None  # the other reader is read as usual


def test_card_that_never_answers_a_command(vcard: VCardFactory) -> None:
    card = vcard(MULTIFLEX, port=PORT_1, response_delay=8.0)
    proc = run_cli("check", "--json", "--reader", READER_1, "--count", "3")
    assert proc.returncode == 3, proc.stderr
    latency = next(c for c in json.loads(proc.stdout)["checks"] if c["id"] == "latency")
    assert latency["status"] == "fail"
    assert "unresponsive" in latency["message"] and "SCardTransmit" in latency["message"]
    assert latency["advice"]
    assert card.apdus == [SELECT_MF]  # given up after the first


def test_ctrl_c_during_a_slow_command(vcard: VCardFactory) -> None:
    vcard(MULTIFLEX, port=PORT_1, response_delay=3.0)
    proc = start("check", "--reader", READER_1, "--count", "5")
    assert proc.stderr is not None
    for line in proc.stderr:  # progress, line by line, until the latency stage starts
        if "check warm-reset" in line:
            break
    time.sleep(0.5)  # inside the first SCardTransmit, which takes 3 s
    proc.send_signal(signal.SIGINT)
    rest = proc.stderr.read()
    assert proc.wait(timeout=15) == 130
    assert rest.endswith("cardcheck: interrupted\n")


def test_ctrl_c_in_readers_and_check_at_once(vcard: VCardFactory) -> None:
    # Wherever it lands once cardcheck runs (imports, a PC/SC call, rendering), SIGINT gives 130
    # and the message. Python's own start-up (site, runpy) comes before any cardcheck code and
    # is left out: python_handles_sigint waits for it, and `after` leaves it time to finish.
    vcard(MULTIFLEX, port=PORT_1, response_delay=0.5)
    interrupted = 0
    for args, after in ((("check", "--reader", READER_1), 0.8), (("readers",), 0.1)):
        proc = start(*args)
        if not python_handles_sigint(proc):
            proc.communicate(timeout=15)
            continue  # it was done already: nothing to interrupt
        time.sleep(after)
        if proc.poll() is not None:
            proc.communicate(timeout=15)
            continue
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
        assert "Traceback" not in err, (args, err)
        if proc.returncode == -signal.SIGINT and out and not err:
            continue  # it had finished its work and was exiting: the shell sees 130 too
        assert proc.returncode == 130, (args, proc.returncode, err)
        assert err.endswith("cardcheck: interrupted\n")
        interrupted += 1
    assert interrupted >= 1  # check, 20 commands of 0.5 s each, is always interrupted


def test_stuck_pcscd_is_an_error_not_a_hang(tmp_path: Path) -> None:
    with mute_service(tmp_path / "pcscd.comm") as env:
        full = cli_env(**env)
        readers = run_cli("readers", env=full)
        checked = run_cli("check", "--json", env=full)
        watched = run_cli("watch", "--timeout", "1", env=full)
    assert readers.returncode == 3, readers.stderr
    assert "pcscd) is unresponsive" in readers.stderr
    assert "hint: " in readers.stderr and "restart pcscd" in readers.stderr
    assert checked.returncode == 3
    service = json.loads(checked.stdout)["checks"][0]
    assert service["id"] == "service" and service["status"] == "fail"
    assert "unresponsive" in service["message"]
    assert watched.returncode == 3 and "unresponsive" in watched.stderr


def test_ctrl_c_with_pcscd_stuck(tmp_path: Path) -> None:
    with mute_service(tmp_path / "pcscd.comm") as env:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cardcheck", "readers"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(**env),
        )
        code, err = interrupt(proc, after=1.0)
    assert code == 130 and err.endswith("cardcheck: interrupted\n")


# -- one --reader rule -----------------------------------------------------------------------


def test_match_reader_rule() -> None:
    names = ["Virtual PCD 00 00", "Virtual PCD 00 01", "ACS ACR122U 00 00"]
    assert match_reader(names, "Virtual PCD 00 01") == "Virtual PCD 00 01"
    assert match_reader(names, "acs") == "ACS ACR122U 00 00"  # unique prefix, any case
    assert match_reader(names, "00 01") == "Virtual PCD 00 01"  # unique part
    assert match_reader(names, "Gemalto") is None
    with pytest.raises(InputError) as caught:
        match_reader(names, "virtual")
    assert "Virtual PCD 00 00" in caught.value.message
    assert "Virtual PCD 00 01" in caught.value.message
    assert caught.value.exit_code == 2
    # The exact name wins even when it is also a prefix of another.
    assert match_reader(["Reader", "Reader 2"], "Reader") == "Reader"


def test_reader_rule_in_check_and_watch(vcard: VCardFactory) -> None:
    vcard(MULTIFLEX, port=35963)
    vcard(YUBIKEY, port=PORT_1)
    for args in (["check"], ["watch", "--timeout", "1"]):
        proc = run_cli(*args, "--reader", "Virtual")
        assert proc.returncode == 2, (args, proc.stderr)
        assert "ambiguous" in proc.stderr
        assert READER_0 in proc.stderr and READER_1 in proc.stderr
    checked = run_cli("check", "--json", "--reader", "pcd 00 01", "--count", "1")
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["reader"] == READER_1
    watched = run_cli("watch", "--json", "--reader", "00 01", "--timeout", "1")
    assert watched.returncode == 0
    events = [json.loads(line) for line in watched.stdout.splitlines()]
    assert [e["reader"] for e in events] == [READER_1]
    assert events[0]["event"] == "present"
    waiting = run_cli("watch", "--reader", "Not Plugged In", "--timeout", "1")
    assert waiting.returncode == 0
    assert "no reader matches 'Not Plugged In' yet" in waiting.stderr


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-1", "1e99"])
def test_watch_timeout_must_be_a_number_of_seconds(value: str) -> None:
    proc = run_cli("watch", "--timeout", value)
    assert proc.returncode == 2
    assert "--timeout" in proc.stderr and "hint:" in proc.stderr


def test_watch_ends_with_an_error_when_pcscd_goes_away(pcscd: Pcscd) -> None:
    if not pcscd.started:
        pytest.skip("the pcscd in use was not started by the tests: it is not ours to stop")
    proc = start("watch", "--json")
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert json.loads(first)["event"] in ("present", "empty")
    pcscd.stop()
    try:
        _out, err = proc.communicate(timeout=20)
    finally:
        pcscd.start()
        wait_reader(READER_0, atr=None)
    assert proc.returncode == 3, err
    assert "cardcheck: error:" in err and "hint:" in err


def test_latency_stage_has_a_time_budget(vcard: VCardFactory) -> None:
    from cardcheck.checkrun import CheckOptions, run_check

    card = vcard(MULTIFLEX, port=PORT_1, response_delay=0.3)
    report = run_check(CheckOptions(reader=READER_1, count=50, db_path=LIST, latency_budget=1.0))
    latency = next(c for c in report.checks if c.id == "latency")
    assert latency.status.value == "warn"
    assert "stopped after 1 s" in latency.message
    assert report.latency is not None and 1 <= report.latency.count < 50
    assert len(card.apdus) == report.latency.count


def closed_stdout(*args: str) -> tuple[int, str]:
    """Run the CLI with its stdout a pipe whose reader is gone before anything is written."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "cardcheck", *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(),
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    return proc.returncode, proc.stderr


def test_a_closed_pipe_ends_quietly_with_the_commands_own_code(vcard: VCardFactory) -> None:
    vcard(MULTIFLEX, port=PORT_1)
    for args, own in (
        (["readers"], 0),
        (["readers", "--json"], 0),
        (["check", "--reader", READER_1, "--count", "1"], 0),
        (["check", "--json", "--reader", READER_1, "--count", "1"], 0),
        (["check", "--reader", READER_0], 3),  # no card there
        (["watch", "--count", "2"], 0),
        (["watch", "--json", "--timeout", "1"], 0),
    ):
        code, err = closed_stdout(*args)
        assert code == own, (args, err)
        assert "Traceback" not in err and "Exception ignored" not in err, (args, err)


def test_ctrl_c_ends_watch_with_0_even_while_pcscd_is_stuck(tmp_path: Path) -> None:
    with mute_service(tmp_path / "pcscd.comm") as env:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cardcheck", "watch"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=cli_env(**env),
        )
        code, err = interrupt(proc, after=1.0)
    assert code == 0, err
    assert "Traceback" not in err
