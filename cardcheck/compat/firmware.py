"""Reader firmware that libccid refuses: its list of "bogus" firmware releases (pure data).

libccid 1.5.2 (``ccid_usb.c``) keeps a list of USB ids with the first firmware release
(bcdDevice) it trusts; a reader whose bcdDevice is lower is refused when pcscd opens it (its
log says "Firmware (X.YY) is bogus! please upgrade") and no reader appears, unless the driver
option DRIVER_OPTION_USE_BOGUS_FIRMWARE (0x04 in ifdDriverOptions of its Info.plist) is set.
The values below were read from the Debian libccid 1.5.2 binary; the emulated readers confirm
them (README, "Checked against the real driver").
"""

from __future__ import annotations

BOGUS_FIRMWARE: dict[tuple[int, int], int] = {
    (0x04E6, 0xE001): 0x0516,  # SCM SCR 331
    (0x04E6, 0x5111): 0x0620,  # SCM SCR 331-DI
    (0x04E6, 0xE003): 0x0510,  # SCM SPR 532
    (0x0D46, 0x3001): 0x0037,  # Kobil KAAN Base
    (0x0D46, 0x3002): 0x0037,  # Kobil KAAN Advanced
    (0x09C3, 0x0008): 0x0203,  # ActivCard V2
    (0x0DC3, 0x1004): 0x0502,  # Athena ASE IIIe USBv2
    (0x0DC3, 0x1102): 0x0607,  # Athena ASE IIIe KB USB
    (0x058F, 0x9520): 0x0102,  # Alcor AU9520-G
    (0x072F, 0x2200): 0x0206,  # ACS ACR122U
    (0x08C3, 0x0402): 0x5000,  # Precise Biometrics Precise 200 MC
    (0x08C3, 0x0401): 0x5000,  # Precise Biometrics Precise 250 MC
    (0x0B0C, 0x0050): 0x0101,  # Todos Argos Mini II
    (0x0DC3, 0x0900): 0x0200,  # Athena IDProtect Key v2
    (0x03F0, 0x0036): 0x0124,  # HP USB CCID Smartcard Keyboard
    (0x062D, 0x0001): 0x0102,  # THRC Smart Card Reader
    (0x04E6, 0x5291): 0x0112,  # SCM SCL010 Contactless Reader
}
"""(idVendor, idProduct) -> the lowest bcdDevice libccid accepts."""


def bcd_text(bcd: int) -> str:
    """bcdDevice 0x0516 -> ``5.16`` (as libccid writes it)."""
    return f"{bcd >> 8:X}.{bcd & 0xFF:02X}"


def refused_firmware(vendor_id: int | None, product_id: int | None, bcd: int | None) -> int | None:
    """The lowest release libccid accepts when it refuses this reader's firmware; else None."""
    if vendor_id is None or product_id is None or bcd is None:
        return None
    minimum = BOGUS_FIRMWARE.get((vendor_id, product_id))
    if minimum is None or bcd >= minimum:
        return None
    return minimum
