"""The human view of a compatibility report: the verdict, the findings with advice, the reader,
the speed prediction and the clock advice.

Draws on a :class:`cardcheck.render.console.LineConsole` (lines and borderless tables as rich
draws them, without importing rich), which decides about colour (none when not a terminal or
NO_COLOR is set).
"""

from __future__ import annotations

from cardcheck.compat.rules import UNLIMITED_RATE_BPS, CapabilitySource, Verdict
from cardcheck.findings import Severity
from cardcheck.rates import whole_bps
from cardcheck.render.console import LineConsole as Console
from cardcheck.render.console import Table, escape

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up

if TYPE_CHECKING:
    from cardcheck.atr.model import AtrInfo
    from cardcheck.compat.clock import ClockAdvice
    from cardcheck.compat.rules import CompatReport, ReaderCapabilities
    from cardcheck.compat.speed import SpeedPrediction

_VERDICT_STYLE = {
    Verdict.PASS: "bold green",
    Verdict.WARN: "bold yellow",
    Verdict.FAIL: "bold red",
}
_SEVERITY_STYLE = {
    Severity.ERROR: "bold red",
    Severity.WARNING: "yellow",
    Severity.INFO: "cyan",
}
_VERDICT_TEXT = {
    Verdict.PASS: "the card should work in this reader",
    Verdict.WARN: "the card should work, with the reservations below",
    Verdict.FAIL: "the card will not work in this reader as it is",
}


def _reader_label(reader: ReaderCapabilities) -> str:
    parts = [p for p in (reader.name, reader.driver_name, reader.usb_id) if p]
    if parts:
        return " ".join(dict.fromkeys(parts))
    return {
        CapabilitySource.FLAGS: "described by hand",
        CapabilitySource.UNKNOWN: "unknown",
    }.get(reader.source, f"from its {reader.source.value}")


def render_compat(console: Console, info: AtrInfo, report: CompatReport) -> None:
    """Everything about one card/reader pair, verdict first."""
    style = _VERDICT_STYLE[report.verdict]
    console.print(
        f"[{style}]{report.verdict.value.upper()}[/{style}]: {_VERDICT_TEXT[report.verdict]}"
    )
    shown = info.hex if len(info.raw) <= 33 else f"{info.hex[:47]} ... ({len(info.raw)} bytes)"
    console.print(f"  card   [bold]{shown or '(empty)'}[/bold]")
    console.print(f"  reader {escape(_reader_label(report.reader))}")
    _findings(console, report)
    _reader(console, report.reader)
    if any(f.code == "atr-invalid" for f in report.findings):
        return  # nothing is predicted from a broken ATR: no speed, no clock advice
    if report.speed is not None:
        _speed(console, report.speed)
    _clock(console, report.clock_advice)


def _findings(console: Console, report: CompatReport) -> None:
    problems = [f for f in report.findings if f.severity is not Severity.INFO]
    notes = [f for f in report.findings if f.severity is Severity.INFO]
    if problems:
        console.print()
        console.print("[bold]Problems[/bold]")
        for f in problems:
            style = _SEVERITY_STYLE[f.severity]
            console.print(
                f"  [{style}]{f.severity.value}[/{style}] {escape(f.message)} [dim]({f.code})[/dim]"
            )
            if f.advice:
                console.print(f"    what to do: {escape(f.advice)}")
    if notes:
        console.print()
        console.print("[bold]What will happen[/bold]")
        for f in notes:
            console.print(f"  [cyan]-[/cyan] {escape(f.message)} [dim]({f.code})[/dim]")
            if f.advice and f.advice != "Nothing to do.":
                console.print(f"    {escape(f.advice)}")


def _pairs() -> Table:
    """A two-column table of names and values whose values wrap on a narrow terminal."""
    table = Table(show_header=False, box=None, padding=(0, 2))
    table.add_column(no_wrap=True)
    table.add_column(overflow="fold")
    return table


def _bps(rate: float | None) -> str:
    """A rate in whole bit/s (:func:`~cardcheck.rates.whole_bps`); unknown for None or for
    the 0xFFFFFFFF that stands for "no known limit"."""
    if rate is None or rate >= UNLIMITED_RATE_BPS:
        return "unknown"
    return f"{whole_bps(rate)} bit/s"


def _na(value: object) -> str:
    return "unknown" if value is None else str(value)


