"""libccid's speed choice (REFERENCE.md section 4) on real readers' descriptors.

Readers come from the libccid `parse` dumps in shared/data/ccid_readers/ (descriptor and rate
table as the dump prints them); quirks from cardcheck's atr_db/reader_quirks.json.
"""

from __future__ import annotations

import pytest
from test_ccid import dump

from cardcheck.compat.ccid import decode_descriptor
from cardcheck.compat.quirks import quirks_for
from cardcheck.compat.speed import (
    DriverView,
    PpsBy,
    SpeedOutcome,
    fi_di,
    is_listed,
    predict_speed,
    rate_at,
)


def view(name: str, *, table: bool = True) -> DriverView:
    """The driver's view of a dumped reader: its descriptor, its rate table, its quirks."""
    d = dump(name)
    desc = decode_descriptor(d.descriptor_bytes())
    return DriverView.from_descriptor(
        desc,
        data_rates=(d.data_rates or None) if table else None,
        quirks=quirks_for(d.vendor_id, d.product_id),
    )


# ---------------------------------------------------------------------------------------------
# The examples the issue names


def test_alcor_au9560_ta1_96_is_adapted_to_115625() -> None:
    # AlcorMicro_AU9560.txt (3.7 MHz, claims 688172 bit/s, capped at 200000 by the driver).
    reader = view("AlcorMicro_AU9560.txt")
    assert reader.max_data_rate_bps == 200000
    assert reader.reader_max_data_rate_bps == 688172
    assert reader.capped_by is not None
    s = predict_speed(reader, ta1=0x96, ta2=None, protocol=1)
    assert s.card_rate_bps == 231250
    assert s.outcome is SpeedOutcome.ADAPTED
    assert s.chosen_ta1 == 0x95
    assert s.chosen_rate_bps == 115625
    assert s.pps_by is PpsBy.READER_PPS  # dwFeatures 0x80


def test_alcor_without_the_quirk_would_run_at_card_speed() -> None:
    d = dump("AlcorMicro_AU9560.txt")
    reader = DriverView.from_descriptor(
        decode_descriptor(d.descriptor_bytes()), data_rates=d.data_rates
    )
    s = predict_speed(reader, ta1=0x96, ta2=None, protocol=1)
    assert s.outcome is SpeedOutcome.CARD_SPEED  # 231250 is in its table
    assert s.chosen_rate_bps == 231250


def test_acr38u_ta1_96_is_adapted_to_95_at_125000() -> None:
    # ACR38U-CCID.txt: 4 MHz, dwMaxDataRate 129032, no rate table.
    reader = view("ACR38U-CCID.txt")
    assert reader.data_rates is None
    s = predict_speed(reader, ta1=0x96, ta2=None, protocol=0)
    assert s.card_rate_bps == 250000
    assert s.outcome is SpeedOutcome.ADAPTED
    assert s.chosen_ta1 == 0x95
    assert s.chosen_rate_bps == 125000
    assert s.pps_by is PpsBy.DRIVER
    assert [(a.ta1, a.rate_bps, a.accepted) for a in s.attempts] == [(0x95, 125000, True)]


def test_omnikey_3121_ta1_96_runs_at_300000() -> None:
    # OMNIKEY_AG_3121.txt: 4.8 MHz, 106 listed rates including 300000.
    s = predict_speed(view("OMNIKEY_AG_3121.txt"), ta1=0x96, ta2=None, protocol=1)
    assert s.outcome is SpeedOutcome.CARD_SPEED
    assert s.chosen_ta1 == 0x96
    assert s.chosen_rate_bps == 300000


# ---------------------------------------------------------------------------------------------
# The other branches, each on a real reader


def test_acr38u_ta1_97_tries_96_then_95() -> None:
    s = predict_speed(view("ACR38U-CCID.txt"), ta1=0x97, ta2=None, protocol=1)
    assert [(a.ta1, a.accepted) for a in s.attempts] == [(0x96, False), (0x95, True)]
    assert s.chosen_rate_bps == 125000


def test_acr38u_ta1_18_exactly_at_the_maximum() -> None:
    # 4 MHz * 12 / 372 = 129032 = dwMaxDataRate: accepted.
    s = predict_speed(view("ACR38U-CCID.txt"), ta1=0x18, ta2=None, protocol=1)
    assert s.outcome is SpeedOutcome.CARD_SPEED
    assert s.chosen_rate_bps == 129032


