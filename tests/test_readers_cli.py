"""`cardcheck readers` in a subprocess, on the real stack (pcscd + vpcd + virtual cards)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import READER_0, READER_1, VCardFactory
from pcsc_helpers import NO_SERVICE_ENV, cli_env, exclusive_holder, no_list_env, run_cli, write_list

from cardcheck.testing.pcscd import Pcscd, wait_reader

pytestmark = pytest.mark.pcsc

ATR = bytes.fromhex("3B021450")


def readers_json(*args: str, env: dict[str, str] | None = None) -> dict[str, dict[str, object]]:
    proc = run_cli("readers", "--json", *args, env=env)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    return {reader["name"]: reader for reader in data["readers"]}


def test_card_then_its_removal(vcard: VCardFactory, tmp_path: Path) -> None:
    db = write_list(tmp_path / "list.txt", {"3B 02 14 50": "Test card of cardcheck"})
    card = vcard(ATR)
    readers = readers_json("--db", str(db))
    mine = readers[READER_0]
    assert mine["state"] == ["present"]
    assert mine["atr"] == "3B 02 14 50"
    assert mine["protocol"] == "T=0"
    assert mine["note"] is None
    identified = mine["identified"]
    assert isinstance(identified, list) and len(identified) == 1
    assert identified[0]["descriptions"] == ["Test card of cardcheck"]
    assert identified[0]["exact"] is True
    assert set(mine) == {"name", "state", "atr", "protocol", "identified", "attributes", "note"}
    assert card.apdus == []  # listing readers sends no command to the card

    human = run_cli("readers", "--db", str(db))
    assert human.returncode == 0
    assert f"{READER_0}: card present" in human.stdout
    assert "3B 02 14 50" in human.stdout
    assert "Test card of cardcheck" in human.stdout

    card.stop()
    wait_reader(READER_0, atr=None)
    after = readers_json("--db", str(db))[READER_0]
    assert after["state"] == ["empty"]
    assert after["atr"] is None
    assert after["protocol"] is None
    assert after["identified"] == []
    assert f"{READER_0}: no card" in run_cli("readers", "--db", str(db)).stdout


def test_missing_atr_list_is_a_warning(vcard: VCardFactory, tmp_path: Path) -> None:
    vcard(ATR)
    proc = run_cli("readers", "--json", env=no_list_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "warning: cards are not identified" in proc.stderr
    mine = {r["name"]: r for r in json.loads(proc.stdout)["readers"]}[READER_0]
    assert mine["atr"] == "3B 02 14 50"
    assert mine["identified"] == []


def test_card_held_exclusively(vcard: VCardFactory, tmp_path: Path) -> None:
    vcard(ATR, port=35964)
    db = write_list(tmp_path / "list.txt", {"3B 02 14 50": "Test card"})
    with exclusive_holder(READER_1):
        mine = readers_json("--db", str(db))[READER_1]
        human = run_cli("readers", "--db", str(db))
    assert "exclusive" in mine["state"]  # type: ignore[operator]
    assert mine["atr"] == "3B 02 14 50"  # read from the state, without connecting
    assert mine["protocol"] is None
    assert "another program holds the card exclusively" in str(mine["note"])
    assert "held exclusively by another program" in human.stdout


def test_service_down_message() -> None:
    # The client library looks for pcscd's socket where none listens: what users see when
    # pcscd is not running (the shared pcscd keeps running for the other tests).
    proc = run_cli("readers", env=cli_env(**NO_SERVICE_ENV))
    assert proc.returncode == 3
    assert proc.stdout == ""
    assert "error: the PC/SC service (pcscd) is not running" in proc.stderr
    assert "systemctl start pcscd.socket" in proc.stderr
    assert "SCARD_E_NO_SERVICE" in proc.stderr


def test_service_really_stopped(pcscd: Pcscd) -> None:
    if not pcscd.started:
        pytest.skip("pcscd was already running before the tests: not ours to stop")
    pcscd.stop()
    try:
        proc = run_cli("readers")
        watch = run_cli("watch", "--json", "--timeout", "1")
    finally:
        pcscd.start()
    assert proc.returncode == 3
    assert "pcscd) is not running" in proc.stderr
    assert "hint: start it" in proc.stderr
    assert watch.returncode == 3
    assert "pcscd) is not running" in watch.stderr
