"""The human view of a decoded ATR: a verdict, the evidence, then what to do.

Draws on a :class:`cardcheck.render.console.LineConsole` (lines, tables and trees as rich draws
them, without importing rich), which decides about colour (none when not a terminal or NO_COLOR
is set).
"""

from __future__ import annotations

from cardcheck.findings import Severity
from cardcheck.hextext import spaced_hex
from cardcheck.rates import whole_bps
from cardcheck.render.console import LineConsole as Console
from cardcheck.render.console import Table, Tree, escape

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cardcheck.atr.model import AtrInfo
    from cardcheck.atr.timing import Timing
    from cardcheck.db import Match
    from cardcheck.errors import CardcheckError

_SEVERITY_STYLE = {
    Severity.ERROR: "bold red",
    Severity.WARNING: "yellow",
    Severity.INFO: "cyan",
}


_hex = spaced_hex


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "unknown (RFU speed)"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1.0:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.3f} s"


def _rate(bps: float | None) -> str:
    return "unknown (RFU speed)" if bps is None else f"{whole_bps(bps):,} bit/s"


_SHOWN_BYTES = 16
"""Bytes shown of an ATR longer than the 33 ISO/IEC 7816-3 allows (or of its extra bytes)."""


def _cut_hex(data: bytes) -> str:
    """``data`` in hex, cut after :data:`_SHOWN_BYTES` bytes with how many there are."""
    if len(data) <= 33:  # an ATR's most (ISO/IEC 7816-3): shown whole
        return _hex(data)
    return f"{_hex(data[:_SHOWN_BYTES])} ... ({len(data)} bytes in all)"


def _prefix(line: int | None) -> str:
    return "" if line is None else f"line {line}: "


def _verdict(console: Console, info: AtrInfo, line: int | None) -> None:
    console.print(f"{_prefix(line)}ATR [bold]{_cut_hex(info.raw) or '(empty)'}[/bold]")
    errors = [f for f in info.findings if f.severity is Severity.ERROR]
    # The diagnosis of TS 03 says more than "TS is not 3B or 3F": show it first.
    errors.sort(key=lambda f: f.code != "inverse-read-as-direct")
    if errors:
        more = f" (and {len(errors) - 1} more error(s))" if len(errors) > 1 else ""
        console.print(f"[bold red]INVALID[/bold red]: {escape(errors[0].message)}{more}")
        return
    protocols = ", ".join(f"T={t}" for t in info.protocols)
    warnings = sum(1 for f in info.findings if f.severity is Severity.WARNING)
    note = f", {warnings} warning(s)" if warnings else ""
    convention = info.convention.value if info.convention else "unknown"
    console.print(
        f"[bold green]VALID[/bold green]: {convention} convention, {protocols}, "
        f"{_speed(info)}{note}"
    )


def _speed(info: AtrInfo) -> str:
    r = info.rate
    fi = "RFU" if r.fi is None else str(r.fi)
    di = "RFU" if r.di is None else str(r.di)
    fmax = "RFU" if r.fmax_mhz is None else f"{r.fmax_mhz:g} MHz"
    source = "" if r.explicit else " (defaults, no TA1)"
    return f"Fi/Di {fi}/{di}, fmax {fmax}{source}"


def _structure(console: Console, info: AtrInfo) -> None:
    table = Table(title="Structure", title_justify="left", show_edge=False)
    table.add_column("offset", justify="right", overflow="fold")
    table.add_column("byte", overflow="fold")
    table.add_column("name", overflow="fold")
    table.add_column("meaning", overflow="fold")
    if info.ts is not None:
        ts_meaning = {
            "direct": "direct convention",
            "inverse": "inverse convention",
        }.get(info.convention.value if info.convention else "", "not 3B or 3F: not ISO 7816-3")
        table.add_row("0", f"{info.ts:02X}", "TS", ts_meaning)
    if info.t0 is not None:
        levels = (("TA1", 0x10), ("TB1", 0x20), ("TC1", 0x40), ("TD1", 0x80))
        present = [name for name, bit in levels if info.t0 & bit]
        table.add_row(
            "1",
            f"{info.t0:02X}",
            "T0",
            f"{info.historical_declared} historical bytes; next: {', '.join(present) or 'none'}",
        )
    for ib in info.interface_bytes:
        table.add_row(str(ib.offset), f"{ib.value:02X}", ib.name, escape(ib.meaning))
    if info.historical:
        start = info.historical_offset
        end = start + len(info.historical) - 1
        where = str(start) if start == end else f"{start}-{end}"
        table.add_row(where, _hex(info.historical), "T1..TK", "historical bytes (below)")
    if info.tck.present and info.tck.value is not None:
        tck_offset = info.historical_offset + len(info.historical)
        verdict = "correct" if info.tck.valid else f"WRONG, expected {info.tck.expected:02X}"
        table.add_row(str(tck_offset), f"{info.tck.value:02X}", "TCK", f"check byte: {verdict}")
    if info.extra:
        start = len(info.raw) - len(info.extra)
        table.add_row(str(start), _cut_hex(info.extra), "extra", "after the end of the ATR")
    console.print(table)


