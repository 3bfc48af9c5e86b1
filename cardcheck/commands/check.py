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

    from cardcheck.atr.parse_hex import parse_atr_text
    from cardcheck.checkrun import DEFAULT_APDU, CheckOptions, run_check
    from cardcheck.errors import InputError
    from cardcheck.render.check import print_progress, render_check

    command = DEFAULT_APDU
    if apdu is not None:
        command = parse_atr_text([apdu])
        if len(command) < 4:
            raise InputError(
                f"--apdu {apdu!r} is too short for a command APDU (at least CLA INS P1 P2)",
                "give a read-only command in hex, e.g. --apdu '00 A4 00 00 02 3F 00'",
            )
    options = CheckOptions(reader=reader, apdu=command, count=count, db_path=db)
    report = run_check(options, progress=print_progress(sys.stderr))
    if json_output:
        import json

        sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=False) + "\n")
    else:
        render_check(report)
    return report.exit_code(strict=strict)
