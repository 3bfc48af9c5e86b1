"""Output of ``cardcheck doctor``: the verdict, then each link with what was seen and the fixes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cardcheck.doctor.model import LinkStatus, Verdict
from cardcheck.findings import Severity

if TYPE_CHECKING:
    from cardcheck.doctor.model import Diagnosis, DoctorReport

_VERDICT = {
    Verdict.OK: ("bold green", "OK: nothing wrong found"),
    Verdict.PROBLEM: ("bold red", "PROBLEM"),
    Verdict.INCOMPLETE: ("bold yellow", "INCOMPLETE: nothing wrong found, but not everything"),
}
_LINK = {
    LinkStatus.OK: "green",
    LinkStatus.WARN: "yellow",
    LinkStatus.PROBLEM: "bold red",
    LinkStatus.NOT_CHECKED: "dim",
}
_SEVERITY = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _finding(lines: list[str], finding: Diagnosis) -> None:
    from rich.markup import escape

    style = _SEVERITY[finding.severity]
    lines.append(
        f"    [{style}]{finding.severity.value}[/{style}] {escape(finding.summary)} "
        f"[dim]({finding.code})[/dim]"
    )
    for item in finding.evidence:
        lines.append(f"        seen: {escape(item)}")
    lines.append(f"        cause: {escape(finding.cause)}")
    for step in finding.fix:
        first, *rest = step.split("\n")
        lines.append(f"        fix: {escape(first)}")
        lines.extend(f"             {escape(more)}" for more in rest)


def render_doctor(report: DoctorReport) -> None:
    """The human report on stdout: verdict and first cause, then each link."""
    from rich.markup import escape

    from cardcheck.render.console import make_console

    console = make_console()
    style, text = _VERDICT[report.verdict]
    problems = report.problems
    headline = f"[{style}]{text}[/{style}]"
    if problems:
        headline += f": {escape(problems[0].summary)}"
    console.print(headline)
    if problems:
        console.print(f"  cause: {escape(problems[0].cause)}")
        console.print(f"  fix: {escape(problems[0].fix[0].splitlines()[0])}")
    console.print()
    for link in report.links:
        lstyle = _LINK[link.status]
        lines = [f"[bold]{link.link.value}[/bold]: [{lstyle}]{link.status.value}[/{lstyle}]"]
        lines.extend(f"  {escape(item)}" for item in link.seen)
        if link.not_checked:
            lines.append(f"  [dim]not checked: {escape(link.not_checked)}[/dim]")
        for finding in link.findings:
            _finding(lines, finding)
        for line in lines:
            console.print(line, overflow="ignore", crop=False)
        console.print()
    console.print("doctor changed nothing; run the fixes yourself.", style="dim")
