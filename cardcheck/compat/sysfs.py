"""Find a USB reader in Linux sysfs and read its descriptors, without privileges.

``/sys/bus/usb/devices/<bus>-<port...>/descriptors`` is world-readable: the device descriptor
followed by the raw configuration descriptors, CCID class descriptor included. ``busnum`` and
``devnum`` beside it match PC/SC's CHANNEL_ID. Everything is read below one root,
:data:`SYSFS_ROOT`: on a real machine the kernel's sysfs; under the USB emulation
(:mod:`cardcheck.testing.usbemu`) umockdev's preload shows the emulated reader's tree at that
same path, so ``cardcheck check`` runs the same code on both. The functions also take a root of
their own (hand-made trees in unit tests).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from cardcheck.compat.ccid import UsbCcidInterface, find_descriptor
from cardcheck.errors import EnvironmentProblem
from cardcheck.values import Value

if TYPE_CHECKING:
    from cardcheck.compat.rules import ReaderCapabilities

SYSFS_ROOT = Path("/sys")
"""Where sysfs is mounted: the one root every sysfs read of cardcheck starts from."""
SYSFS_USB_DEVICES = SYSFS_ROOT / "bus" / "usb" / "devices"
"""Where Linux lists USB devices."""

USB_CHANNEL = 0x0020
"""High word of a PC/SC CHANNEL_ID for a USB reader."""


def usb_address_from_channel_id(channel_id: int) -> tuple[int, int] | None:
    """(bus number, device address) of a USB CHANNEL_ID (``0x0020 << 16 | bus << 8 | addr``).

    None when the channel is not USB (serial, virtual, ...).
    """
    value = channel_id & 0xFFFFFFFF
    if value >> 16 != USB_CHANNEL:
        return None
    return (value >> 8) & 0xFF, value & 0xFF


class UsbDevice(Value):
    """One USB device directory of sysfs."""

    path: Path
    """The device's directory (``/sys/bus/usb/devices/1-1.2``)."""
    busnum: int
    """USB bus number."""
    devnum: int
    """Device address on that bus."""
    vendor_id: int
    """idVendor."""
    product_id: int
    """idProduct."""
    manufacturer: str | None
    """The manufacturer string, None when the device gives none."""
    product: str | None
    """The product string, None when the device gives none."""

    @property
    def usb_id(self) -> str:
        """``058F:9540``."""
        return f"{self.vendor_id:04X}:{self.product_id:04X}"

    def read_descriptors(self) -> bytes:
        """The raw ``descriptors`` file. Raises EnvironmentProblem when it cannot be read."""
        target = self.path / "descriptors"
        try:
            return target.read_bytes()
        except OSError as exc:
            raise EnvironmentProblem(
                f"cannot read {target}: {exc.strerror or exc}",
                "sysfs must be mounted at /sys; the file is normally readable by every user",
            ) from exc

    def ccid_interface(self) -> UsbCcidInterface:
        """The device's CCID class descriptor, decoded. Raises InputError when it has none."""
        return find_descriptor(self.read_descriptors())


def _text(path: Path) -> str | None:
    try:
        value = path.read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return None
    return value or None


def _device(path: Path) -> UsbDevice | None:
    fields = [_text(path / name) for name in ("busnum", "devnum", "idVendor", "idProduct")]
    if any(value is None for value in fields):
        return None  # an interface directory (1-1:1.0) or something half-written
    busnum, devnum, vendor, product = (value or "" for value in fields)
    try:
        return UsbDevice(
            path=path,
            busnum=int(busnum),
            devnum=int(devnum),
            vendor_id=int(vendor, 16),
            product_id=int(product, 16),
            manufacturer=_text(path / "manufacturer"),
            product=_text(path / "product"),
        )
    except ValueError:
        return None


def list_devices(root: Path = SYSFS_USB_DEVICES) -> tuple[UsbDevice, ...]:
    """Every USB device under ``root`` (empty when there is no such directory)."""
    try:
        entries = sorted(root.iterdir())
    except OSError:
        return ()
    devices = (_device(entry) for entry in entries if ":" not in entry.name)
    return tuple(d for d in devices if d is not None)


