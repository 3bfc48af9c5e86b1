"""The USB descriptors of an emulated CCID reader, built from a real reader's parsed dump.

The readers come from libccid's ``parse`` dumps as parsed into ``all_readers_parsed.json``
(key: the dump's file name, such as ``ACR38U-CCID.txt``), their firmware release from
``bcd_device.json``. Standard library only: this module also runs in the system Python of the
umockdev handler.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "ccid_readers"
"""Where the reader dumps live when cardcheck runs from its repository (``../shared/data``)."""

BULK_OUT = 0x01
"""Endpoint address of the emulated reader's bulk OUT pipe (host to reader)."""
BULK_IN = 0x82
"""Endpoint address of the bulk IN pipe (reader to host)."""
INTERRUPT_IN = 0x83
"""Endpoint address of the interrupt IN pipe (slot change notifications)."""

DEFAULT_BCD_DEVICE = 0x0100
"""bcdDevice used when the dump gives none."""


@dataclass(frozen=True, slots=True)
class ReaderSpec:
    """One real reader as the emulation presents it."""

    key: str
    """The dump's file name in ``all_readers_parsed.json``."""
    vendor_id: int
    """idVendor."""
    product_id: int
    """idProduct."""
    bcd_device: int
    """bcdDevice (firmware release), BCD."""
    manufacturer: str
    """iManufacturer string."""
    product: str
    """iProduct string."""
    interface_class: int
    """bInterfaceClass: 0x0B CCID, 0xFF vendor specific."""
    interface_protocol: int
    """bInterfaceProtocol: 0 CCID bulk, 1 ICCD version A, 2 ICCD version B."""
    max_slot_index: int
    """bMaxSlotIndex (0 for a single-slot reader)."""
    voltage_support: int
    """bVoltageSupport bits: 0x01 5 V, 0x02 3 V, 0x04 1.8 V."""
    protocols: int
    """dwProtocols bits: 0x01 T=0, 0x02 T=1."""
    default_clock_khz: int
    """dwDefaultClock."""
    maximum_clock_khz: int
    """dwMaximumClock."""
    num_clocks: int
    """bNumClockSupported."""
    data_rate: int
    """dwDataRate."""
    max_data_rate: int
    """dwMaxDataRate."""
    num_data_rates: int
    """bNumDataRatesSupported."""
    max_ifsd: int
    """dwMaxIFSD."""
    features: int
    """dwFeatures."""
    max_message_length: int
    """dwMaxCCIDMessageLength."""
    pin_support: int
    """bPINSupport."""
    max_busy_slots: int
    """bMaxCCIDBusySlots."""
    clocks_khz: tuple[int, ...]
    """The answer to GET_CLOCK_FREQUENCIES as the dump saw it (empty: the request failed)."""
    data_rates: tuple[int, ...]
    """The answer to GET_DATA_RATES as the dump saw it (empty: the request failed)."""

    @property
    def usb_id(self) -> str:
        """``072F:90CC``."""
        return f"{self.vendor_id:04X}:{self.product_id:04X}"

    @property
    def exchange_level(self) -> int:
        """dwFeatures bits 16-18: 0 character, 1 TPDU, 2 short APDU, 4 extended APDU."""
        return (self.features >> 16) & 0x7

    def class_descriptor(self) -> bytes:
        """The 54-byte CCID class descriptor (type 0x21)."""
        return struct.pack(
            "<BBHBBIIIBIIBIIIIIBBHBB",
            54,
            0x21,
            0x0110,
            self.max_slot_index,
            self.voltage_support,
            self.protocols,
            self.default_clock_khz,
            self.maximum_clock_khz,
            self.num_clocks,
            self.data_rate,
            self.max_data_rate,
            self.num_data_rates,
            self.max_ifsd,
            0,
            0,
            self.features,
            self.max_message_length,
            0xFF,
            0xFF,
            0,
            self.pin_support,
            self.max_busy_slots,
        )

    def device_descriptor(self) -> bytes:
        """The 18-byte USB device descriptor (strings 1, 2, 3: manufacturer, product, serial)."""
        return struct.pack(
            "<BBHBBBBHHHBBBB",
            18,
            1,
            0x0200,
            0,
            0,
            0,
            64,
            self.vendor_id,
            self.product_id,
            self.bcd_device,
            1,
            2,
            3,
            1,
        )

    def endpoints(self) -> tuple[bytes, ...]:
        """Endpoint descriptors: bulk OUT, bulk IN, interrupt IN (ICCD version A: none)."""
        if self.interface_protocol == 1:
            return ()
        bulk_out = struct.pack("<BBBBHB", 7, 5, BULK_OUT, 2, 64, 0)
        bulk_in = struct.pack("<BBBBHB", 7, 5, BULK_IN, 2, 64, 0)
        interrupt = struct.pack("<BBBBHB", 7, 5, INTERRUPT_IN, 3, 8, 16)
        if self.interface_protocol == 2:
            return (interrupt,)
        return (bulk_out, bulk_in, interrupt)

    def configuration_descriptor(self) -> bytes:
        """Configuration, interface, CCID class and endpoint descriptors, as one blob."""
        endpoints = self.endpoints()
        interface = struct.pack(
            "<BBBBBBBBB",
            9,
            4,
            0,
            0,
            len(endpoints),
            self.interface_class,
            0,
            self.interface_protocol,
            0,
        )
        body = interface + self.class_descriptor() + b"".join(endpoints)
        header = struct.pack("<BBHBBBBB", 9, 2, 9 + len(body), 1, 1, 0, 0x80, 50)
        return header + body

    def sysfs_descriptors(self) -> bytes:
        """What Linux shows in sysfs ``descriptors``: device then configuration descriptors."""
        return self.device_descriptor() + self.configuration_descriptor()


