"""Historical bytes (ISO/IEC 7816-4, PC/SC Part 3): real ATRs from the public list, edge cases."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cardcheck.atr import historical, pcsc_part3
from cardcheck.atr.historical import (
    ApplicationIdentifier,
    CardCapabilities,
    HistoricalCategory,
    HistoricalInfo,
    LifeCycle,
    SelectionMethod,
    ServiceAccess,
    StorageCard,
    WriteBehaviour,
    decode_card_capabilities,
    decode_card_service_data,
    decode_historical,
    life_cycle,
    status_word_meaning,
)
from cardcheck.findings import Severity

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ATR_LIST = DATA / "smartcard_list.latest.txt"


def hist(atr_hex: str, start: int) -> bytes:
    """Historical bytes of a listed ATR: from ``start`` to the end, TCK dropped when last."""
    return bytes.fromhex(atr_hex.replace(" ", ""))[start:]


def codes(info: HistoricalInfo) -> set[str]:
    return {f.code for f in info.findings}


# --- categories (REFERENCE §2, ISO/IEC 7816-4 category indicator) ----------------------------


@pytest.mark.parametrize(
    ("source", "data", "category"),
    [
        ("empty: 3B 60 00 00 'Meano (Bank)'", b"", HistoricalCategory.EMPTY),
        ("category 00", bytes.fromhex("00009000"), HistoricalCategory.COMPACT_TLV_STATUS_LAST),
        ("category 80", bytes.fromhex("80"), HistoricalCategory.COMPACT_TLV),
        ("category 10: 3B 02 10 50 'Visa (Bank)'", bytes.fromhex("1050"),
         HistoricalCategory.DIR_REFERENCE),
        ("81 RFU: 3B 06 81 24 80 80 90 00", bytes.fromhex("81248080"), HistoricalCategory.RFU),
        ("8F RFU", bytes.fromhex("8F"), HistoricalCategory.RFU),
        ("proprietary: 3B 02 14 50 'Schlumberger Multiflex 3k'", bytes.fromhex("1450"),
         HistoricalCategory.PROPRIETARY),
        ("proprietary 7F", bytes.fromhex("7F"), HistoricalCategory.PROPRIETARY),
    ],
)  # fmt: skip
def test_category(source: str, data: bytes, category: HistoricalCategory) -> None:
    assert decode_historical(data, 4).category is category, source


def test_rfu_category_is_a_warning() -> None:
    # smartcard_list: 3B 04 82 23 10 91 "VISA DEBIT (Bank)"
    info = decode_historical(bytes.fromhex("82231091"), 2)
    assert info.category is HistoricalCategory.RFU
    [finding] = info.findings
    assert (finding.code, finding.severity, finding.offset) == (
        "historical-category-rfu",
        Severity.WARNING,
        2,
    )


def test_dir_reference() -> None:
    # smartcard_list: 3B 02 10 50 "Visa (Bank)"
    info = decode_historical(bytes.fromhex("1050"), 2)
    assert info.dir_reference == 0x50
    assert info.findings == ()


def test_dir_reference_missing_and_extra() -> None:
    assert codes(decode_historical(b"\x10", 2)) == {"historical-dir-reference-missing"}
    # smartcard_list: 3B 6C 00 00 10 10 10 30 ... "Datacard Group Aptura Development Card"
    info = decode_historical(hist("3B 6C 00 00 10 10 10 30 00 00 00 00 00 00 00 00", 4), 4)
    assert info.dir_reference == 0x10
    [finding] = info.findings
    assert (finding.code, finding.offset) == ("historical-extra-bytes", 6)


# --- PC/SC Part 3 (REFERENCE §2, atr_db/pcsc_part3.json) --------------------------------------


def test_pcsc_part3_mifare_classic_1k() -> None:
    # smartcard_list: 3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A
    # "NXP/Philips MIFARE Classic 1K (as per PCSC std part3)"
    atr = "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A"
    info = decode_historical(hist(atr, 4)[:-1], 4)
    assert info.category is HistoricalCategory.COMPACT_TLV
    assert info.findings == ()
    assert info.pcsc_storage == StorageCard(
        standard_code=0x03,
        standard="RFID - ISO 14443 Type A Part 3",
        card_name_code=0x0001,
        card_name="MIFARE Classic 1K",
        rfu=bytes(4),
        offset=12,
    )
    assert info.pcsc_storage.offset == 12
    assert info.application_identifier is not None
    assert info.application_identifier.rid == bytes.fromhex("A000000306")
    assert info.application_identifier.provider == "PC/SC Workgroup"
    [obj] = info.objects
    assert (obj.tag, obj.length, obj.offset, obj.complete) == (0x4F, 12, 5, True)
    assert "MIFARE Classic 1K" in obj.meaning


@pytest.mark.parametrize(
    ("source", "ss", "nn", "standard", "card"),
    [
        ("smartcard_list 3B 8F ... 03 06 03 00 02 ... 69 'NXP Mifare card with 4k'", 0x03, 0x0002,
         "RFID - ISO 14443 Type A Part 3", "MIFARE Classic 4K"),
        ("smartcard_list 3B 8F ... 03 06 03 00 00 ... 6B 'Skanetrafiken'", 0x03, 0x0000,
         "RFID - ISO 14443 Type A Part 3", "Card name not given"),
        ("REFERENCE §2: SS 0x10 is the 3-wire bus protocol", 0x10, 0x0000,
         "Contact (7816-10) 3WBP", "Card name not given"),
        ("REFERENCE §2: SS 0x11 is FeliCa", 0x11, 0x003B, "RFID - FeliCa", "FeliCa"),
        ("pcsc_part3.json: MIFARE Ultralight C", 0x03, 0x003A,
         "RFID - ISO 14443 Type A Part 3", "MIFARE Ultralight C"),
    ],
)  # fmt: skip
def test_pcsc_part3_names(source: str, ss: int, nn: int, standard: str, card: str) -> None:
    data = bytes.fromhex("804F0CA000000306") + bytes([ss]) + nn.to_bytes(2, "big") + bytes(4)
    storage = decode_historical(data, 4).pcsc_storage
    assert storage is not None, source
    assert (storage.standard, storage.card_name) == (standard, card), source


def test_pcsc_part3_unknown_codes_said_plainly() -> None:
    # smartcard_list: 3B 8F 80 01 80 4F 0C A0 00 00 03 06 07 43 44 60 02 01 E4 EF
    # '"Andante" Card, Porto (Portugal) metro card': card name 4344 is in no table
    atr = "3B 8F 80 01 80 4F 0C A0 00 00 03 06 07 43 44 60 02 01 E4 EF"
    info = decode_historical(hist(atr, 4)[:-1], 4)
    storage = info.pcsc_storage
    assert storage is not None
    assert storage.standard == "RFID - ISO 14443 Type B Part 3"
    assert storage.card_name is None
    assert storage.rfu == bytes.fromhex("600201E4")
    assert "unknown card name 4344" in storage.meaning
    assert codes(info) == {"historical-pcsc-rfu"}
    assert all(f.severity is Severity.INFO for f in info.findings)


def test_pcsc_part3_cut_short_is_not_padded() -> None:
    data = bytes.fromhex("804F0CA00000030603")
    info = decode_historical(data, 4)
    assert info.pcsc_storage is None
    assert "historical-tlv-overrun" in codes(info)
    [obj] = info.objects
    assert obj.value == bytes.fromhex("A00000030603")
    assert not obj.complete


def test_pcsc_part3_table_file() -> None:
    tables = pcsc_part3.tables()
    assert tables.standards[0x03] == "RFID - ISO 14443 Type A Part 3"
    assert tables.card_names[0x0001] == "MIFARE Classic 1K"
    assert len(tables.card_names) >= 60
    path = pcsc_part3.table_path()
    assert path is not None
    assert "source" in json.loads(Path(path).read_text(encoding="utf-8"))


def test_pcsc_part3_table_matches_shared_figures() -> None:
    """Every figure of the shared reference table is in the project's own copy."""
    shared = json.loads((DATA / "pcsc_part3.json").read_text(encoding="utf-8"))
    tables = pcsc_part3.tables()
    assert {int(k, 16): v for k, v in shared["standard"].items()} == tables.standards
    assert {int(k, 16): v for k, v in shared["card_name"].items()} == tables.card_names