def find_devices(
    *,
    bus: int | None = None,
    address: int | None = None,
    vendor_id: int | None = None,
    product_id: int | None = None,
    root: Path = SYSFS_USB_DEVICES,
) -> tuple[UsbDevice, ...]:
    """The USB devices matching every criterion given (bus/address, vendor/product id)."""
    return tuple(
        d
        for d in list_devices(root)
        if (bus is None or d.busnum == bus)
        and (address is None or d.devnum == address)
        and (vendor_id is None or d.vendor_id == vendor_id)
        and (product_id is None or d.product_id == product_id)
    )


def reader_for_channel_id(channel_id: int, root: Path = SYSFS_USB_DEVICES) -> UsbDevice | None:
    """The USB device behind a PC/SC CHANNEL_ID; None when it is not USB or not found."""
    where = usb_address_from_channel_id(channel_id)
    if where is None:
        return None
    found = find_devices(bus=where[0], address=where[1], root=root)
    return found[0] if found else None


def capabilities_for_channel_id(
    channel_id: int | None,
    *,
    name: str | None = None,
    root: Path = SYSFS_USB_DEVICES,
    info_plist: Path | None = None,
) -> ReaderCapabilities:
    """Everything knowable about the reader behind a PC/SC CHANNEL_ID, without privileges.

    Finds the USB device in sysfs, decodes its CCID class descriptor, and looks its USB id up
    in libccid's Info.plist (in pcscd's usbdropdir unless ``info_plist`` is given; skipped when
    missing). A reader that is not USB, not found or not CCID gets unknown capabilities with
    the reason said plainly. Never raises for those cases.
    """
    from cardcheck.compat.driver import libccid_info_plist, load_driver_list
    from cardcheck.compat.rules import ReaderCapabilities
    from cardcheck.errors import CardcheckError

    if channel_id is None:
        return ReaderCapabilities.unknown(
            "the reader does not report a CHANNEL_ID, so it cannot be found on USB", name=name
        )
    where = usb_address_from_channel_id(channel_id)
    if where is None:
        return ReaderCapabilities.unknown(
            f"CHANNEL_ID {channel_id & 0xFFFFFFFF:#010x} is not a USB reader (a virtual or "
            "serial reader has no CCID descriptor)",
            name=name,
        )
    found = find_devices(bus=where[0], address=where[1], root=root)
    if not found:
        return ReaderCapabilities.unknown(
            f"no USB device at bus {where[0]} address {where[1]} under {root}", name=name
        )
    try:
        usb = found[0].ccid_interface()
    except CardcheckError as err:
        return ReaderCapabilities.unknown(
            f"USB device {found[0].usb_id} at {found[0].path}: {err.message}", name=name
        )
    listed: bool | None = None
    driver_name: str | None = None
    plist = libccid_info_plist() if info_plist is None else info_plist
    if usb.vendor_id is not None and usb.product_id is not None and plist.is_file():
        try:
            entries = load_driver_list(plist).lookup(usb.vendor_id, usb.product_id)
        except CardcheckError:
            entries = None
        if entries is not None:
            listed = bool(entries)
            driver_name = entries[0].name if entries else None
    return ReaderCapabilities.from_descriptor(
        usb, name=name or found[0].product, driver_listed=listed, driver_name=driver_name
    )


class RefusedReader(Value):
    """A USB CCID reader present in sysfs whose firmware libccid refuses."""

    device: UsbDevice
    """The USB device."""
    firmware: int
    """Its bcdDevice."""
    minimum: int
    """The first release libccid accepts for this USB id."""

    def describe(self) -> str:
        """``SCM SCL010 (04E6:5291) has firmware 1.07; libccid needs 1.12 or later``."""
        from cardcheck.compat.firmware import bcd_text

        name = self.device.product or "a USB reader"
        return (
            f"{name} ({self.device.usb_id}) has firmware {bcd_text(self.firmware)}; libccid "
            f'needs {bcd_text(self.minimum)} or later and refuses it ("Firmware is bogus")'
        )


def refused_readers(root: Path = SYSFS_USB_DEVICES) -> tuple[RefusedReader, ...]:
    """USB CCID readers under ``root`` that libccid refuses because of their firmware."""
    from cardcheck.compat.firmware import refused_firmware
    from cardcheck.errors import CardcheckError

    found: list[RefusedReader] = []
    for device in list_devices(root):
        try:
            usb = device.ccid_interface()
        except CardcheckError:
            continue
        minimum = refused_firmware(usb.vendor_id, usb.product_id, usb.bcd_device)
        if minimum is not None and usb.bcd_device is not None:
            found.append(RefusedReader(device, usb.bcd_device, minimum))
    return tuple(found)
