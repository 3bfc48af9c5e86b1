"""Findings: what is wrong or worth knowing about an ATR or a card/reader pairing."""

from __future__ import annotations

from enum import StrEnum

from cardcheck.values import Value, field


class Severity(StrEnum):
    """How bad a finding is. An ``error`` makes an ATR invalid or a pairing fail."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class Finding(Value):
    """One problem or remark, with a stable machine-readable code."""

    severity: Severity
    """error, warning or info."""
    code: str
    """Stable identifier, e.g. ``tck-mismatch``; part of the JSON contract."""
    message: str
    """One human sentence saying what was found."""
    offset: int | None = field(default=None, compare=False)
    """Byte offset in the ATR the finding is about, or None when not about one byte."""
    advice: str | None = None
    """What to do about it, or None."""

    def to_json(self) -> dict[str, object]:
        """The JSON form documented in the README."""
        out: dict[str, object] = {
            "severity": self.severity.value,
            "code": self.code,
            "message": self.message,
            "offset": self.offset,
        }
        if self.advice is not None:
            out["advice"] = self.advice
        return out


def has_errors(findings: tuple[Finding, ...] | list[Finding]) -> bool:
    """True when any finding is an error."""
    return any(f.severity is Severity.ERROR for f in findings)