# --- category 00 and status indicators -------------------------------------------------------


def test_category_00_with_capabilities_and_status() -> None:
    # smartcard_list: 3B 78 18 00 00 00 73 C8 01 40 00 90 00 "The Kyrgyz Republic eID (eID)"
    info = decode_historical(hist("3B 78 18 00 00 00 73 C8 01 40 00 90 00", 5), 5)
    assert info.category is HistoricalCategory.COMPACT_TLV_STATUS_LAST
    assert info.findings == ()
    assert info.status is not None
    assert (info.status.lcs, info.status.sw, info.status.offset) == (0x00, 0x9000, 10)
    assert info.status.life_cycle is LifeCycle.NOT_REPORTED
    assert info.status.sw_meaning == "normal processing"
    caps = info.card_capabilities
    assert caps is not None
    assert caps.selection_methods == (
        SelectionMethod.FULL_DF_NAME,
        SelectionMethod.PARTIAL_DF_NAME,
        SelectionMethod.IMPLICIT,
    )
    assert caps.data_coding is not None
    assert caps.data_coding.data_unit_quartets == 2
    assert info.extended_lc_le is True
    assert caps.command_chaining is False
    assert caps.logical_channels is False
    [obj] = info.objects
    assert (obj.tag, obj.name, obj.offset) == (7, "card capabilities", 6)


