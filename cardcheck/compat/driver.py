"""Does the installed libccid know a reader? Its Info.plist lists the USB ids it drives.

It is ``ifd-ccid.bundle/Contents/Info.plist`` in pcscd's usbdropdir (``pcscd --version``;
Debian: /usr/lib/pcsc/drivers). pcscd loads libccid for a USB reader only when its
vendor:product id is in the lists ``ifdVendorID``, ``ifdProductID`` and ``ifdFriendlyName``
(three parallel arrays).
"""

from __future__ import annotations

import plistlib
from pathlib import Path

from cardcheck.errors import EnvironmentProblem
from cardcheck.values import Value

LIBCCID_INFO_PLIST = Path("/usr/lib/pcsc/drivers/ifd-ccid.bundle/Contents/Info.plist")
"""Where Debian's libccid package puts its reader list (the fallback of libccid_info_plist)."""


def libccid_info_plist() -> Path:
    """libccid's Info.plist in the usbdropdir the installed pcscd reports; the Debian path
    when pcscd cannot be asked or has no libccid there."""
    from cardcheck.doctor.pcscd import system_pcscd

    info = system_pcscd()
    if info is not None:
        candidate = Path(info.usbdropdir) / "ifd-ccid.bundle" / "Contents" / "Info.plist"
        if candidate.is_file():
            return candidate
    return LIBCCID_INFO_PLIST


class DriverReader(Value):
    """One reader of the driver's list."""

    vendor_id: int
    """USB idVendor."""
    product_id: int
    """USB idProduct."""
    name: str
    """The friendly name the driver gives it."""

    @property
    def usb_id(self) -> str:
        """``076B:3021``."""
        return f"{self.vendor_id:04X}:{self.product_id:04X}"


class DriverReaderList(Value):
    """The readers an installed libccid drives."""

    path: Path
    """The Info.plist read."""
    version: str | None
    """CFBundleShortVersionString (the libccid version), None when absent."""
    readers: tuple[DriverReader, ...]
    """Every entry, in file order (a USB id may appear more than once)."""

    def lookup(self, vendor_id: int, product_id: int) -> tuple[DriverReader, ...]:
        """The entries for one USB id (empty when the driver does not know it)."""
        return tuple(
            r for r in self.readers if r.vendor_id == vendor_id and r.product_id == product_id
        )

    def knows(self, vendor_id: int, product_id: int) -> bool:
        """Whether the driver lists this USB id."""
        return bool(self.lookup(vendor_id, product_id))


def load_driver_list(path: Path | None = None) -> DriverReaderList:
    """Read libccid's Info.plist (default: :func:`libccid_info_plist`). Raises
    EnvironmentProblem when missing or malformed."""
    if path is None:
        path = libccid_info_plist()
    hint = "install libccid (Debian: apt install libccid) or give the path of its Info.plist"
    try:
        with path.open("rb") as stream:
            doc = plistlib.load(stream)
    except FileNotFoundError as exc:
        raise EnvironmentProblem(f"libccid's reader list {path} is not there", hint) from exc
    except OSError as exc:
        raise EnvironmentProblem(f"cannot read {path}: {exc.strerror or exc}", hint) from exc
    except (plistlib.InvalidFileException, ValueError) as exc:
        raise EnvironmentProblem(f"{path} is not a property list: {exc}", hint) from exc
    if not isinstance(doc, dict):
        raise EnvironmentProblem(f"{path} is not a driver Info.plist (no dictionary)", hint)
    vendors = doc.get("ifdVendorID")
    products = doc.get("ifdProductID")
    names = doc.get("ifdFriendlyName")
    if not (isinstance(vendors, list) and isinstance(products, list) and isinstance(names, list)):
        raise EnvironmentProblem(
            f"{path} has no ifdVendorID/ifdProductID/ifdFriendlyName lists", hint
        )
    if not len(vendors) == len(products) == len(names):
        raise EnvironmentProblem(
            f"{path} is inconsistent: {len(vendors)} vendor ids, {len(products)} product ids, "
            f"{len(names)} names",
            hint,
        )
    readers: list[DriverReader] = []
    for index, (vendor, product, name) in enumerate(zip(vendors, products, names, strict=True)):
        try:
            readers.append(DriverReader(int(str(vendor), 16), int(str(product), 16), str(name)))
        except ValueError as exc:
            raise EnvironmentProblem(
                f"{path}: entry {index} has a bad USB id {vendor!r}:{product!r}", hint
            ) from exc
    version = doc.get("CFBundleShortVersionString")
    return DriverReaderList(
        path=path,
        version=str(version) if version is not None else None,
        readers=tuple(readers),
    )