def _protocols_and_timing(console: Console, info: AtrInfo, timing: Timing | None) -> None:
    console.print("[bold]Protocols and timing[/bold]")
    console.print(f"  protocols offered: {', '.join(f'T={t}' for t in info.protocols)}")
    console.print(f"  speed: {_speed(info)}")
    mode = info.specific_mode
    if mode is None:
        console.print("  mode: negotiable (PPS may change the speed)")
    else:
        console.print(
            f"  mode: specific, T={mode.protocol}, no PPS: the reader must use "
            + ("implicit parameters" if mode.implicit_parameters else "TA1's speed")
            + ("" if mode.can_change else "; the card cannot change mode")
        )
    if info.t1 is not None:
        t1 = info.t1
        console.print(
            f"  T=1: IFSC {t1.ifsc}, BWI {t1.bwi}, CWI {t1.cwi}, "
            f"{'CRC' if t1.crc else 'LRC'} error detection"
        )
    if info.t15 is not None:
        t15 = info.t15
        classes = ", ".join(c.value for c in t15.voltage_classes) or "not stated"
        stop = t15.clock_stop.value if t15.clock_stop else "not stated"
        console.print(f"  voltage classes: {classes}; clock stop: {stop}")
    if timing is None:
        return
    console.print(f"  at {timing.clock_hz / 1e6:g} MHz:")
    console.print(
        f"    etu {_duration(timing.etu_s)}, {_rate(timing.bit_rate)} "
        f"(ATR itself at {_rate(timing.default_bit_rate)})"
    )
    if timing.t0 is not None:
        t0 = timing.t0
        console.print(
            f"    T=0: guard time {t0.guard_time_etu} etu ({_duration(t0.guard_time_s)}), "
            f"WWT {_duration(t0.wwt_s)} (WI {t0.waiting_time_integer})"
        )
    if timing.t1 is not None:
        t1t = timing.t1
        console.print(
            f"    T=1: guard time {t1t.guard_time_etu} etu, CWT {t1t.cwt_etu} etu "
            f"({_duration(t1t.cwt_s)}), BWT {_duration(t1t.bwt_s)}, BGT {t1t.bgt_etu} etu"
        )
    if timing.above_fmax:
        console.print(
            f"    [yellow]the clock is above the card's fmax ({info.rate.fmax_mhz:g} MHz)"
        )
    if timing.outside_activation_window:
        console.print("    [yellow]the clock is outside 1-5 MHz, not allowed during the ATR")


def _clock_table(console: Console, info: AtrInfo) -> None:
    from cardcheck.atr.timing import clock_table

    table = Table(title="Bit rate by clock", title_justify="left", show_edge=False)
    table.add_column("clock", justify="right", overflow="fold")
    table.add_column("at TA1 speed", justify="right", overflow="fold")
    table.add_column("at 372/1", justify="right", overflow="fold")
    table.add_column("note", overflow="fold")
    for row in clock_table(info):
        notes = []
        if row.above_fmax:
            notes.append("over fmax")
        if row.outside_activation_window:
            notes.append("outside 1-5 MHz (not for the ATR)")
        style = "yellow" if notes else ""
        table.add_row(
            f"{row.clock_mhz:g} MHz",
            _rate(row.bit_rate),
            _rate(row.default_bit_rate),
            ", ".join(notes),
            style=style,
        )
    console.print(table)
    _crystal_advice(console, info)


def _crystal_advice(console: Console, info: AtrInfo) -> None:
    """For serial readers with a selectable crystal: which choice keeps this card in spec."""
    from cardcheck.compat.clock import clock_advice

    for crystal in clock_advice(info).crystals:
        mark = "in spec" if crystal.option.in_spec else "[yellow]out of spec[/yellow]"
        console.print(
            f"  serial reader crystal {crystal.option.clock_mhz:g} MHz: {mark}. "
            f"{escape(crystal.reason)}"
        )


