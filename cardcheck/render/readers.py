"""Output of ``cardcheck readers``: a human view through rich, or the documented JSON."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import assert_never

from cardcheck.pcsc.model import ReaderReport, ReaderState, first_description, hex_atr
from cardcheck.render.console import LineConsole, escape


class ReadersFormat(StrEnum):
    """How ``cardcheck readers`` prints."""

    HUMAN = "human"
    JSON = "json"


def readers_to_json(reports: Sequence[ReaderReport]) -> dict[str, object]:
    """``{"readers": [...]}``, one ``ReaderReport.to_json()`` per reader (README contract)."""
    return {"readers": [report.to_json() for report in reports]}


def render_readers(reports: Sequence[ReaderReport], fmt: ReadersFormat) -> None:
    """Print the readers on stdout in ``fmt``."""
    if fmt is ReadersFormat.JSON:
        import json

        print(json.dumps(readers_to_json(reports), indent=2, ensure_ascii=False))
    elif fmt is ReadersFormat.HUMAN:
        _human(reports, LineConsole())
    else:
        assert_never(fmt)


def verdict(report: ReaderReport) -> tuple[str, str]:
    """A short state of the reader for people, and its rich style."""
    state = report.info.state
    if ReaderState.UNAVAILABLE in state or ReaderState.UNKNOWN in state:
        return "reader unavailable", "red"
    if ReaderState.MUTE in state:
        return "card mute (no ATR)", "red"
    if ReaderState.EXCLUSIVE in state:
        return "card held exclusively by another program", "yellow"
    if report.info.card_present:
        if report.note is not None:
            return "card present, not usable", "red"
        in_use = " (in use by another program)" if ReaderState.INUSE in state else ""
        return f"card present{in_use}", "green"
    if ReaderState.EMPTY in state:
        return "no card", "dim"
    return "state unknown", "yellow"


def _human(reports: Sequence[ReaderReport], console: LineConsole) -> None:
    cards = sum(1 for r in reports if r.info.card_present)
    plural = "s" if len(reports) != 1 else ""
    console.print(f"[bold]{len(reports)} reader{plural}[/], {cards} with a card")
    for report in reports:
        text, style = verdict(report)
        console.print()
        console.print(f"[bold]{escape(report.info.name)}[/]: [{style}]{text}[/]")
        rows: list[tuple[str, str]] = []
        atr = hex_atr(report.info.atr)
        if atr is not None:
            rows.append(("ATR", atr))
        if report.protocol is not None:
            rows.append(("protocol", str(report.protocol)))
        if atr is not None and ReaderState.MUTE not in report.info.state:
            description = first_description(report.identified)
            if description is None:
                rows.append(("card", "unknown (not in the ATR list: `cardcheck atr` decodes it)"))
            else:
                more = len(report.identified) - 1
                extra = f" (+{more} more match{'es' if more > 1 else ''})" if more > 0 else ""
                rows.append(("card", description + extra))
        attrs = report.attributes
        for label, value in (
            ("vendor", attrs.vendor_name),
            ("firmware", attrs.ifd_version),
            ("serial", attrs.serial_number),
            ("max input", None if attrs.max_input is None else f"{attrs.max_input} bytes"),
            (
                "USB",
                None if attrs.usb is None else f"bus {attrs.usb.bus}, address {attrs.usb.address}",
            ),
            ("device", attrs.system_name),
        ):
            if value is not None:
                rows.append((label, value))
        if attrs.empty:
            rows.append(("attributes", "none given by the reader"))
        if report.note is not None:
            rows.append(("note", report.note))
        for label, value in rows:
            console.print(f"  {label:<10} {escape(value)}")
