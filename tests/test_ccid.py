"""The CCID class descriptor decoder, the USB blob walker, sysfs lookup and libccid's reader list.

Cases come from the libccid project's `parse` dumps of real readers (shared/data/ccid_readers/,
LGPL test data read in place, never copied): each dump is turned back into the 54 descriptor
bytes by ``dump_descriptor`` below, which the other compat tests import.
"""

from __future__ import annotations

import csv
import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cardcheck.atr.model import VoltageClass
from cardcheck.compat.ccid import (
    CcidFeature,
    DescriptorPlace,
    ExchangeLevel,
    decode_descriptor,
    find_descriptor,
    load_descriptor,
    parse_hex_text,
)
from cardcheck.compat.driver import LIBCCID_INFO_PLIST, load_driver_list
from cardcheck.compat.quirks import load_quirks, quirks_for
from cardcheck.compat.sysfs import (
    capabilities_for_channel_id,
    find_devices,
    list_devices,
    reader_for_channel_id,
    usb_address_from_channel_id,
)
from cardcheck.errors import EnvironmentProblem, InputError

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ccid_readers"
DUMPS = sorted(p for p in DATA.glob("*.txt") if p.name != "supported_readers.txt")
LAYOUT = struct.Struct("<BBHBBIIIBIIBIIIIIBBHBB")

# ---------------------------------------------------------------------------------------------
# Test helper: a libccid `parse` dump back into descriptor bytes


@dataclass(frozen=True)
class Dump:
    """What a `parse` dump says about one reader."""

    name: str
    vendor_id: int
    product_id: int
    product: str
    interface_class: int
    interface_protocol: int
    num_endpoints: int
    fields: dict[str, int]
    data_rates: tuple[int, ...]

    def descriptor_bytes(self) -> bytes:
        f = self.fields
        return LAYOUT.pack(
            f["bLength"],
            f["bDescriptorType"],
            f["bcdCCID"],
            f["bMaxSlotIndex"],
            f["bVoltageSupport"],
            f["dwProtocols"],
            f["dwDefaultClock"],
            f["dwMaximumClock"],
            f["bNumClockSupported"],
            f["dwDataRate"],
            f["dwMaxDataRate"],
            f["bNumDataRatesSupported"],
            f["dwMaxIFSD"],
            f["dwSynchProtocols"],
            f["dwMechanical"],
            f["dwFeatures"],
            f["dwMaxCCIDMessageLength"],
            f["bClassGetResponse"],
            f["bClassEnvelope"],
            f["wLcdLayout"],
            f["bPINSupport"],
            f["bMaxCCIDBusySlots"],
        )

    def usb_blob(self, *, after_endpoints: bool = False) -> bytes:
        """Device + configuration + interface + CCID block + endpoints, as sysfs gives them."""
        ccid = self.descriptor_bytes()
        endpoints = b"".join(
            bytes([7, 0x05, addr, attr, 0x40, 0x00, 0x00])
            for addr, attr in ((0x81, 0x02), (0x02, 0x02), (0x83, 0x03))[: self.num_endpoints]
        )
        iface = bytes(
            [9, 0x04, 0, 0, self.num_endpoints, self.interface_class, 0, self.interface_protocol]
        ) + bytes([0])
        body = iface + (endpoints + ccid if after_endpoints else ccid + endpoints)
        config = (
            bytes([9, 0x02]) + (9 + len(body)).to_bytes(2, "little") + bytes([1, 1, 0, 0x80, 50])
        )
        device = (
            bytes([18, 0x01, 0x00, 0x02, 0, 0, 0, 64])
            + self.vendor_id.to_bytes(2, "little")
            + self.product_id.to_bytes(2, "little")
            + bytes([0x00, 0x01, 1, 2, 0, 1])
        )
        return device + config + body


