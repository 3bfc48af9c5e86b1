"""The USB link: the reader devices, the kernel drivers and programs holding them, and why
pcscd's CCID driver did not take one."""

from __future__ import annotations

from cardcheck.compat.firmware import bcd_text
from cardcheck.doctor.diagnose.common import ERROR, NFC_DRIVERS, WARNING, diagnosis
from cardcheck.doctor.drivers import (
    LIBCCID_BUNDLE,
    OPTION_USE_BOGUS_FIRMWARE,
    YUBICO_VENDOR,
    YUBIKEY_WITHOUT_CCID,
    DriverBundle,
    firmware_floor,
)
from cardcheck.doctor.facts import Facts
from cardcheck.doctor.model import Diagnosis, Link, LinkReport, link_report
from cardcheck.doctor.procs import ProcessInfo
from cardcheck.doctor.usb import UsbDeviceFacts


def _is_reader(facts: Facts, device: UsbDeviceFacts) -> bool:
    key = (device.vendor_id, device.product_id)
    if device.smart_card_interfaces or device.has_ccid_descriptor:
        return True
    if any(key in b.readers for b in facts.bundles) or key in facts.supported:
        return True
    return device.vendor_id == YUBICO_VENDOR


def report(facts: Facts) -> LinkReport:
    seen: list[str] = []
    found: list[Diagnosis] = []
    if not facts.platform.startswith("linux"):
        return link_report(
            Link.USB,
            seen,
            found,
            not_checked=f"USB devices are read from Linux sysfs; this system is {facts.platform}",
        )
    if facts.usb is None:
        return link_report(
            Link.USB,
            seen,
            found,
            not_checked="/sys/bus/usb/devices is not there (sysfs not mounted, or no USB)",
        )
    pcsc = facts.pcsc
    pcsc_ok = pcsc is not None and pcsc.result is None and pcsc.unavailable is None
    readers = pcsc.readers if pcsc is not None else ()
    by_place = {r.usb: r for r in readers if r.usb is not None}
    devices = [d for d in facts.usb if _is_reader(facts, d)]
    bundles = ", ".join(b.name for b in facts.bundles) or "none"
    seen.append(f"driver bundles in {facts.usbdropdir}: {bundles}")
    if facts.supported_path:
        seen.append(f"CCID reader list: {facts.supported_path}")
    if facts.usbdropdir is not None and not facts.bundles:
        found.append(
            diagnosis(
                "no-drivers",
                ERROR if devices else WARNING,
                Link.USB,
                "pcscd has no USB reader driver",
                [
                    f"usbdropdir {facts.usbdropdir}: "
                    + ("no driver bundle" if facts.usbdropdir_exists else "missing")
                ],
                "pcscd loads USB reader drivers (libccid) from its usbdropdir; with none, "
                "no USB reader ever appears",
                ["sudo apt install libccid", "sudo systemctl restart pcscd"],
            )
        )
    if facts.pcscd is not None and facts.pcscd.libudev and not facts.udev_running:
        found.append(
            diagnosis(
                "no-udev",
                WARNING,
                Link.USB,
                "pcscd finds USB readers through udev, but udev is not running here",
                ["pcscd --version lists libudev", "/run/udev is missing"],
                "without udev pcscd sees no hotplug events: readers appear only after a "
                "restart of pcscd, or never (containers, an initramfs without udev)",
                [
                    "run udev, or mount the host's /run/udev into the container",
                    "restart pcscd after plugging the reader in",
                ],
            )
        )
    if not devices:
        seen.append("no USB smart-card device in sysfs")
        if pcsc_ok and not readers:
            found.append(
                diagnosis(
                    "no-reader-connected",
                    ERROR,
                    Link.USB,
                    "no smart-card reader is connected",
                    ["no USB device with a smart-card (0x0B) interface or a known reader id"],
                    "PC/SC has no reader and none is plugged in (or the cable/port is dead)",
                    ["plug the reader in (another port, another cable); lsusb should list it"],
                )
            )
        return link_report(Link.USB, seen, found)
    for device in devices:
        reader = by_place.get((device.busnum, device.devnum))
        where = f"bus {device.busnum} address {device.devnum}"
        if reader is not None:
            seen.append(f"{device.label} ({where}): PC/SC reader {reader.name!r}")
        elif pcsc_ok:
            seen.append(f"{device.label} ({where}): no PC/SC reader")
        else:
            seen.append(f"{device.label} ({where})")
        found.extend(_device_findings(facts, device, matched=reader is not None, pcsc_ok=pcsc_ok))
    return link_report(Link.USB, seen, found)


def _holders(facts: Facts, node: str) -> list[ProcessInfo]:
    return [p for p in facts.processes if node in p.usb_nodes]


