"""Compatibility rules: card ATR x reader capabilities -> findings, speed, verdict.

Readers are the libccid `parse` dumps of shared/data/ccid_readers/ (descriptor bytes rebuilt by
test_ccid.dump, rate tables as the dumps print them). Cards are ATRs of the pcsc-tools list
(shared/data/smartcard_list.latest.txt), named below with the line that describes them.
"""

from __future__ import annotations

import json

import pytest
from test_ccid import DUMPS, dump, read_dump

from cardcheck.atr.decode import decode_atr
from cardcheck.atr.model import AtrInfo, VoltageClass
from cardcheck.compat.ccid import load_descriptor
from cardcheck.compat.clock import clock_advice
from cardcheck.compat.rules import (
    CapabilitySource,
    CompatReport,
    ReaderCapabilities,
    Verdict,
    compatibility,
    parse_protocols,
    parse_voltages,
    verdict_of,
)
from cardcheck.compat.speed import SpeedOutcome
from cardcheck.findings import Finding, Severity

# Cards from smartcard_list.latest.txt (description line in the comment).
ICLASS_T0_T1_96 = "3B 95 96 80 B1 FE 55 1F C7 47 72 61 63 65 13"  # IClass SE Processor
ICLASS_SPECIFIC = "3B 90 96 91 81 B1 FE 55 1F C7 D4"  # iClass SE Processor: TA2 81
OPENPGP_V2 = "3B DA 18 FF 81 B1 FE 75 1F 03 00 31 C5 73 C0 01 40 00 90 00 0C"  # OpenPGP Card V2
COMPRION_CLASS_C = "3B 97 94 80 3F 44 90 80 31 A0 73 BE 21 00 95"  # Comprion, class C only
MULTIFLEX_T0 = "3B 02 14 50"  # Schlumberger Multiflex 3k: T=0, no TA1, no class indicator
KYRGYZ_EID_T0_EXT = "3B 78 18 00 00 00 73 C8 01 40 00 90 00"  # The Kyrgyz Republic eID
ID_VAULT_SPECIFIC_T0 = "3B 9F 11 10 80 41 54 39 38 53 43 30 33 32 43 54 31 2E 35 35"  # TA2 80
YUBIKEY_NEO = "3B 8C 80 01 59 75 62 69 6B 65 79 4E 45 4F 72 33 58"  # Yubikey Neo: T=1 only
DESFIRE_SAM = "3B D0 A8 FF 81 F1 FB 24 00 1F C3 F4"  # Philips DESFire SAM: fmax 7.5 MHz
CARDS = (
    ICLASS_T0_T1_96,
    ICLASS_SPECIFIC,
    OPENPGP_V2,
    COMPRION_CLASS_C,
    MULTIFLEX_T0,
    KYRGYZ_EID_T0_EXT,
    ID_VAULT_SPECIFIC_T0,
    YUBIKEY_NEO,
    DESFIRE_SAM,
)


def card(text: str) -> AtrInfo:
    return decode_atr(bytes.fromhex(text))


def reader(name: str, *, table: bool = True) -> ReaderCapabilities:
    """A dumped reader as sysfs would give it (whole blob), plus its rate table when asked."""
    d = dump(name)
    return ReaderCapabilities.from_descriptor(
        load_descriptor(d.usb_blob()),
        data_rates=d.data_rates if table else None,
        data_rates_known=table,
    )


def check(reader_name: str, atr: str, *, table: bool = True) -> CompatReport:
    return compatibility(card(atr), reader(reader_name, table=table))


def codes(report: CompatReport, severity: Severity | None = None) -> set[str]:
    return {f.code for f in report.findings if severity is None or f.severity is severity}


def finding(report: CompatReport, code: str) -> Finding:
    (found,) = [f for f in report.findings if f.code == code]
    return found


# ---------------------------------------------------------------------------------------------
# Every reader dump x every card: the invariants


@pytest.mark.parametrize("path", DUMPS, ids=lambda p: p.name)
def test_every_dump_with_every_card(path: object) -> None:
    d = read_dump(path)  # type: ignore[arg-type]
    caps = ReaderCapabilities.from_descriptor(
        load_descriptor(d.usb_blob()), data_rates=d.data_rates or None, data_rates_known=True
    )
    for atr in CARDS:
        report = compatibility(card(atr), caps)
        assert report.verdict is verdict_of(report.findings)
        assert all(f.advice for f in report.findings), atr
        severities = [f.severity for f in report.findings]
        rank = [Severity.ERROR, Severity.WARNING, Severity.INFO]
        assert severities == sorted(severities, key=rank.index)
        assert json.loads(json.dumps(report.to_json()))["verdict"] == report.verdict.value
        if report.protocol is not None and report.protocol in caps.protocols:  # type: ignore[operator]
            assert report.speed is not None
            assert report.speed.protocol == report.protocol


