"""What the links' diagnoses share: PC/SC codes, severities, the polkit rule, and the
constructor of a :class:`~cardcheck.doctor.model.Diagnosis`."""

from __future__ import annotations

from cardcheck.doctor.model import Diagnosis, Link
from cardcheck.findings import Severity

ERROR, WARNING = Severity.ERROR, Severity.WARNING

NO_SERVICE = 0x8010001D
SERVICE_STOPPED = 0x8010001E
COMM_ERROR = 0x80100013
SECURITY_VIOLATION = 0x8010006A
NFC_DRIVERS = frozenset({"pn533_usb", "pn533", "port100", "nfc"})
"""Kernel drivers that take NFC readers (ACR122U and friends) away from pcscd."""

POLKIT_RULE = (
    "sudo tee /etc/polkit-1/rules.d/60-pcsc.rules <<'EOF'\n"
    "polkit.addRule(function(action, subject) {\n"
    '    if ((action.id == "org.debian.pcsc-lite.access_pcsc" ||\n'
    '         action.id == "org.debian.pcsc-lite.access_card") &&\n'
    '        subject.user == "YOUR-USER") { return polkit.Result.YES; }\n'
    "});\n"
    "EOF"
)
"""A polkit rule letting one user use PC/SC outside an active local session."""


def diagnosis(
    code: str,
    severity: Severity,
    link: Link,
    summary: str,
    evidence: list[str],
    cause: str,
    fix: list[str],
) -> Diagnosis:
    """One cause: what it is, what shows it, why it happens and what to do."""
    return Diagnosis(code, severity, link, summary, tuple(evidence), cause, tuple(fix))


def hex_code(code: int) -> str:
    """A PC/SC return code as PC/SC writes it: ``0x8010001D``."""
    return f"0x{code:08X}"