def test_category_00_status_missing() -> None:
    # smartcard_list: 3B 81 01 00 80 "Rompetrol Romania Fill&Go Fuel Card": historical "00"
    info = decode_historical(bytes.fromhex("00"), 3)
    assert info.status is None
    [finding] = info.findings
    assert (finding.code, finding.severity, finding.offset) == (
        "historical-status-missing",
        Severity.WARNING,
        3,
    )


def test_category_00_all_zero_status() -> None:
    # smartcard_list: 3B 04 00 00 00 00 "Laundromat payment card"
    info = decode_historical(bytes.fromhex("00000000"), 2)
    assert info.status is not None
    assert info.status.life_cycle is LifeCycle.NOT_REPORTED
    assert info.status.sw_meaning == "status not reported"
    assert info.objects == ()


@pytest.mark.parametrize(
    ("lcs", "expected"),
    [
        (0x00, LifeCycle.NOT_REPORTED),
        (0x01, LifeCycle.CREATION),
        (0x02, None),
        (0x03, LifeCycle.INITIALISATION),
        (0x04, LifeCycle.DEACTIVATED),
        (0x05, LifeCycle.ACTIVATED),
        (0x06, LifeCycle.DEACTIVATED),
        (0x07, LifeCycle.ACTIVATED),
        (0x08, None),
        (0x0B, None),
        (0x0C, LifeCycle.TERMINATION),
        (0x0F, LifeCycle.TERMINATION),
        (0x10, LifeCycle.PROPRIETARY),
        (0xFF, LifeCycle.PROPRIETARY),
    ],
)
def test_life_cycle_iso_7816_4(lcs: int, expected: LifeCycle | None) -> None:
    """ISO/IEC 7816-4 LCS coding (REFERENCE §2)."""
    assert life_cycle(lcs) is expected


@pytest.mark.parametrize(
    ("sw", "meaning"),
    [
        (0x9000, "normal processing"),
        (0x0000, "status not reported"),
        (0x6A82, "wrong parameters P1-P2"),
        (0x6D00, "instruction code not supported or invalid"),
        (0x1234, None),
    ],
)
def test_status_word_meaning(sw: int, meaning: str | None) -> None:
    """ISO/IEC 7816-4 SW1-SW2 groups."""
    assert status_word_meaning(sw) == meaning


@pytest.mark.parametrize(
    ("source", "data", "lcs", "sw"),
    [
        ("tag 81: one byte LCS", "808105", 0x05, None),
        ("tag 82: SW1-SW2, smartcard_list 3B 0F 80 91 E1 31 ... 83 00 90 00 (TOP DM GX4)",
         "80829000", None, 0x9000),
        ("tag 83: LCS SW1 SW2", "8083079000", 0x07, 0x9000),
    ],
)  # fmt: skip
def test_status_tag_8(source: str, data: str, lcs: int | None, sw: int | None) -> None:
    info = decode_historical(bytes.fromhex(data), 4)
    assert info.status is not None, source
    assert (info.status.lcs, info.status.sw) == (lcs, sw), source
    assert info.status.offset == 6


