"""The PC/SC Part 3 tables (storage and contactless cards): standard and card name codes.

Loaded lazily from ``atr_db/pcsc_part3.json``, which sits at the top of a source checkout and
at ``cardcheck/atr_db/`` inside a built wheel.
"""

from __future__ import annotations

import functools

from cardcheck.paths import atr_db_file
from cardcheck.values import Value

PCSC_RID = bytes.fromhex("A000000306")
"""Registered application provider identifier of the PC/SC Workgroup."""

_FILE_NAME = "pcsc_part3.json"


class PcscPart3Tables(Value):
    """The two code tables of PC/SC Part 3."""

    standards: dict[int, str]
    """Standard byte SS -> name, e.g. 0x03 -> ISO 14443 A part 3."""
    card_names: dict[int, str]
    """Card name code NN NN -> name, e.g. 0x0001 -> MIFARE Classic 1K."""


def table_path() -> str | None:
    """Where ``pcsc_part3.json`` is: inside the package (wheel) first, then the repository top."""
    return atr_db_file(_FILE_NAME)


@functools.cache
def tables() -> PcscPart3Tables:
    """The tables, read once. Empty tables when the file is missing or unreadable.

    The codes only add names to a decode, so a broken installation degrades to
    "unknown code" rather than failing the whole ATR.
    """
    import json

    path = table_path()
    if path is None:
        return PcscPart3Tables(standards={}, card_names={})
    try:
        with open(path, encoding="utf-8") as stream:
            raw = json.load(stream)
        standards = {int(k, 16): str(v) for k, v in raw["standards"].items()}
        card_names = {int(k, 16): str(v) for k, v in raw["card_names"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return PcscPart3Tables(standards={}, card_names={})
    return PcscPart3Tables(standards=standards, card_names=card_names)


def standard_name(code: int) -> str | None:
    """Name of the standard byte SS, or None when the code is not in the table."""
    return tables().standards.get(code)


def card_name(code: int) -> str | None:
    """Name of the card name code NN NN, or None when the code is not in the table."""
    return tables().card_names.get(code)