def test_cyberjack_one_nothing_fits() -> None:
    # ReinerSCT_cyberJack_one.txt: 1 MHz, table [2688]: 95 and 94 are tried and refused.
    s = predict_speed(view("ReinerSCT_cyberJack_one.txt"), ta1=0x96, ta2=None, protocol=1)
    assert s.outcome is SpeedOutcome.FALLBACK
    assert [(a.ta1, a.rate_bps, a.accepted) for a in s.attempts] == [
        (0x95, 31250, False),
        (0x94, 15625, False),
    ]
    assert s.chosen_ta1 == 0x11
    assert s.chosen_rate_bps == 2688
    assert s.slower_than_card


def test_oz776_is_held_at_the_default() -> None:
    # Oz776S.txt: 4 MHz, claims 307200 bit/s; libccid caps the OZ776 at 9600.
    reader = view("Oz776S.txt")
    assert reader.max_data_rate_bps == 9600
    s = predict_speed(reader, ta1=0x18, ta2=None, protocol=0)
    assert s.outcome is SpeedOutcome.FALLBACK
    assert s.attempts == ()  # only TA1 95..97 are adapted
    assert s.chosen_rate_bps == 10752
    assert "adapts only TA1 95 to 97" in s.reason


def test_rutoken_rate_not_in_table_stays_at_default() -> None:
    # Aktiv_Rutoken_SCR_3001_Reader.txt: 3.58 MHz; 223750 bit/s is below the maximum 625000
    # but not in its 10-rate table: "Reader does not support".
    s = predict_speed(view("Aktiv_Rutoken_SCR_3001_Reader.txt"), ta1=0x96, ta2=None, protocol=1)
    assert s.card_rate_bps == 223750
    assert s.outcome is SpeedOutcome.FALLBACK
    assert s.chosen_rate_bps == 9623
    assert s.pps_by is PpsBy.READER_PPS


def test_rutoken_with_ta2_is_refused() -> None:
    # Same reader, card in specific mode T=1 (TA2 01): libccid refuses the card.
    s = predict_speed(view("Aktiv_Rutoken_SCR_3001_Reader.txt"), ta1=0x96, ta2=0x01, protocol=1)
    assert s.outcome is SpeedOutcome.SPEED_REFUSED
    assert s.refused
    assert s.pcsc_result == "SCARD_W_UNRESPONSIVE_CARD"


def test_feitian_scr301_lists_the_rate_within_rounding() -> None:
    # Feitian_SCR301.txt: 4 MHz, 44 listed rates. TA1 13 gives 43010 (43010.75 truncated) and
    # the table says 43011: listed. TA1 B9 (1024/20) gives 78125: not listed.
    reader = view("Feitian_SCR301.txt")
    s = predict_speed(reader, ta1=0x13, ta2=None, protocol=1)
    assert s.outcome is SpeedOutcome.CARD_SPEED
    assert s.chosen_rate_bps == 43010
    assert predict_speed(reader, ta1=0xB9, ta2=None, protocol=1).outcome is SpeedOutcome.FALLBACK
    refused = predict_speed(reader, ta1=0xB9, ta2=0x81, protocol=1)
    assert refused.outcome is SpeedOutcome.SPEED_REFUSED


def test_teridian_negotiates_by_itself() -> None:
    # Teridian_TSC12xxFV.09.txt: dwFeatures 0x000405F2 has 0x40, whatever its rate table says.
    s = predict_speed(view("Teridian_TSC12xxFV.09.txt"), ta1=0x13, ta2=0x81, protocol=1)
    assert s.outcome is SpeedOutcome.READER_NEGOTIATES


def test_ta2_protocol_differs_is_refused() -> None:
    # GemPCTwin.txt, card in specific mode for T=0 (TA2 80) asked for T=1.
    s = predict_speed(view("GemPCTwin.txt"), ta1=0x11, ta2=0x80, protocol=1)
    assert s.outcome is SpeedOutcome.PROTOCOL_REFUSED
    assert s.pps_by is PpsBy.SPECIFIC_MODE


def test_protocol_not_in_dwprotocols_is_refused() -> None:
    # Yubico_Yubikey_4_CCID.txt declares T=1 only.
    s = predict_speed(view("Yubico_Yubikey_4_CCID.txt"), ta1=None, ta2=None, protocol=0)
    assert s.outcome is SpeedOutcome.PROTOCOL_REFUSED
    assert s.chosen_rate_bps is None


