"""`cardcheck atr`: decode, explain and identify ATRs given on the command line or in a file.

Only typer is imported here; the work is done by :func:`cardcheck.commands.atr_run.run_atr`,
which the start-up fast path (:mod:`cardcheck.fastpath`) calls too.
"""

from __future__ import annotations

from typing import Annotated

import typer

from cardcheck import options
from cardcheck.cli import DbOption, app
from cardcheck.commands.atr_run import DEFAULT_CLOCK_MHZ, run_atr


@app.command()
def atr(
    ctx: typer.Context,
    atr: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="ATR...",
            help="The ATR in hex, e.g. 3B 02 14 50 (spaces, colons or no separators).",
            show_default=False,
        ),
    ] = None,
    file: Annotated[
        str | None,
        typer.Option(
            "--file",
            "-f",
            metavar="PATH|-",
            help="Read ATRs from a file, one per line (# comments, blank lines skipped); "
            "- for standard input.",
        ),
    ] = None,
    json_output: Annotated[
        bool,
        typer.Option("--json", help="One JSON object per ATR, one per line (JSON Lines)."),
    ] = False,
    clock: Annotated[
        float | None,
        typer.Option(
            "--clock",
            metavar="MHz",
            parser=options.for_click(options.clock_mhz),
            help="Reader clock for the timing section, in MHz [default: "
            f"{DEFAULT_CLOCK_MHZ}]; with --json, a timing key at that clock.",
            show_default=False,
        ),
    ] = None,
    db: DbOption = None,
    no_db: Annotated[
        bool,
        typer.Option("--no-db", help="Decode only: do not identify the card."),
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            metavar="N",
            parser=options.for_click(options.jobs),
            help="Processes for a long --file with --json [default: one per core, "
            "for at least 1500 lines each; never more than the cores or the lines]. "
            "The output is the same.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Decode an ATR: structure, protocols, speed and timing, historical bytes, problems,
    and which card it is (public ATR list and your local additions).

    Exit codes: 0 every ATR is valid; 1 an ATR has an error, or a --file line is not hex;
    2 text that is not hex on the command line, or an unreadable file; 3 no ATR list
    (use --no-db, install pcsc-tools or run cardcheck db update).
    """
    if not atr and file is None:
        ctx.fail("Missing argument 'ATR...': give an ATR, or --file PATH.")
    code = run_atr(
        atr,
        file,
        json_output=json_output,
        clock_mhz=clock,
        db_path=db,
        use_db=not no_db,
        jobs=jobs,
    )
    if code:
        raise typer.Exit(code)
