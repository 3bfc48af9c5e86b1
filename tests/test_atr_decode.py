"""Table-driven tests of the ATR decoder and the hex input parser.

Every case names its source: an ISO/IEC 7816-3 clause as summarised in REFERENCE.md §1, an
entry of the pcsc-tools ATR list (smartcard_list.txt, by its description), or a synthetic ATR
built for one rule.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cardcheck.atr.decode import decode_atr, encode_interface, inverse_to_direct
from cardcheck.atr.jsonout import atr_to_json, input_error_json
from cardcheck.atr.model import ClockStop, Convention, VoltageClass
from cardcheck.atr.parse_hex import NotHexError, parse_atr_text
from cardcheck.errors import InputError
from cardcheck.findings import Severity


def h(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


def xor(data: bytes) -> int:
    out = 0
    for b in data:
        out ^= b
    return out


def with_tck(text: str) -> str:
    """Append the correct TCK (XOR of T0..last byte) to ``text``."""
    return f"{text} {xor(h(text)[1:]):02X}"


@dataclass(frozen=True)
class Case:
    source: str
    atr: str
    valid: bool
    protocols: tuple[int, ...] = (0,)
    codes: frozenset[str] = field(default_factory=frozenset)
    convention: Convention | None = Convention.DIRECT
    fi: int | None = 372
    di: int | None = 1
    fmax: float | None = 5.0
    tck_present: bool = False
    tck_valid: bool | None = None
    tck_expected: int | None = None
    historical: str = ""
    extra: str = ""


PCSC_MIFARE_1K = "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A"
PCSC_HIST = "80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00"
ATHENA_INVERSE = "3F 96 18 80 01 80 51 00 61 10 30 9F"
LONG_ATR = with_tck("3B 8F " + "81 " * 17 + "01 " + "00 " * 15)

CASES = [
    Case("REFERENCE §1: T=0 only, no TCK", "3B 02 14 50", True, historical="14 50"),
    Case(
        "PC/SC part 3 storage card (MIFARE Classic 1K), TCK due for T=0,T=1",
        PCSC_MIFARE_1K,
        True,
        (0, 1),
        tck_present=True,
        tck_valid=True,
        tck_expected=0x6A,
        historical=PCSC_HIST,
    ),
    Case(
        "PC/SC part 3 ATR with its TCK changed: ISO 7816-3 TCK rule",
        PCSC_MIFARE_1K[:-2] + "6B",
        False,
        (0, 1),
        frozenset({"tck-mismatch"}),
        tck_present=True,
        tck_valid=False,
        tck_expected=0x6A,
        historical=PCSC_HIST,
    ),
    Case(
        "PC/SC part 3 ATR without its TCK: TCK is due when T=1 is offered",
        PCSC_MIFARE_1K[:-3],
        False,
        (0, 1),
        frozenset({"tck-missing"}),
        tck_expected=0x6A,
        historical=PCSC_HIST,
    ),
    Case(
        "PC/SC part 3 ATR cut inside the historical bytes",
        "3B 8F 80 01 80 4F 0C",
        False,
        (0, 1),
        frozenset({"truncated"}),
        historical="80 4F 0C",
    ),
    Case(
        "list: 'Atmel/Athena T0 Inverse Convention PC/SC Compliance Test Card'",
        ATHENA_INVERSE,
        True,
        (0, 1),
        convention=Convention.INVERSE,
        di=12,
        tck_present=True,
        tck_valid=True,
        tck_expected=0x9F,
        historical="80 51 00 61 10 30",
    ),
    Case(
        "ISO 7816-10 synchronous memory card answer (SLE 4442): TS not 3B/3F",
        "A2 13 10 91",
        False,
        # Read as ISO it makes no sense: T0 13 -> TA1 10 (DI=0 RFU), K=3 but 1 byte left.
        codes=frozenset({"invalid-ts", "truncated", "rfu-value"}),
        convention=None,
        di=None,
        historical="91",
    ),
    Case(
        "list: 'Yubikey Neo' (TD1 T=0, TD2 T=1, ASCII historical bytes)",
        "3B 8C 80 01 59 75 62 69 6B 65 79 4E 45 4F 72 33 58",
        True,
        (0, 1),
        tck_present=True,
        tck_valid=True,
        tck_expected=0x58,
        historical="59 75 62 69 6B 65 79 4E 45 4F 72 33",
    ),
    Case(
        "list: 'Philips DESFire SAM': TA1 A8 = Fi 768, Di 12, fmax 7.5 MHz",
        "3B D0 A8 FF 81 F1 FB 24 00 1F C3 F4",
        True,
        (1,),
        fi=768,
        di=12,
        fmax=7.5,
        tck_present=True,
        tck_valid=True,
        tck_expected=0xF4,
    ),
    Case(
        "list: 'dnie (eID)': TA1 7F, FI=7 is RFU (REFERENCE FI table)",
        "3B 3B 7F 38 00 00 00 6A 44 4E 49 65 10 02 4C",
        True,
        codes=frozenset({"rfu-value"}),
        fi=None,
        di=None,
        fmax=None,
        historical="00 00 00 6A 44 4E 49 65 10 02 4C",
    ),
    Case(
        "list: 'Conax card: T-Home Hungary': TA1 00, DI=0 is RFU",
        "3B 34 00 00 30 42 30 30",
        True,
        codes=frozenset({"rfu-value"}),
        fi=372,
        di=None,
        fmax=4.0,
        historical="30 42 30 30",
    ),
    Case(
        "list: 'China black(COS) SIM': T=0 and T=15, TCK due",
        "3B 91 94 80 1F 03 23 BA",
        True,
        (0,),
        fi=512,
        di=8,
        tck_present=True,
        tck_valid=True,
        tck_expected=0xBA,
        historical="23",
    ),
    Case(
        "list entry with TD1 = 1F: ISO 7816-3 forbids T=15 in TD1",
        "3B 81 1F 00 CC 52",
        False,
        codes=frozenset({"td1-t15"}),
        tck_present=True,
        tck_valid=True,
        tck_expected=0x52,
        historical="CC",
    ),
    Case(
        "list entry 3B 02 14 50 11: a fifth byte after a T=0-only ATR is extra",
        "3B 02 14 50 11",
        True,
        codes=frozenset({"extra-bytes"}),
        historical="14 50",
        extra="11",
    ),
    Case(
        "list: IBM MFC 4.22 (Cambridge): IFSC FF is invalid",
        "3B EF 00 FF 81 31 FF 65 49 42 4D 20 4D 46 43 39 32 32 39 32 38 39 30 17",
        True,
        (1,),
        frozenset({"invalid-ifsc"}),
        tck_present=True,
        tck_valid=True,
        tck_expected=0x17,
        historical="49 42 4D 20 4D 46 43 39 32 32 39 32 38 39 30",
    ),
    Case(
        "synthetic: TD chain making the ATR 35 bytes (ISO 7816-3: at most 33)",
        LONG_ATR,
        False,
        (1,),
        frozenset({"too-long"}),
        tck_present=True,
        tck_valid=True,
        tck_expected=h(LONG_ATR)[-1],
        historical="00 " * 15,
    ),
    Case(
        "synthetic: T0 F0 announces TA1 but the ATR ends",
        "3B F0",
        False,
        codes=frozenset({"truncated"}),
    ),
    Case("synthetic: TS alone", "3B", False, codes=frozenset({"truncated"})),
]


@pytest.mark.parametrize("case", CASES, ids=[c.source for c in CASES])
def test_decode_table(case: Case) -> None:
    info = decode_atr(h(case.atr))
    codes = {f.code for f in info.findings}
    assert info.valid is case.valid, info.findings
    assert case.codes <= codes, codes
    # Nothing unexpected among the ATR-level codes (historical-* come from 7816-4 decoding).
    assert {c for c in codes if not c.startswith("historical-")} == set(case.codes)
    assert info.protocols == case.protocols
    assert info.convention == case.convention
    assert (info.rate.fi, info.rate.di, info.rate.fmax_mhz) == (case.fi, case.di, case.fmax)
    assert info.tck.present is case.tck_present
    assert info.tck.valid is case.tck_valid
    assert info.tck.expected == case.tck_expected
    assert info.historical == h(case.historical)
    assert info.extra == h(case.extra)
    assert info.raw == h(case.atr)


def test_empty_input_is_an_error_finding() -> None:
    info = decode_atr(b"")
    assert not info.valid
    assert [f.code for f in info.findings] == ["empty"]
    assert info.ts is None and info.t0 is None and info.convention is None


def test_inverse_read_as_direct_gives_the_real_atr() -> None:
    # REFERENCE §1: TS 03 is an inverse-convention card read as direct.
    garbled = inverse_to_direct(h(ATHENA_INVERSE))
    assert garbled[0] == 0x03
    info = decode_atr(garbled)
    codes = [f.code for f in info.findings]
    assert codes[:2] == ["invalid-ts", "inverse-read-as-direct"]
    diagnosis = info.findings[1]
    assert diagnosis.severity is Severity.ERROR
    assert ATHENA_INVERSE in diagnosis.message
    assert inverse_to_direct(garbled) == h(ATHENA_INVERSE)


def test_iclass_se_processor_every_level() -> None:
    # list: 'iClass SE Processor': TA2 specific mode, T=1 bytes at level 3, T=15 at level 4.
    info = decode_atr(h("3B 90 96 91 81 B1 FE 55 1F C7 D4"))
    assert info.valid
    assert [ib.name for ib in info.interface_bytes] == [
        "TA1",
        "TD1",
        "TA2",
        "TD2",
        "TA3",
        "TB3",
        "TD3",
        "TA4",
    ]
    assert [ib.offset for ib in info.interface_bytes] == [2, 3, 4, 5, 6, 7, 8, 9]
    assert [ib.protocol for ib in info.interface_bytes] == [None, None, 1, 1, 1, 1, 1, 15]
    assert info.protocols == (1,)
    assert info.specific_mode is not None
    assert info.specific_mode.protocol == 1
    assert info.specific_mode.can_change is False  # bit 0x80
    assert info.specific_mode.implicit_parameters is False
    assert info.t1 is not None
    assert (info.t1.ifsc, info.t1.bwi, info.t1.cwi, info.t1.crc) == (254, 5, 5, False)
    assert (info.t1.explicit_ifsc, info.t1.explicit_bwi_cwi, info.t1.explicit_edc) == (
        True,
        True,
        False,
    )
    assert info.t15 is not None
    assert info.t15.clock_stop is ClockStop.NO_PREFERENCE
    assert info.t15.voltage_classes == (VoltageClass.A, VoltageClass.B, VoltageClass.C)
    assert info.t15.spu is None
    assert all(ib.meaning for ib in info.interface_bytes)


def test_t1_defaults_without_t1_bytes() -> None:
    # ISO 7816-3: IFSC 32, BWI 4, CWI 13, LRC when the T=1 bytes are absent.
    info = decode_atr(h(PCSC_MIFARE_1K))
    assert info.t1 is not None
    assert (info.t1.ifsc, info.t1.bwi, info.t1.cwi, info.t1.crc) == (32, 4, 13, False)
    assert not info.t1.explicit_ifsc


def test_first_t1_bytes_only() -> None:
    # ISO 7816-3: only the FIRST TA/TB/TC after a TD announcing T=1 are IFSC/BWI-CWI/EDC.
    atr = with_tck("3B 80 81 F1 40 45 01 71 FE 55 00")
    info = decode_atr(h(atr))
    assert info.valid
    assert info.t1 is not None
    # Level 3 (after TD2 T=1): TA3=40 IFSC 64, TB3=45, TC3=01 CRC; level 4 repeats are ignored.
    assert (info.t1.ifsc, info.t1.bwi, info.t1.cwi, info.t1.crc) == (64, 4, 5, True)
    assert [ib.name for ib in info.interface_bytes][-3:] == ["TA4", "TB4", "TC4"]
    assert info.interface_bytes[-3].meaning == "specific to T=1"


def test_global_level_one_and_two_bytes() -> None:
    # ISO 7816-3: TB1 00 = VPP not connected; TC1 255 = minimum guard time; TC2 = WI.
    info = decode_atr(h("3B E0 00 FF 40 0A"))
    assert info.valid
    assert info.vpp_tb1 == 0
    assert "not connected" in info.interface_bytes[0].meaning
    assert info.extra_guard_time == 255
    assert "minimum guard time" in info.interface_bytes[1].meaning
    assert info.waiting_time_integer == 0x0A
    assert decode_atr(h("3B 02 14 50")).waiting_time_integer == 10


def test_t0_and_t15_requires_tck() -> None:
    # REFERENCE §1: TCK is present for "T=0 and T=15".
    body = "3B 80 80 1F C7"
    info = decode_atr(h(body))
    assert info.tck.required and not info.tck.present
    assert [f.code for f in info.findings] == ["tck-missing"]
    assert decode_atr(h(with_tck(body))).valid


def test_protocols_keep_td_order_without_duplicates() -> None:
    # TD1 T=1, TD2 T=0, TD3 T=1, TD4 T=15: offered (1, 0); the structure keeps every T.
    info = decode_atr(h(with_tck("3B 80 81 80 81 0F")))
    assert info.protocols == (1, 0)
    assert info.td_protocols == (1, 0, 1, 15)
    assert info.t15_present


def test_truncation_reports_what_came_before() -> None:
    info = decode_atr(h("3B 9F 96 80 1F"))  # TD2 1F announces nothing; K=15 missing
    assert [ib.name for ib in info.interface_bytes] == ["TA1", "TD1", "TD2"]
    assert info.rate.fi == 512 and info.rate.di == 32
    truncated = [f for f in info.findings if f.code == "truncated"]
    assert len(truncated) == 1 and truncated[0].offset == 5
    info = decode_atr(h("3B 9F 96 C0"))  # TD1 announces TC2 and TD2, both missing
    assert [f.offset for f in info.findings if f.code == "truncated"] == [4]
    assert info.tck.valid is None


def test_encode_interface_round_trip_on_table() -> None:
    for case in CASES:
        info = decode_atr(h(case.atr))
        if "truncated" in {f.code for f in info.findings}:
            continue
        assert encode_interface(info) == h(case.atr)[: info.historical_offset], case.source


def test_json_contract_keys_and_values() -> None:
    out = atr_to_json(decode_atr(h(PCSC_MIFARE_1K)))
    assert list(out)[:10] == [
        "atr",
        "valid",
        "convention",
        "protocols",
        "fi",
        "di",
        "fmax_mhz",
        "ta1_present",
        "specific_mode",
        "extra_guard_time",
    ]
    assert out["atr"] == PCSC_MIFARE_1K
    assert out["tck"] == {"present": True, "valid": True, "expected": "6A", "required": True}
    assert out["historical_bytes"] == PCSC_HIST
    assert out["fmax_mhz"] == 5.0 and isinstance(out["fmax_mhz"], float)
    rfu = atr_to_json(decode_atr(h("3B 3B 7F 38 00 00 00 6A 44 4E 49 65 10 02 4C")))
    assert (rfu["fi"], rfu["di"], rfu["fmax_mhz"]) == (None, None, None)
    assert rfu["tck"] == {"present": False, "valid": None, "expected": None, "required": False}


# --- hex input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (["3B", "02", "14", "50"], "3B021450"),  # unquoted, split over arguments
        (["3b 02 14 50"], "3B021450"),  # lower case, one argument
        (["3B:02:14:50"], "3B021450"),  # colons
        (["3B021450"], "3B021450"),  # no separators
        (["3B0214 50"], "3B021450"),  # mixed grouping
        (["  3B\t02  14:50 "], "3B021450"),  # tabs, repeated and trailing separators
    ],
)
def test_parse_atr_text_accepts(parts: list[str], expected: str) -> None:
    assert parse_atr_text(parts) == h(expected)


def test_parse_atr_text_points_at_bad_character() -> None:
    with pytest.raises(NotHexError) as exc:
        parse_atr_text(["3B", "8G", "80"])
    err = exc.value
    assert isinstance(err, InputError) and err.exit_code == 2
    assert err.position == 5
    lines = err.message.splitlines()
    assert lines[0] == "the ATR is not hex: 'G' at position 5"
    assert lines[1] == "  3B 8G 80"
    assert lines[2] == "      ^"


def test_parse_atr_text_odd_group() -> None:
    with pytest.raises(NotHexError) as exc:
        parse_atr_text(["3B 021 45"])
    assert exc.value.position == 4
    assert "odd number of hex digits in '021'" in exc.value.message
    assert exc.value.message.splitlines()[2] == "     ^^^"


@pytest.mark.parametrize("parts", [[], [""], [" : "]])
def test_parse_atr_text_empty(parts: list[str]) -> None:
    with pytest.raises(InputError, match="no hex digits"):
        parse_atr_text(parts)


def test_input_error_json() -> None:
    with pytest.raises(NotHexError) as exc:
        parse_atr_text(["3B 0X"])
    out = input_error_json("3B 0X", exc.value, line=3)
    assert out == {
        "line": 3,
        "input": "3B 0X",
        "error": {
            "code": "not-hex",
            "message": "the ATR is not hex: 'X' at position 5",
            "position": 5,
        },
    }


# --- golden JSON ----------------------------------------------------------------------------
# tests/golden/atr/<name>.json holds atr_to_json() of each ATR below, compared on every run.
# After an intended change of the JSON contract, regenerate them with
#     CARDCHECK_REGEN_GOLDEN=1 .venv/bin/pytest tests/test_atr_decode.py -k golden
# and review the diff (git diff tests/golden) before committing.

GOLDEN_DIR = Path(__file__).resolve().parent / "golden" / "atr"

GOLDEN = {
    "reference-t0-only": "3B 02 14 50",
    "pcsc-part3-mifare-1k": PCSC_MIFARE_1K,
    "pcsc-part3-tck-wrong": PCSC_MIFARE_1K[:-2] + "6B",
    "pcsc-part3-tck-missing": PCSC_MIFARE_1K[:-3],
    "pcsc-part3-truncated": "3B 8F 80 01 80 4F 0C",
    "athena-inverse-convention": ATHENA_INVERSE,
    "inverse-read-as-direct": inverse_to_direct(h(ATHENA_INVERSE)).hex(),
    "sle4442-memory-card": "A2 13 10 91",
    "yubikey-neo": "3B 8C 80 01 59 75 62 69 6B 65 79 4E 45 4F 72 33 58",
    "desfire-sam-fmax-7-5": "3B D0 A8 FF 81 F1 FB 24 00 1F C3 F4",
    "dnie-rfu-fi": "3B 3B 7F 38 00 00 00 6A 44 4E 49 65 10 02 4C",
    "china-sim-t0-t15": "3B 91 94 80 1F 03 23 BA",
    "td1-t15": "3B 81 1F 00 CC 52",
    "extra-byte-after-t0-only": "3B 02 14 50 11",
    "ibm-mfc-ifsc-ff": "3B EF 00 FF 81 31 FF 65 49 42 4D 20 4D 46 43 39 32 32 39 32 38 39 30 17",
    "iclass-se-specific-mode": "3B 90 96 91 81 B1 FE 55 1F C7 D4",
    "too-long": LONG_ATR,
    "empty": "",
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden_json(name: str) -> None:
    got = json.dumps(atr_to_json(decode_atr(h(GOLDEN[name]))), indent=2, ensure_ascii=False)
    path = GOLDEN_DIR / f"{name}.json"
    if os.environ.get("CARDCHECK_REGEN_GOLDEN"):
        GOLDEN_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(got + "\n", encoding="utf-8")
    assert path.read_text(encoding="utf-8") == got + "\n", f"regenerate {path} if intended"


def test_golden_dir_has_no_strays() -> None:
    on_disk = {p.stem for p in GOLDEN_DIR.glob("*.json")}
    assert on_disk == set(GOLDEN)


def test_cache_clear_forgets_every_shared_decoding() -> None:
    from cardcheck.atr import decode, historical, jsonout

    data = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")
    first = decode.decode_atr(data)
    text = jsonout.atr_json_text(first)
    assert decode._INTERFACE_CACHE
    decode.cache_clear()
    jsonout.cache_clear()
    assert not decode._INTERFACE_CACHE
    assert decode._meaning_ta1.cache_info().currsize == 0
    assert historical._decode_historical_cached.cache_info().currsize == 0
    assert historical._pcsc_part3_object.cache_info().currsize == 0
    assert not jsonout._TEXTS and not jsonout._SETTINGS_TEXTS and not jsonout._BYTE_TEXTS
    again = decode.decode_atr(data)
    assert again == first and again is not first
    assert again.historical_info is not first.historical_info  # decoded anew
    assert jsonout.atr_json_text(again) == text
