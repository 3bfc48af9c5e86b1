"""Result types of ``cardcheck doctor``: one finding per cause, one report per link of the chain.

Pure values: no I/O, no printing. The JSON form is documented in the README.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from cardcheck.errors import ExitCode
from cardcheck.findings import Severity


class Link(StrEnum):
    """The links of the chain from the PC/SC service to a usable card, in order."""

    SERVICE = "service"
    """Is pcscd installed, running or socket-activated, reachable?"""
    ACCESS = "access"
    """May this process use it (polkit, protocol version, sandbox)?"""
    USB = "usb"
    """USB smart-card devices in sysfs against PC/SC's readers."""
    READERS = "readers"
    """Readers and cards: exclusive holders, transactions, mute cards."""


class LinkStatus(StrEnum):
    """What doctor concluded about one link."""

    OK = "ok"
    WARN = "warn"
    PROBLEM = "problem"
    NOT_CHECKED = "not-checked"


class Verdict(StrEnum):
    """The whole diagnosis."""

    OK = "ok"
    """Nothing wrong was found."""
    PROBLEM = "problem"
    """At least one finding is an error."""
    INCOMPLETE = "incomplete"
    """Nothing wrong was found, but some link could not be looked at."""


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """One cause found: what was seen, why it breaks the chain, what to do."""

    code: str
    """Stable identifier (``socket-missing``, ``kernel-driver-bound``...): part of the JSON."""
    severity: Severity
    """error (breaks the chain), warning (may break it), info (worth knowing)."""
    link: Link
    """The link of the chain it is about."""
    summary: str
    """One sentence: what is wrong."""
    evidence: tuple[str, ...]
    """What was seen, one fact per item (paths, values, errno names, processes)."""
    cause: str
    """Why this breaks (or may break) the chain."""
    fix: tuple[str, ...]
    """What the user can do, commands first; doctor itself never changes anything."""

    def to_json(self) -> dict[str, object]:
        """The JSON form documented in the README."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "link": self.link.value,
            "summary": self.summary,
            "evidence": list(self.evidence),
            "cause": self.cause,
            "fix": list(self.fix),
        }


@dataclass(frozen=True, slots=True)
class LinkReport:
    """What doctor saw on one link and what it concluded."""

    link: Link
    """Which link."""
    status: LinkStatus
    """ok, warn, problem, or not-checked."""
    seen: tuple[str, ...]
    """What was observed, also when all is well (one fact per item)."""
    findings: tuple[Diagnosis, ...]
    """The causes found on this link, worst first."""
    not_checked: str | None = None
    """Why the link (or part of it) could not be looked at; None when it was."""

    def to_json(self) -> dict[str, object]:
        """The JSON form documented in the README."""
        return {
            "id": self.link.value,
            "status": self.status.value,
            "seen": list(self.seen),
            "not_checked": self.not_checked,
            "findings": [f.code for f in self.findings],
        }


_RANK = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.INFO: 2}


def link_report(
    link: Link,
    seen: list[str] | tuple[str, ...],
    findings: list[Diagnosis] | tuple[Diagnosis, ...],
    not_checked: str | None = None,
) -> LinkReport:
    """A link's report with its status derived from its findings (errors first)."""
    ordered = tuple(sorted(findings, key=lambda f: _RANK[f.severity]))
    severities = {f.severity for f in ordered}
    if Severity.ERROR in severities:
        status = LinkStatus.PROBLEM
    elif not_checked is not None:
        status = LinkStatus.NOT_CHECKED
    elif Severity.WARNING in severities:
        status = LinkStatus.WARN
    else:
        status = LinkStatus.OK
    return LinkReport(link, status, tuple(seen), ordered, not_checked)


@dataclass(frozen=True, slots=True)
class DoctorReport:
    """The whole diagnosis: one report per link, in chain order."""

    platform: str
    """``sys.platform`` of the system looked at (``linux``, ``darwin``, ``win32``)."""
    root: str
    """The root the files were read under (``/`` unless told otherwise)."""
    links: tuple[LinkReport, ...]
    """service, access, usb, readers."""

    @property
    def findings(self) -> tuple[Diagnosis, ...]:
        """Every finding, errors first, then in chain order."""
        every = [f for link in self.links for f in link.findings]
        return tuple(sorted(every, key=lambda f: _RANK[f.severity]))

    @property
    def problems(self) -> tuple[Diagnosis, ...]:
        """The error findings: what breaks the chain."""
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def verdict(self) -> Verdict:
        """problem when any error was found; incomplete when a link could not be looked at."""
        if self.problems:
            return Verdict.PROBLEM
        if any(link.not_checked is not None for link in self.links):
            return Verdict.INCOMPLETE
        return Verdict.OK

    def exit_code(self) -> int:
        """0 nothing wrong, 1 a problem found, 3 could not look (README)."""
        return {
            Verdict.OK: int(ExitCode.OK),
            Verdict.PROBLEM: int(ExitCode.FAILED),
            Verdict.INCOMPLETE: int(ExitCode.ENVIRONMENT),
        }[self.verdict]

    def link(self, link: Link) -> LinkReport:
        """The report of one link."""
        return next(r for r in self.links if r.link is link)

    def to_json(self) -> dict[str, object]:
        """The JSON contract of ``cardcheck doctor --json`` (README)."""
        return {
            "verdict": self.verdict.value,
            "platform": self.platform,
            "root": self.root,
            "links": [link.to_json() for link in self.links],
            "findings": [f.to_json() for f in self.findings],
        }