def _device_findings(
    facts: Facts, device: UsbDeviceFacts, *, matched: bool, pcsc_ok: bool
) -> list[Diagnosis]:
    out: list[Diagnosis] = []
    key = (device.vendor_id, device.product_id)
    label = device.label
    claimed = [b for b in facts.bundles if key in b.readers]
    if len(claimed) > 1:
        out.append(
            diagnosis(
                "driver-conflict",
                WARNING,
                Link.USB,
                f"{label}: {len(claimed)} driver bundles claim this reader",
                [f"{b.plist} lists {device.usb_id}" for b in claimed],
                "pcscd loads whichever bundle it finds first; the other one may be the one "
                "that works",
                ["remove (or move out of the usbdropdir) the bundle you do not want"],
            )
        )
    if device.power_control == "auto":
        status = device.runtime_status or "unknown"
        out.append(
            diagnosis(
                "usb-autosuspend",
                ERROR if not matched and pcsc_ok and status == "suspended" else WARNING,
                Link.USB,
                f"{label}: USB autosuspend is allowed",
                [
                    f"{device.name}/power/control = auto",
                    f"{device.name}/power/runtime_status = {status}",
                ],
                "some readers do not survive a suspend/resume: they vanish or reset "
                "(LIBUSB_ERROR_IO / NO_DEVICE in pcscd's log); libccid's udev rule turns "
                "autosuspend on for CCID readers",
                [
                    f"echo on | sudo tee /sys/bus/usb/devices/{device.name}/power/control",
                    "to keep it: a udev rule, e.g. "
                    f'ACTION=="add", ATTR{{idVendor}}=="{device.vendor_id:04x}", '
                    f'ATTR{{idProduct}}=="{device.product_id:04x}", '
                    'TEST=="power/control", ATTR{power/control}="on" '
                    "in /etc/udev/rules.d/92-reader-power.rules",
                    "then replug the reader",
                ],
            )
        )
    if matched or not pcsc_ok:
        return out
    cause = _why_no_reader(facts, device, claimed)
    out.insert(0, cause)
    return out


