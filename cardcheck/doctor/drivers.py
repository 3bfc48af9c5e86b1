"""PC/SC reader drivers: the bundles in pcscd's usbdropdir, CCID's reader list, libccid's rules.

A driver bundle's ``Contents/Info.plist`` lists the USB ids it drives (``ifdVendorID``,
``ifdProductID``, ``ifdFriendlyName``: lists, or single strings in some vendor bundles).
CCID's ``supported_readers.txt`` sorts readers into sections (supported, shouldwork,
unsupported, disabled, duplicates). libccid refuses some readers' firmware as bogus.
"""

from __future__ import annotations

import gzip
import plistlib
import re
from dataclasses import dataclass

from cardcheck.compat.firmware import BOGUS_FIRMWARE
from cardcheck.doctor.host import Host

LIBCCID_BUNDLE = "ifd-ccid.bundle"
"""libccid's bundle name."""
OPTION_USE_BOGUS_FIRMWARE = 0x04
"""ifdDriverOptions bit that makes libccid accept firmware it calls bogus."""


YUBICO_VENDOR = 0x1050
"""Yubico's USB vendor id."""
YUBIKEY_WITHOUT_CCID = frozenset({0x0401, 0x0402, 0x0403, 0x0410, 0x0110, 0x0113, 0x0114, 0x0120})
"""YubiKey product ids of USB mode combinations without the CCID interface."""

SUPPORTED_READERS_PATHS = (
    "/usr/share/doc/libccid/supported_readers.txt",
    "/usr/share/doc/libccid/supported_readers.txt.gz",
    "/usr/share/ccid/supported_readers.txt",
    "/usr/local/share/doc/ccid/supported_readers.txt",
)
"""Where a copy of CCID's supported_readers.txt may be installed."""


@dataclass(frozen=True, slots=True)
class DriverBundle:
    """One driver bundle of the usbdropdir."""

    name: str
    """``ifd-ccid.bundle``."""
    plist: str
    """Its Info.plist (path on the host)."""
    version: str | None
    """CFBundleShortVersionString."""
    readers: dict[tuple[int, int], str]
    """USB id -> friendly name."""
    options: int | None
    """ifdDriverOptions; None when absent."""


def _as_list(value: object) -> list[str]:
    if isinstance(value, list):
        return [str(v) for v in value]
    if value is None:
        return []
    return [str(value)]


def _int(text: str) -> int | None:
    try:
        return int(text, 0) if text.lower().startswith("0x") else int(text, 16)
    except ValueError:
        return None


def load_bundle(host: Host, usbdropdir: str, name: str) -> DriverBundle | None:
    """One bundle's Info.plist; None when it has none or it is not a property list."""
    plist = f"{usbdropdir.rstrip('/')}/{name}/Contents/Info.plist"
    data = host.raw(plist)
    if data is None:
        return None
    try:
        doc = plistlib.loads(data)
    except (plistlib.InvalidFileException, ValueError, OverflowError):
        return None
    if not isinstance(doc, dict):
        return None
    vendors = _as_list(doc.get("ifdVendorID"))
    products = _as_list(doc.get("ifdProductID"))
    names = _as_list(doc.get("ifdFriendlyName"))
    readers: dict[tuple[int, int], str] = {}
    for index, (vendor, product) in enumerate(zip(vendors, products, strict=False)):
        vid, pid = _int(vendor), _int(product)
        if vid is None or pid is None:
            continue
        label = names[index] if index < len(names) else (names[0] if names else name)
        readers.setdefault((vid, pid), label)
    options_text = doc.get("ifdDriverOptions")
    options = _int(str(options_text)) if options_text is not None else None
    version = doc.get("CFBundleShortVersionString")
    return DriverBundle(name, plist, None if version is None else str(version), readers, options)


def driver_bundles(host: Host, usbdropdir: str) -> tuple[DriverBundle, ...]:
    """Every bundle in the usbdropdir that has a readable Info.plist."""
    found = (
        load_bundle(host, usbdropdir, entry)
        for entry in host.listdir(usbdropdir)
        if entry.endswith(".bundle")
    )
    return tuple(b for b in found if b is not None)


@dataclass(frozen=True, slots=True)
class SupportedEntry:
    """One line of supported_readers.txt."""

    section: str
    """supported, shouldwork, unsupported, disabled or duplicates."""
    name: str
    """The reader's name in the list."""


_SECTION = re.compile(r"^#\s*section:\s*(\w+)")
_ENTRY = re.compile(r"^#?\s*0x([0-9A-Fa-f]{4}):0x([0-9A-Fa-f]{4}):(.*)$")


def parse_supported_readers(text: str) -> dict[tuple[int, int], tuple[SupportedEntry, ...]]:
    """USB id -> its entries in CCID's supported_readers.txt, in file order."""
    section = "supported"
    out: dict[tuple[int, int], list[SupportedEntry]] = {}
    for line in text.splitlines():
        header = _SECTION.match(line)
        if header:
            section = header.group(1).lower()
            continue
        entry = _ENTRY.match(line.strip())
        if entry:
            key = (int(entry.group(1), 16), int(entry.group(2), 16))
            out.setdefault(key, []).append(SupportedEntry(section, entry.group(3).strip()))
    return {key: tuple(value) for key, value in out.items()}


def load_supported_readers(
    host: Host, explicit: str | None = None
) -> tuple[str, dict[tuple[int, int], tuple[SupportedEntry, ...]]] | None:
    """(path, entries) of the first supported_readers.txt found; None when there is none.

    ``explicit`` is a path on this machine (not under the host root), given by the user.
    """
    candidates: list[tuple[str, bytes | None]] = []
    if explicit is not None:
        try:
            with open(explicit, "rb") as stream:
                candidates.append((explicit, stream.read()))
        except OSError:
            candidates.append((explicit, None))
    candidates.extend((path, host.raw(path)) for path in SUPPORTED_READERS_PATHS)
    for path, data in candidates:
        if data is None:
            continue
        if path.endswith(".gz"):
            try:
                data = gzip.decompress(data)
            except (OSError, EOFError):
                continue
        return path, parse_supported_readers(data.decode("utf-8", errors="replace"))
    return None


def firmware_floor(vendor_id: int, product_id: int) -> int | None:
    """The bcdDevice below which libccid refuses this reader; None when it has no floor."""
    return BOGUS_FIRMWARE.get((vendor_id, product_id))
