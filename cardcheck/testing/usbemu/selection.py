"""Which readers the differential validation runs: the dumps whose USB id libccid lists."""

from __future__ import annotations

from pathlib import Path

from cardcheck.testing.usbemu.descriptors import DATA_DIR, load_reader, reader_keys

SAMPLE_EXTRA = (
    "ACR38U-CCID.txt",
    "OMNIKEY_AG_3121.txt",
    "SCL010.txt",
    "Aladdin_R.D._JaCarta_Flash.txt",
    "AK910_ckey_0001.txt",
)
"""Readers the CI sample always includes: an adapted speed, a reader that does the PPS
itself, one libccid refuses ("Firmware is bogus"), a 3 V reader, a reader libccid powers at
the automatic voltage."""

SAMPLE_STRIDE = 30
"""The CI sample takes every 30th listed reader (20) besides the extras."""


def listed_readers(data_dir: Path = DATA_DIR, info_plist: Path | None = None) -> tuple[str, ...]:
    """The dumps whose USB id the installed libccid's Info.plist lists, sorted."""
    from cardcheck.compat.driver import LIBCCID_INFO_PLIST, load_driver_list

    driver = load_driver_list(LIBCCID_INFO_PLIST if info_plist is None else info_plist)
    out = []
    for key in reader_keys(data_dir):
        spec = load_reader(key, data_dir)
        if driver.knows(spec.vendor_id, spec.product_id):
            out.append(key)
    return tuple(out)


def sample_readers(data_dir: Path = DATA_DIR) -> tuple[str, ...]:
    """The CI sample: the extras and every ``SAMPLE_STRIDE``-th listed reader."""
    listed = listed_readers(data_dir)
    chosen = [k for k in SAMPLE_EXTRA if k in listed]
    chosen += [k for k in listed[::SAMPLE_STRIDE] if k not in chosen]
    return tuple(chosen)