def _add_json(tree: Tree, value: object) -> None:
    """Add a JSON-like value (dicts, lists, scalars) under ``tree``."""
    if isinstance(value, dict):
        for key, sub in value.items():
            if sub is None or key == "offset":
                continue
            if isinstance(sub, dict | list) and sub:
                _add_json(tree.add(escape(str(key))), sub)
            elif not isinstance(sub, dict | list):
                tree.add(f"{escape(str(key))}: {escape(_scalar(sub))}")
    elif isinstance(value, list):
        for index, sub in enumerate(value):
            if isinstance(sub, dict | list):
                _add_json(tree.add(f"[{index + 1}]"), sub)
            else:
                tree.add(escape(_scalar(sub)))
    else:
        tree.add(escape(_scalar(value)))


def _scalar(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _historical(console: Console, info: AtrInfo) -> None:
    if not info.historical and info.historical_declared == 0:
        console.print("[bold]Historical bytes[/bold]: none")
        return
    tree = Tree(f"[bold]Historical bytes[/bold] {_hex(info.historical)}")
    data = info.historical_info.to_json()
    # Findings are shown once, with the others, below; absent parts are left out.
    skip = {"findings", "raw", "offset"}
    _add_json(tree, {k: v for k, v in data.items() if k not in skip and v is not None})
    console.print(tree)


def _findings(console: Console, info: AtrInfo) -> None:
    if not info.findings:
        console.print("[bold]Findings[/bold]: none")
        return
    console.print("[bold]Findings[/bold]")
    order = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}
    for f in sorted(info.findings, key=lambda f: order[f.severity]):
        where = "" if f.offset is None else f" (offset {f.offset})"
        style = _SEVERITY_STYLE[f.severity]
        console.print(
            f"  [{style}]{f.severity.value}[/{style}] {f.code}{where}: {escape(f.message)}"
        )
        if f.advice:
            console.print(f"    what to do: {escape(f.advice)}")


UPSTREAM_SUBMIT_URL = "https://smartcard-atr.apdu.fr/"
"""Where unknown ATRs are submitted to the public list."""


def render_identification(console: Console, identified: Sequence[Match]) -> None:
    """Which card this is, from every matching entry; for an unknown card, how to submit it."""
    if not identified:
        console.print("[bold]Card[/bold]: not in the ATR list (unknown card)")
        console.print(
            "  if you know what card this is, submit its ATR and a description at "
            f"{UPSTREAM_SUBMIT_URL} so everyone can identify it"
        )
        return
    console.print("[bold]Card[/bold] (ATR list)")
    for match in identified:
        how = "exact entry" if match.exact else f"pattern {match.pattern}"
        where = "" if match.source.value == "smartcard_list" else f", {match.source.value}"
        console.print(f"  [dim]{escape(how)}{where} (line {match.line})[/dim]")
        for text in match.descriptions:
            console.print(f"    {escape(text)}")


def render_atr(
    console: Console,
    info: AtrInfo,
    clock_hz: float,
    *,
    line: int | None = None,
    identified: Sequence[Match] | None = None,
) -> None:
    """Print everything about ``info``: verdict, card, structure, timing, findings.

    ``identified`` is None when identification was not asked for.
    """
    from cardcheck.atr.timing import timing_for

    _verdict(console, info, line)
    console.print()
    if identified is not None:
        render_identification(console, identified)
        console.print()
    _structure(console, info)
    console.print()
    timing = None if info.t0 is None else timing_for(info, clock_hz)
    _protocols_and_timing(console, info, timing)
    console.print()
    _clock_table(console, info)
    console.print()
    _historical(console, info)
    console.print()
    _findings(console, info)


def render_input_error(
    console: Console, text: str, err: CardcheckError, *, line: int | None = None
) -> None:
    """Print an input that could not be read as an ATR (a bad ``--file`` line)."""
    console.print(f"{_prefix(line)}input [bold]{escape(text)}[/bold]")
    first, *rest = err.message.splitlines()
    console.print(f"[bold red]NOT AN ATR[/bold red]: {escape(first)}")
    for extra in rest:
        console.print(escape(extra))
    if err.hint:
        console.print(f"  what to do: {escape(err.hint)}")
