"""`cardcheck check`: the one-shot hardware verdict (service, reader, card, ATR, fit, latency).

Its options are declared in :data:`cardcheck.clispec.CHECK`. Free of typer.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up

if TYPE_CHECKING:
    from pathlib import Path


def check(
    reader: str | None = None,
    json_output: bool = False,
    apdu: str | None = None,
    count: int = 20,
    strict: bool = False,
    db: Path | None = None,
) -> int:
    """Run ``cardcheck check`` (see :data:`cardcheck.clispec.CHECK`); returns the exit code."""
    import sys

    from cardcheck.checkrun import DEFAULT_APDU, CheckOptions, run_check
    from cardcheck.pcsc.apdus import check_apdu, parse_apdu_text
    from cardcheck.render.check import print_progress, render_check
    from cardcheck.render.pipes import stdout_may_close

    command = DEFAULT_APDU
    if apdu is not None:
        # Refused here, before any PC/SC call: only the read-only allowlist may reach a card.
        command = check_apdu(parse_apdu_text(apdu)).raw
    options = CheckOptions(reader=reader, apdu=command, count=count, db_path=db)
    report = run_check(options, progress=print_progress(sys.stderr))
    with stdout_may_close():
        if json_output:
            import json

            sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            render_check(report)
    return report.exit_code(strict=strict)
