"""Readers whose descriptor the driver overrides (cardcheck's own data: atr_db/reader_quirks.json).

libccid replaces some values of a few readers' CCID descriptors before it uses them (for
example it caps the Alcor AU9540/AU9560 at 200000 bit/s); the speed prediction must do the same.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from cardcheck.errors import EnvironmentProblem
from cardcheck.paths import atr_db_dir
from cardcheck.values import Value

QUIRKS_FILE = "reader_quirks.json"


class ReaderQuirk(Value):
    """One reader (USB vendor:product) whose descriptor values the driver replaces."""

    vendor_id: int
    """USB idVendor."""
    product_id: int
    """USB idProduct."""
    name: str
    """The reader, as people call it."""
    max_data_rate_bps: int | None
    """The dwMaxDataRate the driver uses instead of the reader's; None when not replaced."""
    note: str
    """What the quirk does, in one or two sentences."""
    source: str
    """Where the fact comes from."""

    @property
    def usb_id(self) -> str:
        """``058F:9540``."""
        return f"{self.vendor_id:04X}:{self.product_id:04X}"

    def to_json(self) -> dict[str, object]:
        """The JSON form used in the ``reader`` object of ``compat --json``."""
        return {
            "usb_id": self.usb_id,
            "name": self.name,
            "max_data_rate_bps": self.max_data_rate_bps,
            "note": self.note,
            "source": self.source,
        }


def _default_path() -> Path:
    folder = atr_db_dir()
    if folder is None:
        raise EnvironmentProblem(
            "cannot find cardcheck's data folder atr_db/ (it holds the reader quirks)",
            "reinstall cardcheck; the folder ships with it",
        )
    return Path(folder) / QUIRKS_FILE


def load_quirks(path: Path | None = None) -> tuple[ReaderQuirk, ...]:
    """Read the quirks file (the project's own by default). Raises EnvironmentProblem if broken."""
    if path is None:
        return _bundled_quirks()
    return _read(path)


@cache
def _bundled_quirks() -> tuple[ReaderQuirk, ...]:
    return _read(_default_path())


def _read(path: Path) -> tuple[ReaderQuirk, ...]:
    hint = "reinstall cardcheck; the file ships with it in atr_db/"
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EnvironmentProblem(f"cannot read the reader quirks {path}: {exc}", hint) from exc
    except ValueError as exc:
        raise EnvironmentProblem(f"the reader quirks {path} are not JSON: {exc}", hint) from exc
    try:
        return tuple(
            ReaderQuirk(
                vendor_id=int(entry["vendor_id"], 16),
                product_id=int(entry["product_id"], 16),
                name=str(entry["name"]),
                max_data_rate_bps=(
                    int(entry["max_data_rate_bps"])
                    if entry.get("max_data_rate_bps") is not None
                    else None
                ),
                note=str(entry["note"]),
                source=str(entry["source"]),
            )
            for entry in doc["quirks"]
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise EnvironmentProblem(f"the reader quirks {path} are malformed: {exc}", hint) from exc


def quirks_for(
    vendor_id: int | None,
    product_id: int | None,
    quirks: tuple[ReaderQuirk, ...] | None = None,
) -> tuple[ReaderQuirk, ...]:
    """The quirks of one reader (none when either id is unknown)."""
    if vendor_id is None or product_id is None:
        return ()
    table = load_quirks() if quirks is None else quirks
    return tuple(q for q in table if q.vendor_id == vendor_id and q.product_id == product_id)