# ---------------------------------------------------------------------------------------------
# The bogus dumps


@pytest.mark.parametrize("atr", CARDS)
def test_mysmartpad_fails_every_card(atr: str) -> None:
    # MySmartPad.txt: dwProtocols 0x0300 (neither T=0 nor T=1), no voltage, 1024 MHz clock.
    report = check("MySmartPad.txt", atr)
    assert report.verdict is Verdict.FAIL
    assert {"protocol-unsupported", "clock-out-of-spec"} <= codes(report)
    assert {"descriptor-no-voltage", "descriptor-no-protocol"} <= codes(report, Severity.WARNING)
    assert "voltage-unknown" in codes(report)  # no voltage declared: not claimed either way


def test_e_gate_is_t0_only_and_negotiates_itself() -> None:
    # e-gate.txt: T=0 only, 5 V, dwFeatures 0x40.
    assert "protocol-unsupported" in codes(check("e-gate.txt", OPENPGP_V2), Severity.ERROR)
    report = check("e-gate.txt", MULTIFLEX_T0)
    assert report.verdict is Verdict.PASS
    assert report.speed is not None
    assert report.speed.outcome is SpeedOutcome.READER_NEGOTIATES
    assert "descriptor-data-rate-mismatch" in codes(report, Severity.INFO)


def test_oz776_falls_back_to_9600() -> None:
    # Oz776S.txt: libccid caps it at 9600 bit/s; OpenPGP V2 asks for TA1 18 (129032 at 4 MHz).
    report = check("Oz776S.txt", OPENPGP_V2)
    assert report.verdict is Verdict.WARN
    assert "reader-quirk" in codes(report, Severity.INFO)
    message = finding(report, "speed-fallback").message
    assert "TA1 11, 10752 bit/s" in message
    assert "TA1 18, 129032 bit/s" in message
    assert "libccid caps this reader at 9600 bit/s" in message


def test_feitian_r701_max_clock_flag_does_not_change_the_verdict() -> None:
    # Feitian_R701.txt: dwMaximumClock < dwDefaultClock (an info: libccid never reads it).
    report = check("Feitian_R701.txt", MULTIFLEX_T0)
    assert "descriptor-max-clock-below-default" in codes(report, Severity.INFO)
    assert report.verdict is Verdict.PASS


# ---------------------------------------------------------------------------------------------
# Speed: the examples as findings


def test_alcor_adapted_speed_is_a_fallback_warning() -> None:
    report = check("AlcorMicro_AU9560.txt", ICLASS_T0_T1_96)
    assert report.verdict is Verdict.WARN
    assert report.speed is not None
    assert report.speed.chosen_rate_bps == 115625
    assert "TA1 95, 115625 bit/s" in finding(report, "speed-fallback").message
    assert "200000" in finding(report, "speed-fallback").message


def test_acr38u_adapted_speed() -> None:
    report = check("ACR38U-CCID.txt", ICLASS_T0_T1_96)
    message = finding(report, "speed-fallback").message
    assert "TA1 95, 125000 bit/s instead of TA1 96, 250000 bit/s" in message
    assert "250000" in (finding(report, "speed-fallback").advice or "")


def test_omnikey_runs_at_300000() -> None:
    report = check("OMNIKEY_AG_3121.txt", ICLASS_T0_T1_96)
    assert report.verdict is Verdict.PASS
    assert "TA1 96, 300000 bit/s at 4.8 MHz" in finding(report, "negotiated-speed").message
    assert "reader does the PPS" in finding(report, "pps").message  # dwFeatures 0x80


def test_specific_mode_adapted_fails() -> None:
    # iClass SE (TA2 81) in the ACR38U: the driver sets TA1 95, the card stays at 96.
    report = check("ACR38U-CCID.txt", ICLASS_SPECIFIC)
    assert report.verdict is Verdict.FAIL
    assert "every exchange fails" in finding(report, "speed-unsupported").message


