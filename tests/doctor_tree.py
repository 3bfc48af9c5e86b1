"""Test helper: fake sysfs, /proc and /etc trees for `cardcheck doctor`, from real reader dumps.

Each USB device is one of the libccid project's reader dumps (shared/data/ccid_readers:
all_readers_parsed.json for the descriptor fields, all_readers_summary.csv for the interface
class, bcd_device.json for the firmware release), laid out as Linux sysfs shows it.
"""

from __future__ import annotations

import csv
import json
import os
import plistlib
import struct
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ccid_readers"
SYSTEM_PLIST = Path("/usr/lib/pcsc/drivers/ifd-ccid.bundle/Contents/Info.plist")
"""The installed libccid's reader list (Debian's libccid package)."""
_CCID = struct.Struct("<BBHBBIIIBIIBIIIIIBBHBB")


@dataclass(frozen=True)
class Reader:
    """One reader dump."""

    file: str
    vendor_id: int
    product_id: int
    product: str
    manufacturer: str
    interface_class: int
    bcd_device: int | None
    section: str
    fields: dict[str, object]

    @property
    def usb_id(self) -> tuple[int, int]:
        return (self.vendor_id, self.product_id)

    def ccid_descriptor(self) -> bytes:
        f = self.fields

        def v(key: str) -> int:
            value = f[key]
            assert isinstance(value, int)
            return value

        return _CCID.pack(
            54, 0x21, 0x0110, v("bMaxSlotIndex"), v("bVoltageSupport"), v("dwProtocols"),
            v("dwDefaultClock_khz"), v("dwMaximumClock_khz"), v("bNumClockSupported"),
            v("dwDataRate"), v("dwMaxDataRate"), v("bNumDataRatesSupported"), v("dwMaxIFSD"),
            0, 0, v("dwFeatures"), v("dwMaxCCIDMessageLength"), 0xFF, 0xFF, 0,
            v("bPINSupport"), 1,
        )  # fmt: skip


@cache
def readers() -> dict[str, Reader]:
    """Every dump by file name."""
    parsed = json.loads((DATA / "all_readers_parsed.json").read_text(encoding="utf-8"))["readers"]
    bcd = json.loads((DATA / "bcd_device.json").read_text(encoding="utf-8"))["bcdDevice"]
    with (DATA / "all_readers_summary.csv").open(encoding="utf-8") as stream:
        summary = {row["file"]: row for row in csv.DictReader(stream)}
    out: dict[str, Reader] = {}
    for name, fields in parsed.items():
        row = summary[name]
        release = bcd.get(name)
        out[name] = Reader(
            file=name,
            vendor_id=int(fields["idVendor"]),
            product_id=int(fields["idProduct"]),
            product=str(fields.get("iProduct") or ""),
            manufacturer=str(fields.get("iManufacturer") or ""),
            interface_class=int(row["bInterfaceClass"]),
            bcd_device=None if release is None else int(release.replace(".", ""), 16),
            section=row["section"],
            fields=fields,
        )
    return out


def reader(name: str) -> Reader:
    return readers()[name]


def usb_blob(vendor_id: int, product_id: int, interface_class: int, ccid: bytes | None) -> bytes:
    """Device descriptor + configuration + one interface (+ CCID block) + endpoints."""
    endpoints = b"".join(
        bytes([7, 0x05, addr, attr, 0x40, 0x00, 0x00])
        for addr, attr in ((0x81, 0x02), (0x02, 0x02), (0x83, 0x03))
    )
    body = bytes([9, 0x04, 0, 0, 3, interface_class, 0, 0, 0]) + (ccid or b"") + endpoints
    config = bytes([9, 0x02]) + (9 + len(body)).to_bytes(2, "little") + bytes([1, 1, 0, 0x80, 50])
    device = (
        bytes([18, 0x01, 0x00, 0x02, 0, 0, 0, 64])
        + vendor_id.to_bytes(2, "little")
        + product_id.to_bytes(2, "little")
        + bytes([0x00, 0x01, 1, 2, 0, 1])
    )
    return device + config + body