def _reader(console: Console, reader: ReaderCapabilities) -> None:
    console.print()
    console.print("[bold]Reader[/bold]")
    if not reader.known:
        console.print(f"  capabilities unknown: {escape(reader.unknown_reason or '')}")
        return
    table = _pairs()
    table.add_row("source", reader.source.value)
    if reader.usb_id:
        listed = {True: "listed by the installed libccid", False: "NOT listed by libccid"}
        extra = listed.get(reader.driver_listed, "") if reader.driver_listed is not None else ""
        table.add_row("USB id", f"{reader.usb_id} {extra}".strip())
    clock = "unknown" if reader.clock_khz is None else f"{reader.clock_khz / 1000:g} MHz"
    if reader.max_clock_khz is not None:
        clock += f" (maximum {reader.max_clock_khz / 1000:g} MHz)"
    table.add_row("clock", clock)
    rate = _bps(reader.max_data_rate_bps)
    for quirk in reader.quirks:
        if quirk.max_data_rate_bps is not None:
            rate += f" (libccid caps it at {quirk.max_data_rate_bps} bit/s)"
    table.add_row("max data rate", rate)
    if reader.data_rates is not None:
        table.add_row("rate table", f"{len(reader.data_rates)} rates")
    elif reader.descriptor is not None and reader.descriptor.num_data_rates_supported:
        n = reader.descriptor.num_data_rates_supported
        table.add_row("rate table", f"{n} rates announced, not readable without device access")
    voltages = (
        "unknown"
        if reader.voltages is None
        else ", ".join(f"class {v.value}" for v in reader.voltages)
    )
    table.add_row("voltages", voltages)
    protocols = (
        "unknown"
        if reader.protocols is None
        else ", ".join(f"T={p}" for p in reader.protocols) or "none"
    )
    table.add_row("protocols", protocols)
    level = None if reader.exchange_level is None else reader.exchange_level.value
    table.add_row("exchange level", _na(level))
    if reader.descriptor is not None:
        names = reader.descriptor.feature_names()
        table.add_row("features", f"{reader.descriptor.features_raw:#010x} " + "; ".join(names))
    console.print(table)


def _speed(console: Console, speed: SpeedPrediction) -> None:
    console.print()
    console.print(f"[bold]Speed (libccid, T={speed.protocol})[/bold]")
    table = _pairs()
    table.add_row("outcome", speed.outcome.value)
    table.add_row("negotiated by", speed.pps_by.value)
    card = "no TA1" if speed.card_ta1 is None else f"TA1 {speed.card_ta1:02X}"
    if speed.card_rate_bps is not None:
        card += f", {_bps(speed.card_rate_bps)}"
    table.add_row("card asks", card)
    if speed.chosen_ta1 is not None and speed.chosen_rate_bps is not None:
        table.add_row("driver sets", f"TA1 {speed.chosen_ta1:02X}, {_bps(speed.chosen_rate_bps)}")
    elif not speed.refused:
        table.add_row("driver sets", "nothing: the reader decides")
    table.add_row("max data rate", _bps(speed.max_data_rate_bps))
    for attempt in speed.attempts:
        verdict = "taken" if attempt.accepted else "refused"
        table.add_row("tried", f"TA1 {attempt.ta1:02X}, {_bps(attempt.rate_bps)}: {verdict}")
    table.add_row("why", escape(speed.reason))
    console.print(table)


def _clock(console: Console, advice: ClockAdvice) -> None:
    console.print()
    fmax = "RFU" if advice.fmax_mhz is None else f"{advice.fmax_mhz:g} MHz"
    ta1 = "no TA1" if advice.ta1 is None else f"TA1 {advice.ta1:02X}"
    console.print(f"[bold]Clock advice[/bold] ({ta1}, fmax {fmax})")
    table = Table(box=None, padding=(0, 2))
    table.add_column("clock", justify="right", overflow="fold")
    table.add_column("372/1 (ATR)", justify="right", overflow="fold")
    table.add_column("card Fi/Di", justify="right", overflow="fold")
    table.add_column("in spec", overflow="fold")
    rows = list(advice.options)
    if advice.reader is not None and all(o.clock_mhz != advice.reader.clock_mhz for o in rows):
        rows.append(advice.reader)
    for option in sorted(rows, key=lambda o: o.clock_mhz):
        card = "RFU" if option.card_rate_bps is None else f"{whole_bps(option.card_rate_bps):,}"
        problems = []
        if not option.within_activation:
            problems.append("outside 1-5 MHz during the ATR")
        if option.within_fmax is False:
            problems.append("above fmax")
        spec = "yes" if not problems else "no: " + ", ".join(problems)
        label = f"{option.clock_mhz:g} MHz"
        if advice.reader is not None and option.clock_mhz == advice.reader.clock_mhz:
            label += " (reader)"
        table.add_row(label, f"{whole_bps(option.default_rate_bps):,}", card, spec)
    console.print(table)
    for crystal in advice.crystals:
        mark = "[green]in spec[/green]" if crystal.option.in_spec else "[red]out of spec[/red]"
        console.print(
            f"  serial reader crystal {crystal.option.clock_mhz:g} MHz: {mark}. "
            f"{escape(crystal.reason)}"
        )
