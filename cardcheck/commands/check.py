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
            help=(
                "Check this reader: its exact name, or a prefix or part of it that only one "
                "reader has (else exit 2); default: the first reader holding a card."
            ),
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
            help=(
                "Read-only command to time instead of SELECT MF (00 A4 00 00 02 3F 00); only "
                "SELECT, READ BINARY, READ RECORD, GET DATA and GET RESPONSE of class 00-0F "
                "are sent, anything else is refused (exit 2)."
            ),
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

    Exit codes: 0 pass or warn (1 for warn with --strict); 1 fail; 2 usage (an APDU not on
    the read-only allowlist, a --reader that matches no reader or several); 3 environment
    (no PC/SC service, no reader, no card, card removed, or a reader or card that did not
    answer within a few seconds, e.g. held in another program's transaction).
    """
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
    code = report.exit_code(strict=strict)
    if code:
        raise typer.Exit(code)