def test_specific_mode_rate_not_listed_is_refused() -> None:
    # Aktiv_Rutoken_SCR_3001_Reader.txt: 223750 bit/s is not in its 10-rate table.
    report = check("Aktiv_Rutoken_SCR_3001_Reader.txt", ICLASS_SPECIFIC)
    assert report.verdict is Verdict.FAIL
    assert "SCARD_W_UNRESPONSIVE_CARD" in finding(report, "speed-unsupported").message


def test_specific_mode_with_unknown_table_is_a_warning() -> None:
    # The same reader read from sysfs only: the table is unknown, the refusal only possible.
    report = check("Aktiv_Rutoken_SCR_3001_Reader.txt", ICLASS_SPECIFIC, table=False)
    assert report.verdict is Verdict.WARN
    assert "10 data rates" in finding(report, "speed-unverified").message


def test_specific_mode_at_card_speed_passes() -> None:
    assert check("OMNIKEY_AG_3121.txt", ICLASS_SPECIFIC).verdict is Verdict.PASS


def test_specific_mode_implicit_parameters() -> None:
    # iClass SE ATR with TA2 changed from 81 to 91 (implicit parameters) and TCK recomputed.
    raw = bytearray(bytes.fromhex(ICLASS_SPECIFIC))
    raw[4] = 0x91
    raw[-1] = 0
    for byte in raw[1:-1]:
        raw[-1] ^= byte
    report = compatibility(decode_atr(bytes(raw)), reader("GemPCTwin.txt"))
    assert "specific-mode-implicit" in codes(report, Severity.ERROR)


def test_speed_unknown_without_clock() -> None:
    report = compatibility(
        card(OPENPGP_V2), ReaderCapabilities.manual(voltages=parse_voltages("5"))
    )
    assert report.speed is None
    assert "speed-unknown" in codes(report, Severity.INFO)


# ---------------------------------------------------------------------------------------------
# Protocols


def test_no_protocol_in_common() -> None:
    # Yubico_Yubikey_4_CCID.txt declares T=1 only; the Multiflex is T=0 only.
    report = check("Yubico_Yubikey_4_CCID.txt", MULTIFLEX_T0)
    assert report.verdict is Verdict.FAIL
    assert report.protocol is None
    assert "T=0" in finding(report, "protocol-unsupported").advice  # type: ignore[operator]


def test_specific_mode_protocol_not_supported() -> None:
    # ID Vault: TA2 80, specific mode T=0 (the ATR also offers nothing else).
    report = check("Yubico_Yubikey_4_CCID.txt", ID_VAULT_SPECIFIC_T0)
    assert "specific mode" in finding(report, "protocol-unsupported").message


def test_default_protocol_not_supported() -> None:
    # IClass SE offers T=0 first, then T=1; the Yubikey 4 reader has T=1 only.
    report = check("Yubico_Yubikey_4_CCID.txt", ICLASS_T0_T1_96)
    assert report.verdict is Verdict.WARN
    assert report.protocol == 1
    assert "SCARD_PROTOCOL_T1" in (finding(report, "protocol-default-unsupported").advice or "")


def test_pcscd_takes_t1_when_the_card_offers_it() -> None:
    # The IClass SE offers T=0 first, then T=1: pcsc-lite 1.9.9 asks the driver for T=1 when
    # the application accepts both (seen with the real libccid: tests/test_usbemu_compat.py).
    report = check("GemPCTwin.txt", ICLASS_T0_T1_96)
    assert report.protocol == 1
    assert "pcscd takes T=1" in finding(report, "negotiated-protocol").message
    assert [s.protocol for s in report.speeds] == [0, 1]
    assert report.speed is not None and report.speed.pps_request is not None
    assert report.speed.pps_request[:2] == bytes([0xFF, 0x11])  # PPS1 present, T=1


# ---------------------------------------------------------------------------------------------
# Voltages


def test_class_a_card_in_a_3v_reader() -> None:
    # ReinerSCT_cyberJack_one.txt supplies 3 V only; the Multiflex has no class indicator.
    report = check("ReinerSCT_cyberJack_one.txt", MULTIFLEX_T0)
    assert report.verdict is Verdict.FAIL
    assert "no class indicator" in finding(report, "voltage-unsupported").message


def test_class_c_card_in_a_5v_3v_reader() -> None:
    # Oz776S.txt supplies 5 V and 3 V; the Comprion card declares class C only.
    message = finding(check("Oz776S.txt", COMPRION_CLASS_C), "voltage-unsupported").message
    assert "class C (1.8 V)" in message