def _field_value(key: str, text: str) -> int:
    text = text.strip()
    if key == "bcdCCID":
        major, minor = text.split(".")
        return int(major, 16) << 8 | int(minor, 16)
    if key == "dwProtocols":
        high, low = text.split()
        return int(high, 16) << 16 | int(low, 16)
    if key in ("dwDefaultClock", "dwMaximumClock"):
        return round(float(text.split()[0]) * 1000)
    return int(text.split()[0], 0)


def read_dump(path: Path) -> Dump:
    """Parse a libccid `parse` dump (the lines after "CCID Class Descriptor" give the fields)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    top: dict[str, str] = {}
    fields: dict[str, int] = {}
    rates: list[int] = []
    in_ccid = False
    current = ""
    for line in lines:
        if line.strip() == "CCID Class Descriptor":
            in_ccid = True
            continue
        match = re.match(r"^ {1,2}(\w+): ?(.*)$", line)
        if match and not line.startswith("   "):
            key, value = match.groups()
            if in_ccid:
                fields[key] = _field_value(key, value)
                current = key
            else:
                top.setdefault(key, value.strip())
            continue
        rate = re.match(r"^\s+Support (\d+) bps$", line)
        if in_ccid and rate and current == "bNumDataRatesSupported":
            rates.append(int(rate.group(1)))
    return Dump(
        name=path.name,
        vendor_id=int(top["idVendor"], 16),
        product_id=int(top["idProduct"], 16),
        product=top.get("iProduct", ""),
        interface_class=int(top["bInterfaceClass"].split()[0], 16),
        interface_protocol=int(top["bInterfaceProtocol"]),
        num_endpoints=int(top["bNumEndpoints"]),
        fields=fields,
        data_rates=tuple(rates),
    )


def dump(name: str) -> Dump:
    return read_dump(DATA / name)


# ---------------------------------------------------------------------------------------------
# Every dump decodes and re-encodes


@pytest.mark.parametrize("path", DUMPS, ids=lambda p: p.name)
def test_every_dump_decodes_and_round_trips(path: Path) -> None:
    d = read_dump(path)
    assert len(d.fields) == 22
    raw = d.descriptor_bytes()
    desc = decode_descriptor(raw)
    assert desc.to_bytes() == raw
    assert desc.default_clock_khz == d.fields["dwDefaultClock"]
    assert desc.max_data_rate_bps == d.fields["dwMaxDataRate"]
    assert desc.features_raw == d.fields["dwFeatures"]


def test_dump_count() -> None:
    assert len(DUMPS) == 20


def test_alcor_au9560_fields() -> None:
    # AlcorMicro_AU9560.txt: 3.7 MHz, 12 MHz max, 138 rates, short and extended APDU.
    desc = decode_descriptor(dump("AlcorMicro_AU9560.txt").descriptor_bytes())
    assert desc.ccid_version == "1.10"
    assert desc.voltages == (VoltageClass.A, VoltageClass.B, VoltageClass.C)
    assert desc.protocols == (0, 1)
    assert desc.default_clock_khz == 3700
    assert desc.maximum_clock_khz == 12000
    assert desc.num_data_rates_supported == 138
    assert desc.max_ccid_message_length == 272
    assert desc.exchange_level is ExchangeLevel.EXTENDED_APDU
    assert desc.features == (
        CcidFeature.AUTO_PARAMETERS_FROM_ATR
        | CcidFeature.AUTO_ACTIVATION
        | CcidFeature.AUTO_VOLTAGE
        | CcidFeature.AUTO_CLOCK
        | CcidFeature.AUTO_BAUD
        | CcidFeature.AUTO_PPS
        | CcidFeature.AUTO_IFSD
    )
    assert desc.class_get_response == 0xFF
    assert desc.findings == ()


def test_feature_names_follow_the_dump() -> None:
    # OMNIKEY_AG_3121.txt: dwFeatures 0x000407B2 lists these bits.
    desc = decode_descriptor(dump("OMNIKEY_AG_3121.txt").descriptor_bytes())
    assert desc.features_raw == 0x000407B2
    assert CcidFeature.CLOCK_STOP in desc.features
    assert CcidFeature.NAD_OTHER_THAN_00 in desc.features
    assert CcidFeature.AUTO_NEGOTIATION not in desc.features
    assert desc.exchange_level is ExchangeLevel.EXTENDED_APDU
    assert len(desc.feature_names()) == 7  # the dump's 8th line is the exchange level


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("ACR38U-CCID.txt", ExchangeLevel.TPDU),
        ("Aktiv_Rutoken_SCR_3001_Reader.txt", ExchangeLevel.SHORT_APDU),
        ("Yubico_Yubikey_4_CCID.txt", ExchangeLevel.EXTENDED_APDU),
        ("Oz776S.txt", ExchangeLevel.CHARACTER),
        ("e-gate.txt", ExchangeLevel.CHARACTER),
    ],
)
def test_exchange_level(name: str, level: ExchangeLevel) -> None:
    assert decode_descriptor(dump(name).descriptor_bytes()).exchange_level is level


# ---------------------------------------------------------------------------------------------
# Bogus values: which dumps have them


def _codes(name: str) -> set[str]:
    return {f.code for f in decode_descriptor(dump(name).descriptor_bytes()).findings}


def test_mysmartpad_is_bogus_everywhere() -> None:
    # MySmartPad.txt: type 0xFF, bVoltageSupport 0, dwProtocols 0x0300, 1024 MHz clock.
    assert _codes("MySmartPad.txt") == {
        "descriptor-proprietary-type",
        "descriptor-no-voltage",
        "descriptor-no-protocol",
        "descriptor-data-rate-mismatch",
    }
    desc = decode_descriptor(dump("MySmartPad.txt").descriptor_bytes())
    assert desc.proprietary_type
    assert desc.voltages == ()
    assert desc.protocols == ()


def test_feitian_r701_max_clock_below_default() -> None:
    # Feitian_R701.txt: dwDefaultClock 4.000 MHz, dwMaximumClock 3.850 MHz.
    assert _codes("Feitian_R701.txt") == {"descriptor-max-clock-below-default"}


@pytest.mark.parametrize(
    "name",
    [
        "Oz776S.txt",  # 4 MHz but 9600 bit/s
        "e-gate.txt",  # 3.58 MHz but 9600 bit/s
        "Aktiv_Rutoken_SCR_3001_Reader.txt",  # 3.58 MHz but 9600 bit/s
        "Teridian_TSC12xxFV.09.txt",  # 3.6 MHz but 9600 bit/s
        "SCL010.txt",  # contactless: 13.56 MHz, 106000 bit/s
        "Yubico_Yubikey_4_CCID.txt",  # a token: 4 MHz, 307200 bit/s
    ],
)
def test_data_rate_not_clock_over_372(name: str) -> None:
    assert "descriptor-data-rate-mismatch" in _codes(name)


def test_which_dumps_are_clean() -> None:
    flagged = {p.name for p in DUMPS if _codes(p.name)}
    assert flagged == {
        "MySmartPad.txt",
        "Feitian_R701.txt",
        "Oz776S.txt",
        "e-gate.txt",
        "Aktiv_Rutoken_SCR_3001_Reader.txt",
        "Teridian_TSC12xxFV.09.txt",
        "SCL010.txt",
        "Yubico_Yubikey_4_CCID.txt",
        "OMNIKEY_AG_3121.txt",  # 4.8 MHz but 10752 bit/s (4 MHz/372)
        "NXP_Pegoda_2_N.txt",  # 4.8 MHz but 10752 bit/s
    }


def test_rounding_is_not_bogus() -> None:
    # CherrySmartTerminalST2XXX.txt: 4 MHz and 10753 bit/s (4000000/372 = 10752.7, rounded up).
    assert "descriptor-data-rate-mismatch" not in _codes("CherrySmartTerminalST2XXX.txt")
    # ReinerSCT_cyberJack_one.txt: 1 MHz and 2688 bit/s.
    assert "descriptor-data-rate-mismatch" not in _codes("ReinerSCT_cyberJack_one.txt")


def test_bad_exchange_level_is_a_finding() -> None:
    d = dump("ACR38U-CCID.txt")
    fields = dict(d.fields, dwFeatures=0x00030030)
    desc = decode_descriptor(Dump(**{**d.__dict__, "fields": fields}).descriptor_bytes())
    assert desc.exchange_level is None
    assert desc.exchange_level_code == 3
    assert "descriptor-bad-exchange-level" in {f.code for f in desc.findings}


# ---------------------------------------------------------------------------------------------
# The 691 readers of the parsed table


def _table() -> dict[str, dict[str, object]]:
    doc = json.loads((DATA / "all_readers_parsed.json").read_text(encoding="utf-8"))
    readers: dict[str, dict[str, object]] = doc["readers"]
    return readers


def _summary() -> dict[str, dict[str, str]]:
    with (DATA / "all_readers_summary.csv").open(encoding="utf-8") as stream:
        return {row["file"]: row for row in csv.DictReader(stream)}


_LEVEL_TEXT = {
    "character": ExchangeLevel.CHARACTER,
    "TPDU": ExchangeLevel.TPDU,
    "short APDU": ExchangeLevel.SHORT_APDU,
    "short+extended APDU": ExchangeLevel.EXTENDED_APDU,
}


def _encode_entry(entry: dict[str, object]) -> bytes:
    def v(key: str) -> int:
        value = entry[key]
        assert isinstance(value, int)
        return value

    return LAYOUT.pack(
        54, 0x21, 0x0110, v("bMaxSlotIndex"), v("bVoltageSupport"), v("dwProtocols"),
        v("dwDefaultClock_khz"), v("dwMaximumClock_khz"), v("bNumClockSupported"),
        v("dwDataRate"), v("dwMaxDataRate"), v("bNumDataRatesSupported"), v("dwMaxIFSD"),
        0, 0, v("dwFeatures"), v("dwMaxCCIDMessageLength"), 0xFF, 0xFF, 0, v("bPINSupport"), 1,
    )  # fmt: skip


def test_all_691_readers_decode_and_agree_with_the_table() -> None:
    table = _table()
    summary = _summary()
    assert len(table) == 691
    for name, entry in table.items():
        raw = _encode_entry(entry)
        desc = decode_descriptor(raw)
        assert desc.to_bytes() == raw, name
        voltage_bits = entry["bVoltageSupport"]
        assert isinstance(voltage_bits, int)
        assert (VoltageClass.A in desc.voltages) == bool(voltage_bits & 1), name
        assert (VoltageClass.B in desc.voltages) == bool(voltage_bits & 2), name
        assert (VoltageClass.C in desc.voltages) == bool(voltage_bits & 4), name
        protocol_bits = entry["dwProtocols"]
        assert isinstance(protocol_bits, int)
        assert (0 in desc.protocols) == bool(protocol_bits & 1), name
        assert (1 in desc.protocols) == bool(protocol_bits & 2), name
        assert desc.exchange_level is _LEVEL_TEXT[summary[name]["exchange_level"]], name
        codes = {f.code for f in desc.findings}
        assert ("descriptor-no-voltage" in codes) == (voltage_bits & 7 == 0), name
        assert ("descriptor-no-protocol" in codes) == (protocol_bits & 3 == 0), name
        below = entry["dwMaximumClock_khz"] < entry["dwDefaultClock_khz"]  # type: ignore[operator]
        assert ("descriptor-max-clock-below-default" in codes) == below, name


def test_table_bogus_counts() -> None:
    # Counted in all_readers_parsed.json: two readers declare no voltage (bVoltageSupport 0),
    # one no protocol (dwProtocols 0x0300, MySmartPad), one has max clock < default (R701).
    codes = [
        {f.code for f in decode_descriptor(_encode_entry(e)).findings} for e in _table().values()
    ]
    assert sum("descriptor-no-voltage" in c for c in codes) == 2
    assert sum("descriptor-no-protocol" in c for c in codes) == 1
    assert sum("descriptor-max-clock-below-default" in c for c in codes) == 1


# ---------------------------------------------------------------------------------------------
# Input forms: bare binary, hex text, whole USB blobs


def test_load_bare_binary_and_hex_text() -> None:
    raw = dump("ACR38U-CCID.txt").descriptor_bytes()
    binary = load_descriptor(raw)
    assert binary.place is DescriptorPlace.BARE
    assert binary.usb_id is None
    text = " ".join(f"{b:02x}" for b in raw) + "\n"
    assert load_descriptor(text.encode()).descriptor == binary.descriptor
    colons = "# ACR38U\n" + ":".join(f"{b:02X}" for b in raw)
    assert load_descriptor(colons.encode()).descriptor == binary.descriptor
    assert load_descriptor(raw.hex().encode()).descriptor == binary.descriptor


def test_hex_text_errors_point_at_the_character() -> None:
    with pytest.raises(InputError, match="line 2, column 5"):
        parse_hex_text("36 21\n10 0G")
    with pytest.raises(InputError, match="odd number"):
        parse_hex_text("36 2")


@pytest.mark.parametrize("after_endpoints", [False, True])
def test_find_in_usb_blob(after_endpoints: bool) -> None:
    d = dump("OMNIKEY_AG_3121.txt")
    found = find_descriptor(d.usb_blob(after_endpoints=after_endpoints))
    assert found.usb_id == "076B:3022"
    assert found.interface_class == 0x0B
    assert found.place is (
        DescriptorPlace.AFTER_ENDPOINTS if after_endpoints else DescriptorPlace.AFTER_INTERFACE
    )
    assert found.descriptor.to_bytes() == d.descriptor_bytes()


def test_blob_with_proprietary_type_and_vendor_class() -> None:
    # MySmartPad.txt: bInterfaceClass 0xFF and bDescriptorType 0xFF.
    d = dump("MySmartPad.txt")
    found = load_descriptor(d.usb_blob())
    assert found.interface_class == 0xFF
    assert found.descriptor.proprietary_type


def test_blob_hex_text() -> None:
    d = dump("e-gate.txt")  # 0 endpoints, control only
    text = d.usb_blob().hex(" ")
    assert load_descriptor(text.encode()).usb_id == "0973:0003"


def test_blob_without_ccid_interface() -> None:
    hid = bytes([18, 1, 0, 2, 0, 0, 0, 64, 0x6D, 0x04, 0x1C, 0xC5, 0, 1, 1, 2, 0, 1])
    iface = bytes([9, 4, 0, 0, 1, 0x03, 1, 2, 0])
    hid_desc = bytes([9, 0x21, 0x11, 0x01, 0, 1, 0x22, 0x3B, 0])
    config = bytes([9, 2, 27, 0, 1, 1, 0, 0x80, 50])
    with pytest.raises(InputError, match="no CCID class descriptor"):
        find_descriptor(hid + config + iface + hid_desc)


def test_truncated_blob() -> None:
    blob = dump("GemPCTwin.txt").usb_blob(after_endpoints=True)
    with pytest.raises(InputError, match="malformed USB descriptors"):
        find_descriptor(blob[:-3])


@pytest.mark.parametrize(
    "data", [b"", b"\x36\x21\x10", bytes(54), b"\x36\x04" + bytes(52)], ids=repr
)
def test_not_a_descriptor(data: bytes) -> None:
    with pytest.raises(InputError):
        load_descriptor(data)


# ---------------------------------------------------------------------------------------------
# sysfs


def _sysfs_tree(root: Path) -> None:
    omnikey = dump("OMNIKEY_AG_3121.txt")
    alcor = dump("AlcorMicro_AU9560.txt")
    for name, bus, devnum, d in (("1-1.2", 1, 5, omnikey), ("3-2", 3, 7, alcor)):
        device = root / name
        device.mkdir(parents=True)
        (device / "busnum").write_text(f"{bus}\n")
        (device / "devnum").write_text(f"{devnum}\n")
        (device / "idVendor").write_text(f"{d.vendor_id:04x}\n")
        (device / "idProduct").write_text(f"{d.product_id:04x}\n")
        (device / "product").write_text(d.product + "\n")
        (device / "descriptors").write_bytes(d.usb_blob(after_endpoints=name == "3-2"))
        (root / f"{name}:1.0").mkdir()  # interface directories have no busnum
    hub = root / "usb1"
    hub.mkdir()
    (hub / "busnum").write_text("1\n")
    (hub / "devnum").write_text("1\n")
    (hub / "idVendor").write_text("1d6b\n")
    (hub / "idProduct").write_text("0002\n")


def test_channel_id() -> None:
    # REFERENCE §4: CHANNEL_ID = 0x0020 << 16 | bus << 8 | address for USB.
    assert usb_address_from_channel_id(0x00200305) == (3, 5)
    assert usb_address_from_channel_id(0x00100000) is None  # serial
    assert usb_address_from_channel_id(-0x1) is None


def test_sysfs_find_by_channel_and_ids(tmp_path: Path) -> None:
    _sysfs_tree(tmp_path)
    assert {d.usb_id for d in list_devices(tmp_path)} == {"076B:3022", "058F:9540", "1D6B:0002"}
    device = reader_for_channel_id(0x0020 << 16 | 1 << 8 | 5, root=tmp_path)
    assert device is not None
    assert device.product == "Smart Card Reader USB"  # iProduct in OMNIKEY_AG_3121.txt
    iface = device.ccid_interface()
    assert iface.usb_id == "076B:3022"
    assert iface.descriptor.default_clock_khz == 4800
    (alcor,) = find_devices(vendor_id=0x058F, product_id=0x9540, root=tmp_path)
    assert alcor.ccid_interface().place is DescriptorPlace.AFTER_ENDPOINTS
    assert reader_for_channel_id(0x00200909, root=tmp_path) is None


def test_sysfs_root_hub_has_no_ccid(tmp_path: Path) -> None:
    _sysfs_tree(tmp_path)
    (hub,) = find_devices(vendor_id=0x1D6B, root=tmp_path)
    with pytest.raises(EnvironmentProblem):
        hub.read_descriptors()


def test_sysfs_missing_root(tmp_path: Path) -> None:
    assert list_devices(tmp_path / "nothing") == ()


def test_capabilities_for_channel_id(tmp_path: Path) -> None:
    import plistlib

    _sysfs_tree(tmp_path / "sys")
    plist = tmp_path / "Info.plist"
    plist.write_bytes(
        plistlib.dumps(
            {
                "ifdVendorID": ["0x058F"],
                "ifdProductID": ["0x9540"],
                "ifdFriendlyName": ["Alcor Micro AU9540"],
            }
        )
    )
    alcor = capabilities_for_channel_id(0x00200307, root=tmp_path / "sys", info_plist=plist)
    assert alcor.known
    assert alcor.usb_id == "058F:9540"
    assert alcor.driver_listed is True
    assert alcor.driver_name == "Alcor Micro AU9540"
    assert [q.max_data_rate_bps for q in alcor.quirks] == [200000]
    omnikey = capabilities_for_channel_id(0x00200105, root=tmp_path / "sys", info_plist=plist)
    assert omnikey.driver_listed is False
    assert omnikey.clock_khz == 4800
    no_plist = capabilities_for_channel_id(
        0x00200105, root=tmp_path / "sys", info_plist=tmp_path / "none.plist"
    )
    assert no_plist.driver_listed is None


@pytest.mark.parametrize(
    ("channel_id", "reason"),
    [
        (None, "does not report a CHANNEL_ID"),
        (0x8C7B, "not a USB reader"),  # CHANNELID of /etc/reader.conf.d/vpcd
        (0x00200909, "no USB device at bus 9 address 9"),
        (0x00200101, "1D6B:0002"),  # the root hub: no descriptors file in the tree
    ],
)
def test_capabilities_unknown(tmp_path: Path, channel_id: int | None, reason: str) -> None:
    _sysfs_tree(tmp_path)
    caps = capabilities_for_channel_id(channel_id, name="Virtual PCD 00 00", root=tmp_path)
    assert not caps.known
    assert caps.name == "Virtual PCD 00 00"
    assert reason in (caps.unknown_reason or "")


# ---------------------------------------------------------------------------------------------
# The installed libccid and the project's quirks


@pytest.mark.skipif(not LIBCCID_INFO_PLIST.is_file(), reason="libccid is not installed")
def test_installed_libccid_lists_known_readers() -> None:
    readers = load_driver_list()
    assert readers.knows(0x076B, 0x3021)  # OMNIKEY AG CardMan 3121
    assert readers.knows(0x058F, 0x9540)  # Alcor Micro AU9540
    assert readers.knows(0x0B97, 0x7762)  # O2 Micro Oz776
    assert readers.lookup(0x076B, 0x3021)[0].name == "OMNIKEY AG CardMan 3121"
    assert not readers.knows(0x1234, 0x5678)
    assert len(readers.readers) > 100


def test_driver_list_errors(tmp_path: Path) -> None:
    with pytest.raises(EnvironmentProblem, match="not there"):
        load_driver_list(tmp_path / "Info.plist")
    bad = tmp_path / "bad.plist"
    bad.write_text("not a plist")
    with pytest.raises(EnvironmentProblem, match="not a property list"):
        load_driver_list(bad)


def test_driver_list_from_a_small_plist(tmp_path: Path) -> None:
    import plistlib

    path = tmp_path / "Info.plist"
    path.write_bytes(
        plistlib.dumps(
            {
                "CFBundleShortVersionString": "9.9",
                "ifdVendorID": ["0x072F", "0x058f"],
                "ifdProductID": ["0x90CC", "0x9540"],
                "ifdFriendlyName": ["ACS ACR 38U-CCID", "Alcor Micro AU9540"],
            }
        )
    )
    readers = load_driver_list(path)
    assert readers.version == "9.9"
    assert readers.knows(0x058F, 0x9540)
    path.write_bytes(
        plistlib.dumps({"ifdVendorID": ["0x072F"], "ifdProductID": [], "ifdFriendlyName": []})
    )
    with pytest.raises(EnvironmentProblem, match="inconsistent"):
        load_driver_list(path)


def test_quirks_data() -> None:
    quirks = load_quirks()
    assert all(q.source and q.note for q in quirks)
    (alcor,) = quirks_for(0x058F, 0x9540)
    assert alcor.max_data_rate_bps == 200000
    # O2Micro OZ776: both ids of supported_readers.txt (0x0B97:0x7762 and 0x0B97:0x7772).
    listed = (DATA / "supported_readers.txt").read_text(encoding="utf-8")
    for q in quirks:
        assert f"0x{q.vendor_id:04X}:0x{q.product_id:04X}:" in listed
    assert [q.max_data_rate_bps for q in quirks_for(0x0B97, 0x7762)] == [9600]
    assert [q.max_data_rate_bps for q in quirks_for(0x0B97, 0x7772)] == [9600]
    assert quirks_for(None, 0x7762) == ()


# ---------------------------------------------------------------------------------------------
# Properties: any bytes are decoded or refused with an InputError, never a crash


@given(st.binary(min_size=52, max_size=52), st.sampled_from([0x21, 0xFF]))
def test_any_descriptor_body_decodes_and_round_trips(body: bytes, kind: int) -> None:
    raw = bytes([54, kind]) + body
    desc = decode_descriptor(raw)
    assert desc.to_bytes() == raw
    assert all(f.advice for f in desc.findings)


@given(st.binary(max_size=300))
def test_any_blob_is_found_or_refused(blob: bytes) -> None:
    try:
        found = load_descriptor(blob)
    except InputError as err:
        assert err.message
    else:
        assert len(found.descriptor.to_bytes()) == 54