@pytest.mark.parametrize(
    "name", ["e-gate.txt", "Yubico_Yubikey_4_CCID.txt", "SCL010.txt", "Teridian_TSC12xxFV.09.txt"]
)
def test_features_0x40_nothing_is_sent(name: str) -> None:
    # These dumps set dwFeatures 0x40: the reader negotiates by itself.
    s = predict_speed(view(name), ta1=0x96, ta2=None, protocol=1 if name != "e-gate.txt" else 0)
    assert s.outcome is SpeedOutcome.READER_NEGOTIATES
    assert s.pps_by is PpsBy.READER
    assert s.chosen_ta1 is None
    assert s.chosen_rate_bps is None


def test_features_0x40_wins_over_a_ta2_mismatch() -> None:
    # libccid checks dwFeatures 0x40 before TA2 (e-gate.txt).
    s = predict_speed(view("e-gate.txt"), ta1=None, ta2=0x01, protocol=0)
    assert s.outcome is SpeedOutcome.READER_NEGOTIATES


def test_specific_mode_implicit_is_refused() -> None:
    # TA2 11: T=1, parameters implicitly known (bit 0x10). GemPCTwin.txt.
    s = predict_speed(view("GemPCTwin.txt"), ta1=0x11, ta2=0x11, protocol=1)
    assert s.outcome is SpeedOutcome.IMPLICIT_REFUSED


def test_specific_mode_adapted_is_a_mismatch() -> None:
    # ACR38U-CCID.txt + TA1 96 + TA2 01: the driver sets TA1 95, the card keeps 96.
    s = predict_speed(view("ACR38U-CCID.txt"), ta1=0x96, ta2=0x01, protocol=1)
    assert s.outcome is SpeedOutcome.ADAPTED
    assert s.pps_by is PpsBy.SPECIFIC_MODE
    assert s.specific_mode_mismatch


def test_specific_mode_at_card_speed_is_fine() -> None:
    s = predict_speed(view("OMNIKEY_AG_3121.txt"), ta1=0x96, ta2=0x01, protocol=1)
    assert s.outcome is SpeedOutcome.CARD_SPEED
    assert not s.specific_mode_mismatch


def test_just_above_the_maximum_stays_at_default() -> None:
    # Within 2 bit/s above dwMaxDataRate: neither accepted nor adapted (ACR38U-like, 1 less).
    reader = DriverView(4000, 129031, None, (0, 1), 0x10030)
    s = predict_speed(reader, ta1=0x18, ta2=None, protocol=1)
    assert s.outcome is SpeedOutcome.FALLBACK
    assert s.attempts == ()


@pytest.mark.parametrize("ta1", [None, 0x11, 0x01, 0x71])
def test_default_speed(ta1: int | None) -> None:
    # No TA1, TA1 11, or RFU nibbles (treated as 372/1): nothing faster, no PPS for T=0.
    s = predict_speed(view("GemPCTwin.txt"), ta1=ta1, ta2=None, protocol=0, default_protocol=0)
    assert s.outcome is SpeedOutcome.DEFAULT
    assert s.chosen_rate_bps == 10752
    assert s.pps_by is PpsBy.NONE


def test_other_protocol_needs_a_pps() -> None:
    # Card offers T=0 first and T=1: asking for T=1 makes the driver send a PPS (GemPCTwin.txt).
    s = predict_speed(view("GemPCTwin.txt"), ta1=None, ta2=None, protocol=1, default_protocol=0)
    assert s.pps_by is PpsBy.DRIVER


def test_unknown_table_is_an_assumption() -> None:
    reader = DriverView(3700, 200000, None, (0, 1), 0, assumptions=("table unknown",))
    s = predict_speed(reader, ta1=0x96, ta2=None, protocol=1)
    assert s.assumptions == ("table unknown",)
    assert s.to_json()["assumptions"] == ["table unknown"]


def test_arithmetic_matches_c_truncation() -> None:
    # 1000*kHz*D/F in doubles, truncated: 3.7 MHz 372/1 is 9946 (9946.23).
    assert rate_at(0x11, 3700) == 9946
    assert rate_at(0x18, 4800) == 154838
    assert fi_di(0x96) == (512, 32)
    assert fi_di(0xE1) == (372, 1)
    assert is_listed(116130, (116129,))
    assert not is_listed(116131, (116129,))


def test_json_shape() -> None:
    s = predict_speed(view("ACR38U-CCID.txt"), ta1=0x96, ta2=None, protocol=1)
    data = s.to_json()
    assert data["outcome"] == "adapted"
    assert data["card_ta1"] == "96"
    assert data["chosen_ta1"] == "95"
    assert data["chosen_rate_bps"] == 125000
    assert data["attempts"] == [{"ta1": "95", "rate_bps": 125000, "accepted": True}]
