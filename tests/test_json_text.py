"""The JSON text `cardcheck atr --json` writes directly is exactly json.dumps of the contract.

The CLI writes each ATR's JSON as text for speed (cardcheck.atr.jsonout.atr_json_text); the
contract itself is atr_to_json / result_for. These tests keep the two from drifting apart.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cardcheck.atr.decode import decode_atr
from cardcheck.atr.jsonout import atr_json_text, atr_to_json, quote
from cardcheck.commands.atr_run import result_for
from cardcheck.db import open_database

LIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "smartcard_list.latest.txt"


def plain_atrs() -> list[bytes]:
    out = []
    for line in LIST.read_text(encoding="utf-8", errors="replace").splitlines():
        if line[:2] in ("3B", "3F") and set(line) <= set("0123456789ABCDEF "):
            out.append(bytes.fromhex(line))
    return out


@settings(max_examples=3000)
@given(st.text())
def test_quote_equals_json_dumps_for_any_string(text: str) -> None:
    assert quote(text) == json.dumps(text, ensure_ascii=False)


@pytest.mark.parametrize(
    "text",
    ['"', "\\", "\x00\x1f\x7f", "\b\f\n\r\t", "é \u2028 \ud800 \U0001f4b3", "a\u00a0b", ""],
)
def test_quote_escapes_what_json_escapes(text: str) -> None:
    assert quote(text) == json.dumps(text, ensure_ascii=False)


@settings(max_examples=1500)
@given(st.binary(max_size=40), st.one_of(st.none(), st.integers(min_value=1, max_value=10**6)))
def test_text_equals_json_dumps_for_any_bytes(data: bytes, line: int | None) -> None:
    info = decode_atr(data)
    expected = {} if line is None else {"line": line}
    expected.update(atr_to_json(info))
    assert atr_json_text(info, line=line) == json.dumps(expected, ensure_ascii=False)


def test_text_equals_json_dumps_for_every_listed_atr() -> None:
    atrs = plain_atrs()
    assert len(atrs) > 4000
    for data in atrs:
        info = decode_atr(data)
        assert atr_json_text(info) == json.dumps(atr_to_json(info), ensure_ascii=False)


@pytest.mark.parametrize("clock", [None, "4.8"])
def test_cli_lines_equal_the_contract_with_identification(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: str | None
) -> None:
    atrs = plain_atrs()[::15]
    # Non-ASCII and quotes in descriptions go through the same escaping as json.dumps.
    local = tmp_path / "config" / "cardcheck" / "local_atrs.txt"
    local.parent.mkdir(parents=True)
    local.write_text(
        f'{atrs[0].hex(" ").upper()}\n\tMy "own" card \u00e9\u00e8 \\ test\n\n'
        "3B .*\n\tAny 3B card\n\n"  # a local pattern: after the list's matches, in file order
    )
    listing = tmp_path / "atrs.txt"
    listing.write_text("\n".join(a.hex(" ").upper() for a in atrs) + "\n")
    env = dict(os.environ, XDG_CONFIG_HOME=str(tmp_path / "config"))
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    command = [sys.executable, "-m", "cardcheck", "atr", "-f", str(listing), "--json"]
    proc = subprocess.run(
        [*command, "--db", str(LIST), *([] if clock is None else ["--clock", clock])],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == len(atrs)
    monkeypatch.setenv("XDG_CONFIG_HOME", env["XDG_CONFIG_HOME"])
    monkeypatch.setenv("XDG_CACHE_HOME", env["XDG_CACHE_HOME"])
    database = open_database(LIST)
    for number, (data, text) in enumerate(zip(atrs, lines, strict=True), start=1):
        info = decode_atr(data)
        timing_hz = None if clock is None else float(clock) * 1e6
        expected = result_for(info, database.identify(info.raw), number, timing_hz)
        assert text == json.dumps(expected, ensure_ascii=False)
        assert ('"timing": ' in text) == (clock is not None)
    first = json.loads(lines[0])
    assert [m["source"] for m in first["identified"]][-2:] == ["local", "local"]
    assert first["identified"][-2]["descriptions"] == ['My "own" card \u00e9\u00e8 \\ test']
    for line in map(json.loads, lines):
        last = line["identified"][-1]["pattern"] if line["identified"] else None
        assert (last == "3B .*") == line["atr"].startswith("3B ")