def _why_no_reader(facts: Facts, device: UsbDeviceFacts, claimed: list[DriverBundle]) -> Diagnosis:
    key = (device.vendor_id, device.product_id)
    label = device.label
    # A YubiKey whose USB mode leaves the CCID interface out.
    if device.vendor_id == YUBICO_VENDOR and not device.smart_card_interfaces:
        known = device.product_id in YUBIKEY_WITHOUT_CCID
        return diagnosis(
            "yubikey-ccid-off",
            ERROR,
            Link.USB,
            f"{label}: this YubiKey has its smart-card (CCID) interface switched off",
            [
                f"product id {device.product_id:04X}"
                + (" is a USB mode without CCID" if known else ""),
                "no interface of class 0x0B",
            ],
            "the key's USB configuration enables OTP and/or FIDO only, so there is no reader "
            "for pcscd to drive",
            ["ykman config usb --enable CCID", "then replug the key"],
        )
    # Another kernel driver (or a userspace program through usbfs) holds the interface.
    for iface in device.smart_card_interfaces or device.vendor_interfaces:
        if iface.driver == "usbfs":
            holders = _holders(facts, device.node)
            names = ", ".join(p.label for p in holders)
            evidence = [f"{iface.name}/driver -> usbfs", f"no PC/SC reader at {device.node}"]
            if holders:
                evidence.append(f"{device.node} is open in {names}")
            elif not facts.all_processes_visible:
                evidence.append("other users' processes are not visible without root")
            fix = ["find the program: sudo fuser -v " + device.node]
            if any(p.comm == "scdaemon" for p in holders) or not holders:
                fix = [
                    "echo disable-ccid >> ~/.gnupg/scdaemon.conf   (GnuPG then uses PC/SC)",
                    "gpgconf --kill scdaemon",
                    "replug the reader",
                    *fix,
                ]
            else:
                fix = [f"stop {names}", "replug the reader", *fix]
            return diagnosis(
                "usbfs-held",
                ERROR,
                Link.USB,
                f"{label}: another program drives this reader directly over USB",
                evidence,
                "a program claimed the USB interface through usbfs (GnuPG's scdaemon does "
                "this with its own CCID driver), so pcscd cannot open the reader",
                fix,
            )
        if iface.driver is not None:
            loaded = sorted(m for m in facts.loaded_modules if m in NFC_DRIVERS)
            evidence = [f"{iface.name}/driver -> {iface.driver}"]
            if loaded:
                evidence.append("loaded: " + ", ".join(f"/sys/module/{m}" for m in loaded))
            blacklisted = iface.driver in facts.blacklisted_modules
            evidence.append(
                f"{iface.driver} is blacklisted in modprobe.d (loaded anyway)"
                if blacklisted
                else f"no 'blacklist {iface.driver}' line in /etc/modprobe.d"
            )
            modules = [iface.driver]
            if iface.driver in NFC_DRIVERS:
                modules = [m for m in ("pn533_usb", "pn533", "nfc") if m in loaded] or modules
            blacklist = "\\n".join(f"blacklist {m}" for m in modules)
            return diagnosis(
                "kernel-driver-bound",
                ERROR,
                Link.USB,
                f"{label}: the kernel driver {iface.driver} holds this reader",
                evidence,
                "a kernel driver (the NFC stack for ACR122U-style readers) claimed the USB "
                "interface first, so pcscd's driver gets LIBUSB_ERROR_BUSY",
                [
                    "sudo modprobe -r " + " ".join(modules),
                    f"printf '{blacklist}\\n' | sudo tee /etc/modprobe.d/blacklist-nfc-reader.conf",
                    "replug the reader",
                ],
            )
    listed = facts.supported.get(key, ())
    sections = {e.section for e in listed}
    if not claimed:
        if "disabled" in sections or "unsupported" in sections:
            section = "disabled" if "disabled" in sections else "unsupported"
            names = "; ".join(e.name for e in listed if e.section == section)
            return diagnosis(
                f"reader-{section}",
                ERROR,
                Link.USB,
                f"{label}: CCID lists this reader as {section}",
                [
                    f"{facts.supported_path}: {device.usb_id} in the {section} section ({names})",
                    f"{device.usb_id} is in no Info.plist under {facts.usbdropdir}",
                ],
                "libccid does not drive it: it does not follow the CCID specification well "
                "enough"
                + (" (disabled on purpose)" if section == "disabled" else "")
                + "; it may need the vendor's driver",
                [
                    "install the reader vendor's PC/SC driver (an ifd bundle) if there is one",
                    "or use another reader: https://ccid.apdu.fr/ lists the supported ones",
                ],
            )
        if (
            device.vendor_interfaces
            and not device.smart_card_interfaces
            and not device.has_ccid_descriptor
        ):
            return diagnosis(
                "vendor-driver-needed",
                ERROR,
                Link.USB,
                f"{label}: a vendor-specific reader that needs its vendor's driver",
                [
                    "its interface has class 0xFF and no CCID class descriptor",
                    f"{device.usb_id} is in no Info.plist under {facts.usbdropdir}",
                ],
                "the reader does not speak CCID, so libccid cannot drive it",
                ["install the vendor's PC/SC (ifd) driver for this reader"],
            )
        version = next((b.version for b in facts.bundles if b.name == LIBCCID_BUNDLE), None)
        evidence = [f"{device.usb_id} is in no Info.plist under {facts.usbdropdir}"]
        if version:
            evidence.append(f"installed libccid: {version}")
        supported = [e for e in listed if e.section in ("supported", "shouldwork")]
        if supported:
            evidence.append(
                f"{facts.supported_path}: {device.usb_id} in the {supported[0].section} "
                f"section ({supported[0].name})"
            )
        return diagnosis(
            "reader-not-in-driver-list",
            ERROR,
            Link.USB,
            f"{label}: no installed driver lists this reader's USB id",
            evidence,
            "pcscd only loads a driver for a USB id its Info.plist lists: the installed "
            "libccid is older than this reader (or it needs a vendor driver)",
            [
                "upgrade libccid (sudo apt install --only-upgrade libccid, or a newer release "
                "from https://ccid.apdu.fr/)",
                "then replug the reader",
            ],
        )
    floor = firmware_floor(device.vendor_id, device.product_id)
    ccid = next((b for b in facts.bundles if b.name == LIBCCID_BUNDLE and key in b.readers), None)
    if (
        floor is not None
        and ccid is not None
        and device.bcd_device is not None
        and device.bcd_device < floor
        and not (ccid.options or 0) & OPTION_USE_BOGUS_FIRMWARE
    ):
        return diagnosis(
            "bogus-firmware",
            ERROR,
            Link.USB,
            f"{label}: libccid refuses this reader's firmware as bogus",
            [
                f"bcdDevice {bcd_text(device.bcd_device)} (sysfs {device.name}/bcdDevice)",
                f"libccid needs at least {bcd_text(floor)} for {device.usb_id}",
                f"ifdDriverOptions in {ccid.plist}: {ccid.options or 0:#06x} (0x04 not set)",
            ],
            "libccid knows early firmware of this reader to be broken and does not drive it "
            "('Firmware ... is bogus!' in pcscd's log)",
            [
                "update the reader's firmware (vendor tool)",
                f"or accept it anyway: set ifdDriverOptions to 0x0004 in {ccid.plist}, "
                "then sudo systemctl restart pcscd",
            ],
        )
    evidence = [
        f"{device.usb_id} is listed by {', '.join(getattr(b, 'name', '?') for b in claimed)}"
    ]
    if facts.pcscd is not None and facts.pcscd.libudev and not facts.udev_running:
        evidence.append("udev is not running: pcscd missed the hotplug event")
    if device.power_control == "auto":
        evidence.append(f"autosuspend on ({device.runtime_status or 'unknown'})")
    return diagnosis(
        "reader-not-picked-up",
        ERROR,
        Link.USB,
        f"{label}: a supported reader that pcscd did not pick up",
        evidence,
        "pcscd missed the reader (hotplug event lost, reader plugged before pcscd started "
        "without udev, or the reader reset itself)",
        [
            "sudo systemctl restart pcscd",
            "replug the reader",
            "if it persists, watch the driver: sudo systemctl stop pcscd; "
            "sudo LIBCCID_ifdLogLevel=0x000F pcscd -f -d",
        ],
    )