def test_status_bad_length() -> None:
    info = decode_historical(bytes.fromhex("808401020304"), 4)
    assert info.status is None
    assert codes(info) == {"historical-status-length"}


# --- category 80 with card capabilities ------------------------------------------------------


def test_piv_card_capabilities_and_aid() -> None:
    # smartcard_list: 3B 8F 80 01 80 73 CC 91 CB F9 A0 00 00 03 08 00 00 10 00 29
    # "NIST demo PIV card (eID)"
    atr = "3B 8F 80 01 80 73 CC 91 CB F9 A0 00 00 03 08 00 00 10 00 29"
    info = decode_historical(hist(atr, 4)[:-1], 4)
    assert info.findings == ()
    caps = info.card_capabilities
    assert caps is not None
    assert caps.raw == bytes.fromhex("CC91CB")
    assert caps.command_chaining is True
    assert caps.extended_lc_le is True
    assert info.extended_lc_le is True
    assert caps.channels_assigned_by_card is False
    assert caps.channels_assigned_by_interface is True
    assert caps.max_logical_channels == 4
    assert caps.data_coding is not None
    assert caps.data_coding.tlv_efs is True
    assert caps.data_coding.ff_tag_valid is True
    assert caps.data_coding.write_behaviour is WriteBehaviour.ONE_TIME
    assert info.application_identifier == ApplicationIdentifier(
        aid=bytes.fromhex("A00000030800001000"),
        rid=bytes.fromhex("A000000308"),
        pix=bytes.fromhex("00001000"),
        provider="NIST (PIV)",
    )
    assert [(o.tag, o.offset) for o in info.objects] == [(7, 5), (0xF, 9)]


def test_yubikey_capabilities_and_issuer_text() -> None:
    # smartcard_list: 3B 8D 80 01 80 73 C0 21 C0 57 59 75 62 69 4B 65 79 F9
    # "Yubikey 5 NFC (via NFC)"
    atr = "3B 8D 80 01 80 73 C0 21 C0 57 59 75 62 69 4B 65 79 F9"
    info = decode_historical(hist(atr, 4)[:-1], 4)
    assert info.findings == ()
    assert info.extended_lc_le is True
    assert info.card_capabilities is not None
    assert info.card_capabilities.selection_methods == (
        SelectionMethod.FULL_DF_NAME,
        SelectionMethod.PARTIAL_DF_NAME,
    )
    issuer = info.objects[1]
    assert (issuer.tag, issuer.name, issuer.value) == (5, "card issuer's data", b"YubiKey")
    assert '"YubiKey"' in issuer.meaning


def test_extended_lc_le_none_without_third_byte() -> None:
    info = decode_historical(bytes.fromhex("8072C021"), 4)
    assert info.card_capabilities is not None
    assert info.extended_lc_le is None
    assert info.card_capabilities.logical_channels is None
    assert decode_historical(bytes.fromhex("80318065"), 4).extended_lc_le is None


@pytest.mark.parametrize(
    ("third", "by_card", "by_ifd", "channels"),
    [
        (0x00, False, False, 1),
        (0x13, True, False, 4),
        (0x0F, False, True, 8),
        (0x1F, True, True, 8),
    ],
)
def test_logical_channels(third: int, by_card: bool, by_ifd: bool, channels: int) -> None:
    """ISO/IEC 7816-4 card capabilities third byte: bits 5-4 assignment, 3-1 count - 1."""
    caps: CardCapabilities = decode_card_capabilities(bytes([0x00, 0x00, third]))
    assert caps.channels_assigned_by_card is by_card
    assert caps.channels_assigned_by_interface is by_ifd
    assert caps.max_logical_channels == channels
    assert caps.logical_channels is (by_card or by_ifd)