def test_class_c_card_powered_at_5v_first() -> None:
    # GemPCTwin.txt supplies all three classes but does not select the voltage itself.
    report = check("GemPCTwin.txt", COMPRION_CLASS_C)
    assert "voltage-above-class" in codes(report, Severity.WARNING)


def test_reader_selects_voltage_itself() -> None:
    # AlcorMicro_AU9560.txt: dwFeatures 0x08.
    report = check("AlcorMicro_AU9560.txt", COMPRION_CLASS_C)
    assert "voltage-above-class" not in codes(report)
    assert "selects the voltage itself" in finding(report, "power-up-voltage").message


# ---------------------------------------------------------------------------------------------
# Clock


def test_contactless_reader_clock_is_out_of_spec() -> None:
    # SCL010.txt: 13.56 MHz.
    report = check("SCL010.txt", MULTIFLEX_T0)
    message = finding(report, "clock-out-of-spec").message
    assert "outside the 1-5 MHz" in message
    assert "above the card's fmax of 5 MHz" in message


def test_clock_above_fmax_only() -> None:
    # A reader clocked at 6 MHz by hand: above the Multiflex's default fmax of 5 MHz.
    report = compatibility(card(MULTIFLEX_T0), ReaderCapabilities.manual(clock_mhz=6))
    assert "clock-out-of-spec" in codes(report, Severity.WARNING)
    report = compatibility(card(DESFIRE_SAM), ReaderCapabilities.manual(clock_mhz=4.8))
    assert "clock-out-of-spec" not in codes(report)


def test_clock_advice() -> None:
    # DESFire SAM: TA1 A8 (Fi 768, Di 12, fmax 7.5 MHz).
    advice = clock_advice(card(DESFIRE_SAM), reader_clock_mhz=4.0)
    assert advice.fmax_mhz == 7.5
    by_clock = {o.clock_mhz: o for o in advice.options}
    assert by_clock[4.0].card_rate_bps == pytest.approx(62500)
    assert by_clock[6.0].within_fmax is True
    assert by_clock[6.0].within_activation is False
    assert by_clock[8.0].within_fmax is False
    assert advice.best_mhz == 5.0
    crystals = {c.option.clock_mhz: c for c in advice.crystals}
    assert crystals[3.5712].option.in_spec
    assert not crystals[6.0].option.in_spec
    assert "during the ATR" in crystals[6.0].reason
    assert advice.reader is not None
    assert advice.reader.clock_mhz == 4.0


def test_clock_advice_default_card() -> None:
    # Multiflex 3k: no TA1 (372/1, fmax 5 MHz): 9600 bit/s at 3.5712 MHz.
    advice = clock_advice(card(MULTIFLEX_T0))
    assert advice.ta1 is None
    assert advice.options[0].default_rate_bps == pytest.approx(9600)
    assert "6 MHz is outside" in advice.crystals[1].reason
    assert "above the card's fmax of 5 MHz" in advice.crystals[1].reason


# ---------------------------------------------------------------------------------------------
# Extended APDUs


def test_extended_apdu_short_apdu_reader() -> None:
    # Aktiv_Rutoken_SCR_3001_Reader.txt: short APDU level; OpenPGP V2 declares extended Lc/Le.
    report = check("Aktiv_Rutoken_SCR_3001_Reader.txt", OPENPGP_V2)
    assert "extended-apdu-unsupported" in codes(report, Severity.WARNING)


def test_extended_apdu_tpdu_reader_with_t1_is_fine() -> None:
    # ACR38U-CCID.txt: TPDU level; the driver's T=1 carries extended APDUs.
    assert "extended-apdu-unsupported" not in codes(check("ACR38U-CCID.txt", OPENPGP_V2))


def test_extended_apdu_tpdu_reader_with_t0() -> None:
    # The Kyrgyz eID is T=0 only and declares extended Lc/Le.
    report = check("ACR38U-CCID.txt", KYRGYZ_EID_T0_EXT)
    assert "T=0" in finding(report, "extended-apdu-unsupported").message


def test_extended_apdu_level_reader() -> None:
    assert "extended-apdu-unsupported" not in codes(check("AlcorMicro_AU9560.txt", OPENPGP_V2))


# ---------------------------------------------------------------------------------------------
# Reader sources


def test_unknown_reader_is_said_plainly() -> None:
    caps = ReaderCapabilities.unknown("the virtual reader is not a USB CCID reader")
    report = compatibility(card(YUBIKEY_NEO), caps)
    assert report.verdict is Verdict.WARN
    assert not report.reader.known
    assert report.speed is None
    assert "virtual reader" in finding(report, "reader-unknown").message
    assert report.to_json()["reader"]["known"] is False  # type: ignore[index]


