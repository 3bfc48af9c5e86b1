"""The APDU allowlist (cardcheck.pcsc.apdus): what cardcheck may send, and what it refuses."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cardcheck.errors import ExitCode, InputError
from cardcheck.pcsc.apdus import (
    ALLOWED,
    ALLOWED_CLASSES,
    ApduRefused,
    check_apdu,
    is_allowed,
    parse_apdu_text,
)

ALLOWED_EXAMPLES = [
    "00 A4 00 00 02 3F 00",  # SELECT MF
    "00 A4 04 00 07 A0 00 00 00 03 10 10 00",  # SELECT by AID, case 4
    "00 A4 00 0C 02 3F 00",  # SELECT, no response data
    "00 A4 08 04 04 3F 00 2F 02",  # SELECT by path
    "00 B0 00 00 10",  # READ BINARY
    "00 B0 00 00 00 00 00",  # READ BINARY, extended Le
    "00 B2 01 04 00",  # READ RECORD
    "00 CA 9F 7F 00",  # GET DATA
    "00 CB 3F FF 03 5C 01 7E 00",  # GET DATA (odd)
    "00 C0 00 00 10",  # GET RESPONSE
    "01 B0 00 00 10",  # logical channel 1
    "0C B0 00 00 10",  # secure messaging bits
]

REFUSED_EXAMPLES = {
    "00 20 00 80 08 31 32 33 34 FF FF FF FF": "VERIFY",
    "00 24 00 80 10 31 32 33 34 FF FF FF FF 35 36 37 38 FF FF FF FF": "CHANGE REFERENCE DATA",
    "00 2C 00 80 00": "RESET RETRY COUNTER",
    "00 D6 00 00 02 01 02": "UPDATE BINARY",
    "00 D0 00 00 01 00": "WRITE BINARY",
    "00 DC 01 04 01 00": "UPDATE RECORD",
    "00 DA 01 01 01 00": "PUT DATA",
    "00 E4 00 00 02 3F 00": "DELETE FILE",
    "00 E0 00 00 02 62 00": "CREATE FILE",
    "00 0E 00 00": "ERASE BINARY",
    "00 44 00 00": "ACTIVATE FILE",
    "00 E6 00 00": "TERMINATE DF",
    "00 FE 00 00": "TERMINATE CARD USAGE",
    "00 84 00 00 08": "GET CHALLENGE",
    "00 88 00 00 08 01 02 03 04 05 06 07 08": "INTERNAL AUTHENTICATE",
    "00 2A 9E 9A 02 01 02": "PERFORM SECURITY OPERATION",
    "00 46 00 00": "GENERATE ASYMMETRIC KEY PAIR",
    "00 70 00 00 01": "MANAGE CHANNEL",
    "00 12 00 00": "PERFORM TRANSACTION OPERATION",
    "00 16 00 00": "INS 16",
    "00 99 00 00": "INS 99",
}


@pytest.mark.parametrize("text", ALLOWED_EXAMPLES)
def test_read_only_commands_are_allowed(text: str) -> None:
    apdu = bytes.fromhex(text)
    command = check_apdu(apdu)
    assert command.raw == apdu
    assert is_allowed(apdu)


@pytest.mark.parametrize(("text", "name"), REFUSED_EXAMPLES.items())
def test_everything_else_is_refused_by_name(text: str, name: str) -> None:
    with pytest.raises(ApduRefused) as caught:
        check_apdu(bytes.fromhex(text))
    assert caught.value.exit_code is ExitCode.USAGE
    assert name in caught.value.message
    assert "refusing" in caught.value.message
    assert caught.value.hint is not None and "read-only" in caught.value.hint


def test_verify_says_why_it_is_dangerous() -> None:
    with pytest.raises(ApduRefused) as caught:
        check_apdu(bytes.fromhex("00 20 00 80 08 31 32 33 34 FF FF FF FF"))
    assert "retry counter" in caught.value.message


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("80 CA 9F 7F 00", "proprietary class"),
        ("A0 B0 00 00 10", "proprietary class"),  # GSM SIM class
        ("FF CA 00 00 00", "reserved for PPS"),  # PC/SC pseudo-APDU class
        ("10 A4 00 00 02 3F 00", "chaining"),
        ("40 B0 00 00 10", "logical channels 4-19"),
        ("20 B0 00 00 10", "reserved"),
    ],
)
def test_other_classes_are_refused(text: str, why: str) -> None:
    with pytest.raises(ApduRefused) as caught:
        check_apdu(bytes.fromhex(text))
    assert why in caught.value.message


@pytest.mark.parametrize(
    "text",
    [
        "00 A4 00",  # too short
        "",
        "00 B0 00 00 05 00",  # Lc 5 but one byte
        "00 A4 00 00 02 3F 00 00 00",  # two bytes too many
        "00 B0 00 00 00 00",  # extended, cut
        "00 A4 00 00 00 00 00 3F",  # extended Lc 0
    ],
)
def test_malformed_apdus_are_refused(text: str) -> None:
    with pytest.raises(ApduRefused) as caught:
        check_apdu(bytes.fromhex(text))
    assert "malformed" in caught.value.message or "too short" in caught.value.message


def test_select_with_rfu_parameters_is_refused() -> None:
    with pytest.raises(ApduRefused) as caught:
        check_apdu(bytes.fromhex("00 A4 05 00 02 3F 00"))
    assert "P1 05" in caught.value.message


@given(st.binary(min_size=0, max_size=300))
def test_whatever_is_allowed_is_on_the_list(apdu: bytes) -> None:
    if is_allowed(apdu):
        assert apdu[0] in ALLOWED_CLASSES
        assert apdu[1] in {item.ins for item in ALLOWED}
    else:
        with pytest.raises(ApduRefused):
            check_apdu(apdu)


@given(st.integers(0, 255), st.integers(0, 255))
def test_no_write_instruction_in_any_class(cla: int, ins: int) -> None:
    apdu = bytes([cla, ins, 0, 0])
    if ins in (0x20, 0x24, 0x2C, 0xD6, 0xD0, 0xE4, 0xE0, 0x0E, 0xDA, 0x44, 0xE6, 0xFE):
        assert not is_allowed(apdu)


def test_apdu_text_that_is_not_hex_says_so() -> None:
    with pytest.raises(InputError) as caught:
        parse_apdu_text("zz")
    assert "--apdu 'zz' is not hex" in caught.value.message
    assert "ATR" not in caught.value.message
    with pytest.raises(InputError) as odd:
        parse_apdu_text("00 A")
    assert "odd number" in odd.value.message
    assert parse_apdu_text("00:a4 0000") == bytes.fromhex("00A40000")