def _bcd(text: str | None) -> int:
    """``01.00`` (as bcd_device.json writes it) -> 0x0100."""
    if not text:
        return DEFAULT_BCD_DEVICE
    major, _, minor = text.partition(".")
    return int(major, 16) << 8 | int(minor or "0", 16)


@cache
def _load(data_dir: Path) -> tuple[dict[str, Any], dict[str, str], dict[str, int]]:
    readers = json.loads((data_dir / "all_readers_parsed.json").read_text("utf-8"))["readers"]
    bcd = json.loads((data_dir / "bcd_device.json").read_text("utf-8"))["bcdDevice"]
    classes: dict[str, int] = {}
    summary = data_dir / "all_readers_summary.csv"
    if summary.is_file():
        import csv

        with summary.open(encoding="utf-8", newline="") as stream:
            for row in csv.DictReader(stream):
                classes[row["file"]] = int(row["bInterfaceClass"] or "11")
    return readers, bcd, classes


def reader_keys(data_dir: Path = DATA_DIR) -> tuple[str, ...]:
    """Every reader of the parsed dumps, sorted."""
    return tuple(sorted(_load(data_dir)[0]))


def load_reader(key: str, data_dir: Path = DATA_DIR) -> ReaderSpec:
    """The reader whose dump is ``key`` (``ACR38U-CCID.txt``). Raises KeyError if unknown."""
    readers, bcd, classes = _load(data_dir)
    r = readers[key]
    return ReaderSpec(
        key=key,
        vendor_id=int(r["idVendor"]),
        product_id=int(r["idProduct"]),
        bcd_device=_bcd(bcd.get(key)),
        manufacturer=str(r.get("iManufacturer") or "Emulated"),
        product=str(r.get("iProduct") or "Emulated CCID Reader"),
        interface_class=classes.get(key, 0x0B),
        interface_protocol=int(r.get("bInterfaceProtocol") or 0),
        max_slot_index=int(r.get("bMaxSlotIndex") or 0),
        voltage_support=int(r.get("bVoltageSupport") or 0),
        protocols=int(r.get("dwProtocols") or 0),
        default_clock_khz=int(r.get("dwDefaultClock_khz") or 0),
        maximum_clock_khz=int(r.get("dwMaximumClock_khz") or 0),
        num_clocks=int(r.get("bNumClockSupported") or 0),
        data_rate=int(r.get("dwDataRate") or 0),
        max_data_rate=int(r.get("dwMaxDataRate") or 0),
        num_data_rates=int(r.get("bNumDataRatesSupported") or 0),
        max_ifsd=int(r.get("dwMaxIFSD") or 0),
        features=int(r.get("dwFeatures") or 0),
        max_message_length=int(r.get("dwMaxCCIDMessageLength") or 271),
        pin_support=int(r.get("bPINSupport") or 0),
        max_busy_slots=int(r.get("bMaxCCIDBusySlots") or 1),
        clocks_khz=tuple(int(x) for x in r.get("clocks_khz_listed") or ()),
        data_rates=tuple(int(x) for x in r.get("data_rates_bps_listed") or ()),
    )
