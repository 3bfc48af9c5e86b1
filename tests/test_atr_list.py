"""Every plain ATR of the pcsc-tools list (smartcard_list.txt, 2026-05-26) through the decoder.

The list is test data beside the repository (../shared/data), never copied into it.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest

from cardcheck.atr.decode import decode_atr
from cardcheck.atr.model import AtrInfo

LIST = Path(__file__).resolve().parents[2] / "shared" / "data" / "smartcard_list.latest.txt"
PLAIN_ATR = re.compile(r"^3[BF](?: [0-9A-F]{2})*$")
"""An ATR line without regular-expression characters."""

FLAGGING_CODES = frozenset({"extra-bytes", "too-long"})
"""Warnings that still mean "not an ISO/IEC 7816-3 ATR as written" (besides every error)."""


@cache
def plain_atrs() -> tuple[str, ...]:
    if not LIST.is_file():
        pytest.fail(f"test data missing: {LIST}")
    lines = LIST.read_text(encoding="utf-8").splitlines()
    return tuple(line for line in lines if PLAIN_ATR.match(line))


@cache
def decoded() -> dict[str, AtrInfo]:
    return {atr: decode_atr(bytes.fromhex(atr.replace(" ", ""))) for atr in plain_atrs()}


def flagged(info: AtrInfo) -> bool:
    return not info.valid or any(f.code in FLAGGING_CODES for f in info.findings)


def test_every_plain_atr_decodes() -> None:
    atrs = plain_atrs()
    # 5,070 entries, 238 of them patterns (REFERENCE §3): the rest are plain ATRs.
    assert len(atrs) == 5070 - 238
    for atr, info in decoded().items():
        assert info.hex == atr
        assert info.ts in (0x3B, 0x3F)


def test_iso_invalid_count_is_in_the_measured_band() -> None:
    infos = decoded().values()
    bad = [i for i in infos if flagged(i)]
    errors = [i for i in infos if not i.valid]
    # Measured on the 2026-05-26 list: 112 flagged, 82 of them with an error finding
    # (29 tck-missing, 28 tck-mismatch, 23 truncated, 3 td1-t15; 33 with extra bytes).
    assert 100 <= len(bad) <= 125
    assert 70 <= len(errors) <= 95
    codes = Counter(f.code for i in bad for f in i.findings)
    for code in ("tck-missing", "tck-mismatch", "truncated", "extra-bytes"):
        assert codes[code] >= 15, code


@pytest.mark.parametrize(
    ("atr", "code", "entry"),
    [
        ("3B 85 80 01 20 63 C8 B8 80 B4", "tck-mismatch", "Visa Classic (Bank)"),
        ("3B 88 80 01 00 00 00 00 77 83 95 00 00", "tck-mismatch", "MULTOS (PKI)"),
        (
            "3B 80 1F C7 80 31 E0 73 FE 21 11 63 40 71 63 83 07 90 00 9A",
            "td1-t15",
            "Intertelecom UA RUIM card",
        ),
        ("3B 8C 80 01 50 27 52 31 81 00 00 00 00 00 71 81", "tck-missing", "Calypso"),
        (
            "3B 8F 80 01 80 31 80 65 49 54 4A 34 42 12 0F FF 82 90 00",
            "tck-missing",
            "Italian Identity Card CIE",
        ),
        ("3B 6D 00 00", "truncated", "K=13, no historical bytes"),
        ("3B BA 94 00 40 14", "truncated", "K=10, 1 historical byte"),
        ("3B 02 14 50 11", "extra-bytes", "one byte after a T=0-only ATR"),
        ("3B 67 00 FF C5 00 00 FF FF FF FF 5D", "extra-bytes", "a TCK on a T=0-only ATR"),
    ],
)
def test_known_invalid_entries(atr: str, code: str, entry: str) -> None:
    assert atr in decoded(), f"{entry}: not in the list any more"
    info = decoded()[atr]
    assert flagged(info)
    assert code in {f.code for f in info.findings}, entry


@pytest.mark.parametrize(
    "atr",
    [
        "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A",  # PC/SC part 3
        "3B 02 14 50",  # REFERENCE §1
        "3F 96 18 80 01 80 51 00 61 10 30 9F",  # Atmel/Athena inverse convention test card
    ],
)
def test_known_valid_entries(atr: str) -> None:
    info = decoded()[atr]
    assert not flagged(info), info.findings
