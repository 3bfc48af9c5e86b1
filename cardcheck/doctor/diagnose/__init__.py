"""The diagnosis: from the facts to one report per link, each cause with evidence and a fix.

Pure: reads nothing, prints nothing. One module per link (:mod:`.service`, :mod:`.access`,
:mod:`.usb`, :mod:`.readers`), each with its ``report(facts)``; :mod:`.common` holds what they
share. The causes and their signals follow the project's troubleshooting table
(shared/TROUBLESHOOTING.md); the README's "Troubleshooting" section lists every code.
"""

from __future__ import annotations

from cardcheck.doctor.diagnose import access, readers, service, usb
from cardcheck.doctor.facts import Facts
from cardcheck.doctor.model import DoctorReport


def diagnose(facts: Facts) -> DoctorReport:
    """The report: service, access, usb and readers, each with what was seen and the causes."""
    return DoctorReport(
        platform=facts.platform,
        root=facts.root,
        links=(
            service.report(facts),
            access.report(facts),
            usb.report(facts),
            readers.report(facts),
        ),
    )