@pytest.mark.parametrize(
    ("byte", "full", "partial", "in_dir", "in_atr", "access", "mf"),
    [
        # Gemalto/Gemplus: 80 31 80 65 B0 ... (smartcard_list 3B 6E 00 00 80 31 80 65 B0 ...)
        (0x80, True, False, False, False, ServiceAccess.READ_RECORD, True),
        # ISO/IEC 7816-4 table: READ BINARY access (bits 4-2 = 100), card without MF
        (0xB9, True, False, True, True, ServiceAccess.READ_BINARY, False),
        # GET DATA access (bits 4-2 = 010)
        (0x44, False, True, False, False, ServiceAccess.GET_DATA, True),
        # reserved access code 111
        (0x0E, False, False, False, False, None, True),
    ],
)
def test_card_service_data(
    byte: int,
    full: bool,
    partial: bool,
    in_dir: bool,
    in_atr: bool,
    access: ServiceAccess | None,
    mf: bool,
) -> None:
    csd = decode_card_service_data(byte)
    assert (
        csd.select_by_full_df_name,
        csd.select_by_partial_df_name,
        csd.ber_tlv_in_ef_dir,
        csd.ber_tlv_in_ef_atr,
        csd.access,
        csd.has_mf,
    ) == (full, partial, in_dir, in_atr, access, mf)


def test_gemalto_objects() -> None:
    # smartcard_list: 3B 7D 96 00 00 80 31 80 65 B0 83 11 17 E5 83 00 90 00 (PIV, Gemalto)
    info = decode_historical(hist("3B 7D 96 00 00 80 31 80 65 B0 83 11 17 E5 83 00 90 00", 5), 5)
    assert info.findings == ()
    assert [(o.tag, o.offset) for o in info.objects] == [(3, 6), (6, 8), (8, 14)]
    assert info.card_service_data is not None
    assert info.card_service_data.select_by_full_df_name
    assert info.status is not None
    assert (info.status.lcs, info.status.sw) == (0x00, 0x9000)


# --- malformed ------------------------------------------------------------------------------


def test_length_past_the_end_is_a_finding_not_padding() -> None:
    # smartcard_list: 3B 8E 80 01 80 31 81 54 48 53 4D 31 73 80 21 40 FF FF 9E
    # "SmartCard-HSM RFID (PKI)": the last object FF declares 15 bytes, 1 remains
    atr = "3B 8E 80 01 80 31 81 54 48 53 4D 31 73 80 21 40 FF FF 9E"
    info = decode_historical(hist(atr, 4)[:-1], 4)
    overrun = [f for f in info.findings if f.code == "historical-tlv-overrun"]
    assert len(overrun) == 1
    assert overrun[0].offset == 16
    assert overrun[0].severity is Severity.WARNING
    last = info.objects[-1]
    assert (last.tag, last.length, last.value, last.complete) == (0xF, 15, b"\xff", False)
    assert info.application_identifier is None
    assert info.extended_lc_le is True  # the objects before the bad one still count
    assert info.objects[1].value == b"HSM1"


def test_capabilities_overrun_decodes_nothing() -> None:
    info = decode_historical(bytes.fromhex("8075C0"), 4)
    assert info.card_capabilities is None
    assert codes(info) == {"historical-tlv-overrun"}
    assert info.objects[0].value == b"\xc0"


def test_zero_padding_is_one_remark() -> None:
    # smartcard_list: 3B 1D 96 00 23 07 00 ... 00 90 00 "emulator card prototype from ST"
    info = decode_historical(hist("3B 1D 96 00 23 07 00 00 00 00 00 00 00 00 90 00", 3), 3)
    assert info.category is HistoricalCategory.COMPACT_TLV_STATUS_LAST
    padding = [f for f in info.findings if f.code == "historical-zero-padding"]
    assert len(padding) == 1
    assert padding[0].severity is Severity.INFO


def test_unknown_tag() -> None:
    info = decode_historical(bytes.fromhex("809100"), 4)
    assert info.objects[0].name is None
    assert "historical-unknown-tag" in codes(info)


# --- proprietary text ------------------------------------------------------------------------


def test_proprietary_ascii() -> None:
    # smartcard_list: 3B 8A 80 01 4A 43 4F 50 34 31 56 32 32 31 7F "JCOP41 Cards"
    info = decode_historical(hist("3B 8A 80 01 4A 43 4F 50 34 31 56 32 32 31 7F", 4)[:-1], 4)
    assert info.category is HistoricalCategory.PROPRIETARY
    assert info.ascii == "JCOP41V221"
    assert info.objects == ()


def test_proprietary_binary_has_no_ascii() -> None:
    # smartcard_list: 3B 02 14 50 "Schlumberger Multiflex 3k"
    assert decode_historical(bytes.fromhex("1450"), 2).ascii is None


