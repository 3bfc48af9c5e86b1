"""The command-line interface: the typer app, its commands, and where errors become exit codes.

Each command lives in :mod:`cardcheck.commands` and registers itself on :data:`app` (or
:data:`db_app`). Heavy modules (rich, pyscard) are imported inside the commands that need them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
        help="ATR list to identify cards with (default: the chain, see cardcheck db info).",
    ),
]
"""The ``--db PATH`` option shared by the commands that identify cards."""


def _register_commands() -> None:
    # Importing a command module registers its command(s) on app/db_app.
    from cardcheck.commands import atr, check, compat, db, doctor, readers, watch  # noqa: F401


_register_commands()


def run(argv: list[str]) -> int:
    """Run the CLI on ``argv`` and return the exit code (documented in the README).

    typer (click) runs in non-standalone mode, so that its usage errors (exit 2) are shown
    here and an error writing the output reaches this function instead of typer's own exit 1.
    Every :class:`CardcheckError` is turned into a message, a hint and its exit code here; an
    output that cannot be written (full disk: exit 3; a closed pipe, including
    :class:`~cardcheck.errors.OutputClosed` from rich: quiet, the command's code) is handled
    by :func:`~cardcheck.render.error.output_failed`.
    """
    import sys

    from cardcheck.render.error import output_failed, report_output_error

    if sys.stdout is None:  # started with stdout closed (`>&-`)
        report_output_error("standard output is closed")
        return int(ExitCode.ENVIRONMENT)
    code = int(ExitCode.OK)
    try:
        try:
            result = app(args=argv, prog_name="cardcheck", standalone_mode=False)
            code = result if isinstance(result, int) else int(ExitCode.OK)
            if code == ExitCode.INTERRUPTED:
                # typer turns Ctrl-C inside a command into Exit(130), returned here: let
                # __main__ say "interrupted", as for Ctrl-C anywhere else.
                raise KeyboardInterrupt
        except CardcheckError as err:
            code = int(err.exit_code)
            report_error(err)
        except SystemExit as exc:
            if type(sys.stdout).__name__ == "PacifyFlushWrapper":
                # typer met a closed pipe itself (it then wraps stdout and exits 1): the same
                # quiet end as any closed pipe, not a failure.
                raise BrokenPipeError(32, "Broken pipe") from None
            code = exc.code if isinstance(exc.code, int) else int(ExitCode.USAGE)
        except typer.Abort as exc:
            if _interrupted(exc):
                raise KeyboardInterrupt from None
            sys.stderr.write("Aborted!\n")
            code = int(ExitCode.FAILED)
        except Exception as exc:
            # click's usage errors (ClickException: bad option, missing argument): shown as
            # click shows them in standalone mode, with their exit code (2).
            show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
            if isinstance(exc, OSError) or not callable(show) or not isinstance(exit_code, int):
                raise
            show()
            code = exit_code
        sys.stdout.flush()
    except OSError as exc:
        handled = output_failed(exc, code)
        if handled is None:
            raise
        return handled
    return code


def _interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` was caused (directly or through its chain) by a KeyboardInterrupt."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
