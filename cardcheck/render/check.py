"""Output of ``cardcheck check``: progress lines on stderr, the human report, the JSON."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from cardcheck.checkmodel import CheckResult, CheckStatus, Verdict
from cardcheck.hextext import spaced_hex

if TYPE_CHECKING:
    from cardcheck.checkrun import CheckReport

_STYLE = {
    CheckStatus.PASS: "green",
    CheckStatus.WARN: "yellow",
    CheckStatus.FAIL: "bold red",
    CheckStatus.SKIP: "dim",
}
_VERDICT_STYLE = {Verdict.PASS: "bold green", Verdict.WARN: "bold yellow", Verdict.FAIL: "bold red"}


def print_progress(stream: TextIO) -> Callable[[CheckResult], None]:
    """A progress callback writing ``cardcheck: check STAGE: STATUS`` lines to ``stream``."""

    def show(result: CheckResult) -> None:
        if result.status is CheckStatus.SKIP and result.message.startswith("not run"):
            return
        print(f"cardcheck: check {result.id}: {result.status.value}", file=stream, flush=True)

    return show


def render_check(report: CheckReport) -> None:
    """The human report: the verdict first, then each stage, then the evidence."""
    from rich.markup import escape
    from rich.table import Table

    from cardcheck.render.console import make_console

    console = make_console()
    style = _VERDICT_STYLE[report.verdict]
    where = f" for reader {report.reader!r}" if report.reader else ""
    console.print(f"[{style}]{report.verdict.value.upper()}[/{style}]: cardcheck check{where}")
    failed = [c for c in report.checks if c.status in (CheckStatus.FAIL, CheckStatus.WARN)]
    if failed:
        console.print(f"  first problem: {escape(failed[0].message)}")
    console.print()

    table = Table(show_edge=False, pad_edge=False)
    table.add_column("stage")
    table.add_column("status")
    table.add_column("what was found", overflow="fold")
    for check in report.checks:
        s = _STYLE[check.status]
        table.add_row(check.id, f"[{s}]{check.status.value}[/{s}]", escape(check.message))
    console.print(table)

    advice = [c for c in report.checks if c.advice and c.status is not CheckStatus.PASS]
    advice += [c for c in report.checks if c.advice and c.status is CheckStatus.PASS]
    if advice:
        console.print()
        console.print("[bold]What to do[/bold]")
        for check in advice:
            # A hint of several lines (PC/SC errors) joins into one paragraph that wraps.
            text = " ".join(line.strip() for line in (check.advice or "").splitlines())
            console.print(f"  {check.id}: {escape(text)}")

    if report.atr is not None:
        console.print()
        console.print(f"[bold]ATR[/bold] {report.atr.hex}")
        if report.warm_atr is not None and report.warm_atr != report.atr.raw:
            console.print("[bold]ATR after warm reset[/bold] " + spaced_hex(report.warm_atr))
        for match in report.identified or ():
            for text in match.descriptions[:3]:
                console.print(f"  {escape(text)}")
        console.print(f"  (full decoding: cardcheck atr {report.atr.hex})")

    if report.latency is not None:
        stats = report.latency
        console.print()
        console.print(f"[bold]Latency[/bold] of {stats.apdu} ({stats.count} round trips)")
        console.print(
            f"  min {stats.min_ms:.2f} ms, median {stats.median_ms:.2f} ms, "
            f"p95 {stats.p95_ms:.2f} ms, max {stats.max_ms:.2f} ms; "
            f"status words: {', '.join(stats.status_words)}"
        )
        peak = max(b.count for b in stats.histogram)
        for b in stats.histogram:
            bar = "#" * max(1 if b.count else 0, round(30 * b.count / peak))
            console.print(f"  {b.low_ms:8.2f}-{b.high_ms:8.2f} ms {b.count:4d} {bar}")