# --- JSON -----------------------------------------------------------------------------------


def test_json_shape() -> None:
    atr = "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A"
    out = decode_historical(hist(atr, 4)[:-1], 4).to_json()
    assert list(out) == [
        "raw",
        "offset",
        "category",
        "objects",
        "status",
        "card_capabilities",
        "extended_lc_le",
        "card_service_data",
        "application_identifier",
        "pcsc_storage",
        "dir_reference",
        "ascii",
        "findings",
    ]
    assert out["category"] == "compact-tlv"
    assert out["pcsc_storage"] == {
        "standard_code": "03",
        "standard": "RFID - ISO 14443 Type A Part 3",
        "card_name_code": "0001",
        "card_name": "MIFARE Classic 1K",
        "rfu": "00000000",
        "offset": 12,
    }
    json.dumps(out)


# --- every listed ATR, and any bytes ---------------------------------------------------------


def _listed_atrs() -> list[str]:
    text = ATR_LIST.read_text(encoding="utf-8", errors="replace")
    return [line for line in text.splitlines() if re.fullmatch(r"[0-9A-F]{2}( [0-9A-F]{2})*", line)]


@pytest.mark.skipif(not ATR_LIST.exists(), reason="shared ATR list not available")
def test_every_listed_atr_tail_decodes() -> None:
    """Every literal ATR of the public list: its tails decode and stay JSON-ready."""
    atrs = _listed_atrs()
    assert len(atrs) > 4000
    for atr in atrs:
        raw = bytes.fromhex(atr.replace(" ", ""))
        for start in range(2, min(len(raw), 8)):
            info = decode_historical(raw[start:], start)
            json.dumps(info.to_json())


@given(st.binary(max_size=40), st.integers(min_value=0, max_value=40))
def test_never_raises_and_offsets_in_range(data: bytes, offset: int) -> None:
    info = decode_historical(data, offset)
    assert info.raw == data
    for finding in info.findings:
        assert finding.offset is not None
        assert offset <= finding.offset < offset + len(data)
    for obj in info.objects:
        assert offset <= obj.offset < offset + len(data)
        assert len(obj.value) <= obj.length
        assert obj.complete == (len(obj.value) == obj.length)
    json.dumps(info.to_json())


def _fake_install(root: Path, *, in_package: bool, at_top: bool) -> Path:
    (root / "cardcheck").mkdir()
    init = root / "cardcheck" / "__init__.py"
    init.write_text("", encoding="utf-8")
    for present, folder in ((in_package, root / "cardcheck" / "atr_db"), (at_top, root / "atr_db")):
        if present:
            folder.mkdir()
            (folder / "pcsc_part3.json").write_text(
                json.dumps({"standards": {"03": folder.parent.name}, "card_names": {}}),
                encoding="utf-8",
            )
    return init


@pytest.mark.parametrize(
    ("in_package", "at_top", "expected"),
    [
        (True, True, "cardcheck/atr_db"),  # wheel layout wins when both exist
        (True, False, "cardcheck/atr_db"),  # built wheel (force-include)
        (False, True, "atr_db"),  # source checkout or editable install
        (False, False, None),
    ],
)
def test_table_lookup_order(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    in_package: bool,
    at_top: bool,
    expected: str | None,
) -> None:
    import cardcheck

    init = _fake_install(tmp_path, in_package=in_package, at_top=at_top)
    monkeypatch.setattr(cardcheck, "__file__", str(init))
    pcsc_part3.tables.cache_clear()
    historical.cache_clear()
    try:
        path = pcsc_part3.table_path()
        if expected is None:
            assert path is None
            assert pcsc_part3.tables().standards == {}
            # without the table the decode still works and says the codes plainly
            data = bytes.fromhex("804F0CA00000030603000100000000")
            storage = decode_historical(data, 4).pcsc_storage
            assert storage is not None
            assert storage.standard is None
            assert "unknown standard 03" in storage.meaning
        else:
            assert path is not None and Path(path) == tmp_path / expected / "pcsc_part3.json"
            assert pcsc_part3.tables().standards == {3: Path(path).parent.parent.name}
    finally:
        pcsc_part3.tables.cache_clear()
        historical.cache_clear()
