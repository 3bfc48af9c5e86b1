"""`cardcheck check`: the one-shot hardware verdict (service, reader, card, ATR, fit, latency)."""

from __future__ import annotations

from typing import Annotated

import typer

from cardcheck import options
from cardcheck.cli import DbOption, app


@app.command()
def check(
    reader: Annotated[
        str | None,
        typer.Option(
            "--reader",
            metavar="NAME",
            help="Check this reader (full name or part of it); default: the first holding a card.",
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="One JSON object (documented keys).")
    ] = False,
    apdu: Annotated[
        str | None,
        typer.Option(
            "--apdu",
            metavar="HEX",
            help="Read-only command to time instead of SELECT MF (00 A4 00 00 02 3F 00).",
        ),
    ] = None,
    count: Annotated[
        int,
        typer.Option(
            "--count", parser=options.for_click(options.check_count), help="Latency round trips."
        ),
    ] = 20,
    strict: Annotated[bool, typer.Option("--strict", help="Exit 1 on warnings too.")] = False,
    db: DbOption = None,
) -> None:
    """Check a reader and its card end to end, with a verdict and advice per stage.

    Stages: service, readers, card, atr, identify, reader-capabilities, compatibility,
    protocol, warm-reset, latency. Progress goes to stderr.

    Exit codes: 0 pass or warn (1 for warn with --strict); 1 fail; 2 usage; 3 environment
    (no PC/SC service, no reader, no card, card removed during the check).
    """
    import sys

    from cardcheck.atr.parse_hex import parse_atr_text
    from cardcheck.checkrun import DEFAULT_APDU, CheckOptions, run_check
    from cardcheck.errors import InputError
    from cardcheck.render.check import print_progress, render_check

    command = DEFAULT_APDU
    if apdu is not None:
        command = parse_atr_text([apdu], what="APDU")
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
    code = report.exit_code(strict=strict)
    if code:
        raise typer.Exit(code)