def test_manual_reader() -> None:
    caps = ReaderCapabilities.manual(
        clock_mhz=3.5712,
        max_rate_bps=115200,
        voltages=parse_voltages("5,3"),
        protocols=parse_protocols("0,1"),
    )
    assert caps.clock_khz == 3571
    report = compatibility(card(OPENPGP_V2), caps)
    assert report.speed is not None
    # TA1 18 at 3571 kHz (the driver works in whole kHz): 115193 bit/s, within 115200.
    assert report.speed.outcome is SpeedOutcome.CARD_SPEED
    assert report.speed.chosen_rate_bps == 115193
    assert "speed-assumption" in codes(report, Severity.INFO)  # features unknown


def test_overrides_replace_descriptor_values() -> None:
    caps = reader("ACR38U-CCID.txt").with_overrides(max_rate_bps=250000, clock_mhz=4.0)
    assert caps.source is CapabilitySource.DESCRIPTOR_AND_FLAGS
    report = compatibility(card(ICLASS_T0_T1_96), caps)
    assert report.speed is not None
    assert report.speed.chosen_rate_bps == 250000
    assert report.verdict is Verdict.PASS


def test_driver_listing_findings() -> None:
    d = dump("GemPCTwin.txt")
    listed = ReaderCapabilities.from_descriptor(
        load_descriptor(d.usb_blob()), driver_listed=True, driver_name="Gemalto PC Twin Reader"
    )
    assert "reader-in-driver" in codes(compatibility(card(MULTIFLEX_T0), listed))
    unlisted = ReaderCapabilities.from_descriptor(
        load_descriptor(d.usb_blob()), driver_listed=False
    )
    report = compatibility(card(MULTIFLEX_T0), unlisted)
    assert "08E6:3437" in finding(report, "reader-not-in-driver").message


def test_invalid_atr_fails_without_a_prediction() -> None:
    # tests/golden/atr/pcsc-part3-tck-wrong.json: a MIFARE 1K ATR with a wrong TCK.
    atr = "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6B"
    report = check("OMNIKEY_AG_3121.txt", atr)
    assert "atr-invalid" in codes(report, Severity.ERROR)
    assert report.verdict is Verdict.FAIL
    assert (report.protocol, report.speed, report.speeds) == (None, None, ())
    assert "tck-mismatch" in finding(report, "atr-invalid").message
    assert not codes(report, Severity.INFO)  # no pps, negotiated-speed, ...


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5,3,1.8", (VoltageClass.A, VoltageClass.B, VoltageClass.C)),
        ("3V, 5V", (VoltageClass.B, VoltageClass.A)),
    ],
)
def test_parse_voltages(text: str, expected: tuple[VoltageClass, ...]) -> None:
    assert parse_voltages(text) == expected


@pytest.mark.parametrize("text", ["12", "", "5,x"])
def test_parse_voltages_errors(text: str) -> None:
    with pytest.raises(ValueError):
        parse_voltages(text)


def test_parse_protocols() -> None:
    assert parse_protocols("1,0") == (0, 1)
    assert parse_protocols("T=1") == (1,)
    with pytest.raises(ValueError):
        parse_protocols("2")


def test_verdict_rule() -> None:
    info = Finding(Severity.INFO, "x", "x")
    warn = Finding(Severity.WARNING, "y", "y")
    error = Finding(Severity.ERROR, "z", "z")
    assert verdict_of(()) is Verdict.PASS
    assert verdict_of((info,)) is Verdict.PASS
    assert verdict_of((info, warn)) is Verdict.WARN
    assert verdict_of((warn, error)) is Verdict.FAIL


def test_json_contract_keys() -> None:
    data = check("ACR38U-CCID.txt", ICLASS_T0_T1_96).to_json()
    assert list(data) == [
        "verdict",
        "findings",
        "protocol",
        "reader",
        "speed",
        "speeds",
        "clock_advice",
        "power_up_voltage",
    ]
    findings = data["findings"]
    assert isinstance(findings, list)
    assert all(list(f) == ["severity", "code", "message", "advice"] for f in findings)
    reader_json = data["reader"]
    assert isinstance(reader_json, dict)
    assert reader_json["usb_id"] == "072F:90CC"
    assert reader_json["descriptor"]["dwMaxDataRate"] == 129032
