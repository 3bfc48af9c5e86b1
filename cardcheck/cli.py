"""The command-line interface: the typer app, its commands, and where errors become exit codes.

Each command lives in :mod:`cardcheck.commands` and registers itself on :data:`app` (or
:data:`db_app`). Heavy modules (rich, pyscard) are imported inside the commands that need them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cardcheck import clispec
from cardcheck.errors import CardcheckError, ExitCode
from cardcheck.render.error import report_error

app = typer.Typer(
    name="cardcheck",
    help=(
        "Smart-card reader diagnostics: decode ATRs, identify cards, check readers and clocks.\n\n"
        "cardcheck only powers, resets and reads the ATR of cards, reads reader attributes and "
        "sends a few documented read-only commands. Exit codes: 0 fine, 1 a check failed, "
        "2 usage or input error, 3 environment error (service, reader, card or database missing), "
        "4 an update failed and nothing changed."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

db_app = typer.Typer(
    help="The ATR database: where it comes from, search it, update it.",
    rich_markup_mode=None,
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(db_app, name="db")

DbOption = Annotated[
    Path | None,
    typer.Option(
        "--db",
        metavar="PATH",
        help=clispec.DB_HELP,
    ),
]
"""The ``--db PATH`` option shared by the commands that identify cards."""


def _show_version(value: bool) -> None:
    if value:
        typer.echo(clispec.version_text(), nl=False)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            *clispec.VERSION.flags,
            help=clispec.VERSION.help,
            is_eager=True,
            callback=_show_version,
        ),
    ] = False,
) -> None:
    """Smart-card reader diagnostics (the app's help above is what is shown)."""


def _register_commands() -> None:
    # Importing a command module registers its command(s) on app/db_app.
    from cardcheck.commands import atr, check, compat, db, readers, watch  # noqa: F401


_register_commands()


def run(argv: list[str]) -> int:
    """Run the CLI on ``argv`` and return the exit code (documented in the README).

    typer (click) handles its own usage errors (exit 2) in standalone mode; every
    :class:`CardcheckError` is turned into a message, a hint and its exit code here.
    """
    try:
        app(args=argv, prog_name="cardcheck")
    except SystemExit as ex:
        code = ex.code
        if code is None:
            return int(ExitCode.OK)
        return code if isinstance(code, int) else int(ExitCode.USAGE)
    except CardcheckError as err:
        report_error(err)
        return int(err.exit_code)
    except BrokenPipeError:
        # Whoever read our stdout went away (e.g. `| head`): not an error of ours.
        return int(ExitCode.OK)
    return int(ExitCode.OK)
