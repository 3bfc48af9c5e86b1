"""The typer commands: usage errors, and every call the typer-free start-up path hands over.

Each command below is an ordinary typer function whose parameters come from their one
declaration in :mod:`cardcheck.clispec` (``typer_option(ATR, "file")``); its body checks what
typer leaves to it and calls the same typer-free function the start-up path
(:mod:`cardcheck.fastpath`) calls. Help and usage lines are printed from the declarations by
:mod:`cardcheck.helptext` on both paths. Every :class:`CardcheckError` becomes its exit code in
:func:`run`. ``tests/test_clispec.py`` checks that these parameters are exactly the declared ones.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from typer import _click
from typer.core import TyperCommand, TyperGroup

from cardcheck import clispec, options
from cardcheck.clispec import (
    ATR,
    CHECK,
    COMPAT,
    DB_INFO,
    DB_SEARCH,
    DB_UPDATE,
    DOCTOR,
    READERS,
    WATCH,
    Command,
    argument_of,
    option_of,
)
from cardcheck.errors import CardcheckError, ExitCode, caused_by
from cardcheck.helptext import render_help, usage
from cardcheck.render.error import report_error


def _spec(ctx: _click.Context) -> Command | clispec.Group:
    spec = clispec.lookup(ctx.command_path.split()[1:])
    assert spec is not None, ctx.command_path
    return spec


class SpecCommand(TyperCommand):
    """A typer command whose help and usage line come from its declaration."""

    def get_help(self, ctx: _click.Context) -> str:
        return render_help(_spec(ctx)).rstrip("\n")

    def get_usage(self, ctx: _click.Context) -> str:
        return usage(_spec(ctx))


class SpecGroup(TyperGroup):
    """A typer group whose help and usage line come from its declaration."""

    def get_help(self, ctx: _click.Context) -> str:
        return render_help(_spec(ctx)).rstrip("\n")

    def get_usage(self, ctx: _click.Context) -> str:
        return usage(_spec(ctx))


def typer_option(spec: Command | clispec.Option, name: str = "") -> Any:
    """The ``typer.Option`` of the option ``name`` of ``spec`` (or of the option ``spec``)."""
    option = spec if isinstance(spec, clispec.Option) else option_of(spec, name)
    if option.check is not None:
        # Read and checked by the option's validator in cardcheck.options (as on the
        # start-up path): NaN, infinities, out of range and not a number are usage errors.
        return typer.Option(
            *option.flags,
            metavar=option.metavar,
            help=option.help,
            show_default=False,
            parser=options.for_click(getattr(options, option.check)),
        )
    return typer.Option(*option.flags, metavar=option.metavar, help=option.help, show_default=False)


def typer_argument(spec: Command, name: str) -> Any:
    """The ``typer.Argument`` of the argument ``name`` of ``spec``."""
    argument = argument_of(spec, name)
    return typer.Argument(metavar=argument.metavar, help=argument.help, show_default=False)


def _exit(code: int) -> None:
    if code:
        raise typer.Exit(code)


app = typer.Typer(
    name="cardcheck",
    cls=SpecGroup,
    help=clispec.CARDCHECK.help,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": list(clispec.HELP.flags)},
)

db_app = typer.Typer(
    cls=SpecGroup,
    help=clispec.DB_GROUP.help,
    rich_markup_mode=None,
    no_args_is_help=True,
    add_completion=False,
)
app.add_typer(db_app, name="db")


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
    """Smart-card reader diagnostics (the help shown is clispec.CARDCHECK's)."""


@app.command("atr", cls=SpecCommand, help=ATR.help)
def atr_command(
    ctx: typer.Context,
    atr: Annotated[list[str] | None, typer_argument(ATR, "atr")] = None,
    file: Annotated[str | None, typer_option(ATR, "file")] = None,
    json_output: Annotated[bool, typer_option(ATR, "json_output")] = False,
    clock: Annotated[float | None, typer_option(ATR, "clock")] = None,
    db: Annotated[Path | None, typer_option(ATR, "db")] = None,
    no_db: Annotated[bool, typer_option(ATR, "no_db")] = False,
    jobs: Annotated[int | None, typer_option(ATR, "jobs")] = None,
) -> None:
    from cardcheck.commands.atr import atr as run

    if not atr and file is None:
        ctx.fail(argument_of(ATR, "atr").missing or "")
    _exit(
        run(atr=atr, file=file, json_output=json_output, clock=clock, db=db, no_db=no_db, jobs=jobs)
    )


@app.command("check", cls=SpecCommand, help=CHECK.help)
def check_command(
    reader: Annotated[str | None, typer_option(CHECK, "reader")] = None,
    json_output: Annotated[bool, typer_option(CHECK, "json_output")] = False,
    apdu: Annotated[str | None, typer_option(CHECK, "apdu")] = None,
    count: Annotated[int, typer_option(CHECK, "count")] = 20,
    strict: Annotated[bool, typer_option(CHECK, "strict")] = False,
    db: Annotated[Path | None, typer_option(CHECK, "db")] = None,
) -> None:
    from cardcheck.commands.check import check as run

    _exit(run(reader=reader, json_output=json_output, apdu=apdu, count=count, strict=strict, db=db))


@app.command("compat", cls=SpecCommand, help=COMPAT.help)
def compat_command(
    ctx: typer.Context,
    atr: Annotated[list[str] | None, typer_argument(COMPAT, "atr")] = None,
    descriptor: Annotated[str | None, typer_option(COMPAT, "descriptor")] = None,
    clock: Annotated[float | None, typer_option(COMPAT, "clock")] = None,
    max_rate: Annotated[int | None, typer_option(COMPAT, "max_rate")] = None,
    voltages: Annotated[str | None, typer_option(COMPAT, "voltages")] = None,
    protocols: Annotated[str | None, typer_option(COMPAT, "protocols")] = None,
    data_rates: Annotated[str | None, typer_option(COMPAT, "data_rates")] = None,
    json_output: Annotated[bool, typer_option(COMPAT, "json_output")] = False,
) -> None:
    from cardcheck.commands.compat import compat as run

    if not atr:
        ctx.fail(argument_of(COMPAT, "atr").missing or "")
    _exit(
        run(
            atr=atr,
            descriptor=descriptor,
            clock=clock,
            max_rate=max_rate,
            voltages=voltages,
            protocols=protocols,
            data_rates=data_rates,
            json_output=json_output,
        )
    )


@app.command("doctor", cls=SpecCommand, help=DOCTOR.help)
def doctor_command(
    json_output: Annotated[bool, typer_option(DOCTOR, "json_output")] = False,
    root: Annotated[Path, typer_option(DOCTOR, "root")] = "/",  # type: ignore[assignment]
    ccid_list: Annotated[Path | None, typer_option(DOCTOR, "ccid_list")] = None,
) -> None:
    from cardcheck.commands.doctor import doctor as run

    _exit(run(json_output=json_output, root=root, ccid_list=ccid_list))


@app.command("readers", cls=SpecCommand, help=READERS.help)
def readers_command(
    json_output: Annotated[bool, typer_option(READERS, "json_output")] = False,
    db: Annotated[Path | None, typer_option(READERS, "db")] = None,
) -> None:
    from cardcheck.commands.readers import readers as run

    run(json_output=json_output, db=db)


@app.command("watch", cls=SpecCommand, help=WATCH.help)
def watch_command(
    json_output: Annotated[bool, typer_option(WATCH, "json_output")] = False,
    reader: Annotated[str | None, typer_option(WATCH, "reader")] = None,
    timeout: Annotated[float | None, typer_option(WATCH, "timeout")] = None,
    count: Annotated[int | None, typer_option(WATCH, "count")] = None,
    db: Annotated[Path | None, typer_option(WATCH, "db")] = None,
) -> None:
    from cardcheck.commands.watch import watch as run

    run(json_output=json_output, reader=reader, timeout=timeout, count=count, db=db)


@db_app.command("info", cls=SpecCommand, help=DB_INFO.help)
def db_info_command(
    json_output: Annotated[bool, typer_option(DB_INFO, "json_output")] = False,
    db: Annotated[Path | None, typer_option(DB_INFO, "db")] = None,
) -> None:
    from cardcheck.commands.db import info as run

    run(json_output=json_output, db=db)


@db_app.command("search", cls=SpecCommand, help=DB_SEARCH.help)
def db_search_command(
    text: Annotated[str, typer_argument(DB_SEARCH, "text")],
    json_output: Annotated[bool, typer_option(DB_SEARCH, "json_output")] = False,
    db: Annotated[Path | None, typer_option(DB_SEARCH, "db")] = None,
) -> None:
    from cardcheck.commands.db import search as run

    run(text=text, json_output=json_output, db=db)


@db_app.command("update", cls=SpecCommand, help=DB_UPDATE.help)
def db_update_command(
    url: Annotated[str | None, typer_option(DB_UPDATE, "url")] = None,
    from_file: Annotated[Path | None, typer_option(DB_UPDATE, "from_file")] = None,
    force: Annotated[bool, typer_option(DB_UPDATE, "force")] = False,
    timeout: Annotated[float, typer_option(DB_UPDATE, "timeout")] = 30.0,
    json_output: Annotated[bool, typer_option(DB_UPDATE, "json_output")] = False,
) -> None:
    from cardcheck.commands.db import update as run

    run(url=url, from_file=from_file, force=force, timeout=timeout, json_output=json_output)


def run(argv: list[str]) -> int:
    """Run the CLI on ``argv`` and return the exit code (documented in the README).

    typer (click) runs in non-standalone mode, so that its usage errors (exit 2) are shown
    here and an error writing the output reaches this function instead of typer's own exit 1.
    Every :class:`CardcheckError` is turned into a message, a hint and its exit code here; an
    output that cannot be written (full disk: exit 3; a closed pipe, including
    :class:`~cardcheck.errors.OutputClosed` from rich: quiet, the command's code) is handled
    by :func:`~cardcheck.render.error.output_failed`, as on the start-up path
    (:mod:`cardcheck.fastpath`).
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
            if caused_by(exc, KeyboardInterrupt):
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
