"""USB devices and their interfaces as sysfs shows them (world-readable, no privileges).

Per device: ids, bcdDevice (firmware release), bus/address (they match PC/SC's CHANNEL_ID),
power management, and per interface: class and the kernel driver bound to it.
"""

from __future__ import annotations

from dataclasses import dataclass

from cardcheck.doctor.host import Host

USB_DEVICES = "/sys/bus/usb/devices"
"""Where Linux lists USB devices and interfaces."""
CLASS_SMART_CARD = 0x0B
"""bInterfaceClass of a CCID interface."""
CLASS_VENDOR = 0xFF
"""bInterfaceClass of a vendor-specific interface (some readers put CCID there)."""


@dataclass(frozen=True, slots=True)
class UsbInterface:
    """One interface of a USB device."""

    name: str
    """``1-2:1.0``."""
    interface_class: int | None
    """bInterfaceClass; None when unreadable."""
    driver: str | None
    """The kernel driver bound (``usbfs``, ``pn533_usb``...); None when none is bound."""


@dataclass(frozen=True, slots=True)
class UsbDeviceFacts:
    """One USB device directory of sysfs."""

    name: str
    """``1-2`` (bus-port path)."""
    busnum: int
    """USB bus number."""
    devnum: int
    """Device address on that bus."""
    vendor_id: int
    """idVendor."""
    product_id: int
    """idProduct."""
    bcd_device: int | None
    """bcdDevice (firmware release, BCD: 0x0206 is 2.06); None when unreadable."""
    product: str | None
    """The product string."""
    manufacturer: str | None
    """The manufacturer string."""
    interfaces: tuple[UsbInterface, ...]
    """Its interfaces (of the active configuration)."""
    has_ccid_descriptor: bool
    """A CCID class descriptor is in its descriptors (also inside a 0xFF interface)."""
    power_control: str | None
    """power/control: ``auto`` (autosuspend allowed) or ``on``."""
    runtime_status: str | None
    """power/runtime_status: ``active``, ``suspended``..."""

    @property
    def usb_id(self) -> str:
        """``072F:90CC``."""
        return f"{self.vendor_id:04X}:{self.product_id:04X}"

    @property
    def label(self) -> str:
        """``1-2 072F:90CC ACS ACR38U`` for messages."""
        words = [w for w in (self.manufacturer, self.product) if w]
        return " ".join([self.name, self.usb_id, *words])

    @property
    def node(self) -> str:
        """Its device node, ``/dev/bus/usb/001/005``."""
        return f"/dev/bus/usb/{self.busnum:03d}/{self.devnum:03d}"

    @property
    def smart_card_interfaces(self) -> tuple[UsbInterface, ...]:
        """Interfaces of class 0x0B."""
        return tuple(i for i in self.interfaces if i.interface_class == CLASS_SMART_CARD)

    @property
    def vendor_interfaces(self) -> tuple[UsbInterface, ...]:
        """Interfaces of class 0xFF."""
        return tuple(i for i in self.interfaces if i.interface_class == CLASS_VENDOR)


def _int(text: str | None, base: int) -> int | None:
    if text is None:
        return None
    try:
        return int(text, base)
    except ValueError:
        return None


def _interfaces(host: Host, device: str, siblings: tuple[str, ...]) -> tuple[UsbInterface, ...]:
    base = f"{USB_DEVICES}/{device}"
    names = [n for n in host.listdir(base) if n.startswith(f"{device}:")]
    where = {n: f"{base}/{n}" for n in names}
    for name in siblings:  # the flat listing of /sys/bus/usb/devices has them too
        if name.startswith(f"{device}:") and name not in where:
            where[name] = f"{USB_DEVICES}/{name}"
    return tuple(
        UsbInterface(
            name=name,
            interface_class=_int(host.text(f"{path}/bInterfaceClass"), 16),
            driver=host.link_name(f"{path}/driver"),
        )
        for name, path in sorted(where.items())
    )


def _has_ccid(blob: bytes | None) -> bool:
    if not blob:
        return False
    from cardcheck.compat.ccid import find_descriptor
    from cardcheck.errors import CardcheckError

    try:
        find_descriptor(blob)
    except CardcheckError:
        return False
    return True


def usb_devices(host: Host) -> tuple[UsbDeviceFacts, ...] | None:
    """Every USB device in sysfs; None when sysfs has no USB device list (not mounted)."""
    if not host.is_dir(USB_DEVICES):
        return None
    entries = host.listdir(USB_DEVICES)
    interface_names = tuple(e for e in entries if ":" in e)
    devices: list[UsbDeviceFacts] = []
    for name in entries:
        if ":" in name:
            continue
        base = f"{USB_DEVICES}/{name}"
        busnum = _int(host.text(f"{base}/busnum"), 10)
        devnum = _int(host.text(f"{base}/devnum"), 10)
        vendor = _int(host.text(f"{base}/idVendor"), 16)
        product = _int(host.text(f"{base}/idProduct"), 16)
        if busnum is None or devnum is None or vendor is None or product is None:
            continue
        devices.append(
            UsbDeviceFacts(
                name=name,
                busnum=busnum,
                devnum=devnum,
                vendor_id=vendor,
                product_id=product,
                bcd_device=_int(host.text(f"{base}/bcdDevice"), 16),
                product=host.text(f"{base}/product"),
                manufacturer=host.text(f"{base}/manufacturer"),
                interfaces=_interfaces(host, name, interface_names),
                has_ccid_descriptor=_has_ccid(host.raw(f"{base}/descriptors")),
                power_control=host.text(f"{base}/power/control"),
                runtime_status=host.text(f"{base}/power/runtime_status"),
            )
        )
    return tuple(devices)
