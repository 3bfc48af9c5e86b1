"""`cardcheck atr`: decode, explain and identify ATRs given on the command line or in a file.

The command's options are made from their one declaration in :mod:`cardcheck.clispec`, which
the start-up path (:mod:`cardcheck.fastpath`) reads too; the work is done by
:func:`cardcheck.commands.atr_run.run_atr`, which both call.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Any

import typer

from cardcheck.cli import app
from cardcheck.clispec import ATR_ARGUMENT_HELP, ATR_ARGUMENT_METAVAR, ATR_OPTIONS, Option
from cardcheck.commands.atr_run import run_atr

_TYPES: dict[str, Any] = {"flag": bool, "str": str | None, "path": Path | None}
_TYPES.update({"float": float | None, "int": int | None})


def _parameter(option: Option) -> inspect.Parameter:
    """The typer parameter of one declared option."""
    info = typer.Option(
        *option.flags,
        metavar=option.metavar,
        help=option.help,
        min=option.low,
        max=option.high,
        show_default=False,
    )
    return inspect.Parameter(
        option.name,
        inspect.Parameter.KEYWORD_ONLY,
        default=False if option.kind == "flag" else None,
        annotation=Annotated[_TYPES[option.kind], info],
    )


def atr(ctx: typer.Context, atr: list[str] | None, **options: Any) -> None:
    """Decode an ATR: structure, protocols, speed and timing, historical bytes, problems,
    and which card it is (public ATR list and your local additions).

    Exit codes: 0 every ATR is valid; 1 an ATR has an error, or a --file line is not hex;
    2 text that is not hex on the command line, or an unreadable file; 3 no ATR list
    (use --no-db, install pcsc-tools or run cardcheck db update).
    """
    if not atr and options["file"] is None:
        ctx.fail("Missing argument 'ATR...': give an ATR, or --file PATH.")
    code = run_atr(
        atr,
        options["file"],
        json_output=options["json_output"],
        clock_mhz=options["clock"],
        db_path=options["db"],
        use_db=not options["no_db"],
        jobs=options["jobs"],
    )
    if code:
        raise typer.Exit(code)


_ARGUMENT = typer.Argument(metavar=ATR_ARGUMENT_METAVAR, help=ATR_ARGUMENT_HELP, show_default=False)
setattr(  # noqa: B010 (typer reads the parameters from the signature)
    atr,
    "__signature__",
    inspect.Signature(
        [
            inspect.Parameter(
                "ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context
            ),
            inspect.Parameter(
                "atr",
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=None,
                annotation=Annotated[list[str] | None, _ARGUMENT],
            ),
            *map(_parameter, ATR_OPTIONS),
        ]
    ),
)
app.command()(atr)