class Tree:
    """A fake root: ``Tree(tmp_path).usb(...)``, ``.process(...)``, ``.file(...)``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "sys/bus/usb/devices").mkdir(parents=True, exist_ok=True)
        (root / "proc").mkdir(exist_ok=True)

    def file(self, absolute: str, text: str | bytes) -> Path:
        path = self.root / absolute.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(text, encoding="utf-8")
        return path

    def link(self, absolute: str, target: str) -> None:
        path = self.root / absolute.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        os.symlink(target, path)

    def usb(
        self,
        name: str,
        dump: Reader,
        *,
        bus: int,
        address: int,
        driver: str | None = None,
        product_id: int | None = None,
        interface_class: int | None = None,
        ccid: bool = True,
        power: str = "on",
        runtime: str = "active",
    ) -> None:
        """A USB device from a dump; ``driver`` bound to its interface (None: unbound)."""
        base = f"/sys/bus/usb/devices/{name}"
        pid = dump.product_id if product_id is None else product_id
        klass = dump.interface_class if interface_class is None else interface_class
        self.file(f"{base}/busnum", f"{bus}\n")
        self.file(f"{base}/devnum", f"{address}\n")
        self.file(f"{base}/idVendor", f"{dump.vendor_id:04x}\n")
        self.file(f"{base}/idProduct", f"{pid:04x}\n")
        if dump.bcd_device is not None:
            self.file(f"{base}/bcdDevice", f"{dump.bcd_device:04x}\n")
        if dump.product:
            self.file(f"{base}/product", dump.product + "\n")
        if dump.manufacturer:
            self.file(f"{base}/manufacturer", dump.manufacturer + "\n")
        blob = usb_blob(dump.vendor_id, pid, klass, dump.ccid_descriptor() if ccid else None)
        self.file(f"{base}/descriptors", blob)
        self.file(f"{base}/power/control", power + "\n")
        self.file(f"{base}/power/runtime_status", runtime + "\n")
        iface = f"{base}/{name}:1.0"
        self.file(f"{iface}/bInterfaceClass", f"{klass:02x}\n")
        if driver is not None:
            self.link(f"{iface}/driver", f"../../../../../../bus/usb/drivers/{driver}")

    def process(
        self,
        pid: int,
        comm: str,
        cmdline: list[str],
        *,
        fds: tuple[str, ...] = (),
        pcsc: bool = False,
    ) -> None:
        """A /proc/PID entry: comm, cmdline, open fds, and a maps line for libpcsclite."""
        base = f"/proc/{pid}"
        self.file(f"{base}/comm", comm + "\n")
        self.file(f"{base}/cmdline", b"\0".join(a.encode() for a in cmdline) + b"\0")
        maps = "7f00-7f01 r-xp 00000000 08:01 1 /usr/lib/x86_64-linux-gnu/libc.so.6\n"
        if pcsc:
            maps += "7f02-7f03 r-xp 00000000 08:01 2 /usr/lib/x86_64-linux-gnu/libpcsclite.so.1\n"
        self.file(f"{base}/maps", maps)
        (self.root / base.lstrip("/") / "fd").mkdir(parents=True, exist_ok=True)
        for number, target in enumerate(fds, start=3):
            self.link(f"{base}/fd/{number}", target)

    def pcscd(self) -> None:
        """The real pcscd (for --version) and the installed libccid's Info.plist."""
        self.link("/usr/sbin/pcscd", "/usr/sbin/pcscd")
        self.file(
            "/usr/lib/pcsc/drivers/ifd-ccid.bundle/Contents/Info.plist", SYSTEM_PLIST.read_bytes()
        )

    def libccid_without(self, *ids: tuple[int, int]) -> None:
        """The installed Info.plist minus ``ids`` (an older libccid, or one that disables them)."""
        doc = plistlib.loads(SYSTEM_PLIST.read_bytes())
        keep = [
            i
            for i, (v, p) in enumerate(zip(doc["ifdVendorID"], doc["ifdProductID"], strict=True))
            if (int(v, 16), int(p, 16)) not in ids
        ]
        for key in ("ifdVendorID", "ifdProductID", "ifdFriendlyName"):
            doc[key] = [doc[key][i] for i in keep]
        self.file("/usr/lib/pcsc/drivers/ifd-ccid.bundle/Contents/Info.plist", plistlib.dumps(doc))


def installed_ids() -> set[tuple[int, int]]:
    doc = plistlib.loads(SYSTEM_PLIST.read_bytes())
    return {
        (int(v, 16), int(p, 16))
        for v, p in zip(doc["ifdVendorID"], doc["ifdProductID"], strict=True)
    }
