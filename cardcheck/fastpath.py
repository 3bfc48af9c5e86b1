"""Start-up without typer for ``cardcheck --version`` and the plain forms of ``cardcheck atr``.

Importing typer (its click core with :mod:`inspect`, :mod:`typing`, :mod:`subprocess`, ...)
costs more than decoding and identifying an ATR. These calls are read here against the same
declarations the typer command is made from (:mod:`cardcheck.clispec`), and run the same
:func:`~cardcheck.commands.atr_run.run_atr`. Anything not fully understood (help, an unknown
option, a value out of its limits) goes to typer, which gives the usual usage message. Set
``CARDCHECK_NO_FASTPATH=1`` to always use typer.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up

if TYPE_CHECKING:
    from collections.abc import Sequence

    from cardcheck.clispec import Option


def parse_options(options: Sequence[Option], argv: Sequence[str]) -> dict[str, object] | None:
    """``argv`` read against ``options``: each option's value by its name and the other
    arguments under ``"arguments"``; None for anything typer should look at (an unknown option,
    a missing value, a value that is not a number or is out of its limits)."""
    by_flag = {flag: option for option in options for flag in option.flags}
    values: dict[str, object] = {
        option.name: False if option.kind == "flag" else None for option in options
    }
    arguments: list[str] = []
    items = iter(argv)
    for arg in items:
        option = by_flag.get(arg)
        value: str | None = None
        if option is None and arg.startswith("--") and "=" in arg:
            flag, value = arg.split("=", 1)
            option = by_flag.get(flag)
            if option is None or option.kind == "flag":
                return None
        if option is None:
            if arg.startswith("-") and arg != "-":
                return None
            arguments.append(arg)
            continue
        if option.kind == "flag":
            values[option.name] = True
            continue
        if value is None:
            value = next(items, None)
            if value is None:
                return None
        converted = _convert(option, value)
        if converted is None:
            return None
        values[option.name] = converted
    values["arguments"] = arguments
    return values


def _convert(option: Option, text: str) -> object | None:
    if option.kind == "str":
        return text
    if option.kind == "path":
        from pathlib import Path

        return Path(text)
    number: float
    try:
        number = int(text) if option.kind == "int" else float(text)
    except ValueError:
        return None
    if number != number:  # NaN: not a number at all
        return None
    if option.low is not None and number < option.low:
        return None
    if option.high is not None and number > option.high:
        return None
    return number


def try_fast(argv: Sequence[str]) -> int | None:
    """Run ``argv`` if it is ``--version`` or a plain ``atr`` call and return its exit code;
    None when typer should run it."""
    if not argv or os.environ.get("CARDCHECK_NO_FASTPATH"):
        return None
    from cardcheck import clispec

    if list(argv) == list(clispec.VERSION.flags[:1]):
        sys.stdout.write(clispec.version_text())
        return 0
    if argv[0] != "atr":
        return None
    opts = parse_options(clispec.ATR_OPTIONS, argv[1:])
    if opts is None:
        return None
    parts = opts["arguments"]
    assert isinstance(parts, list)
    if not parts and opts["file"] is None:
        return None  # typer says what is missing

    from cardcheck.commands.atr_run import run_atr
    from cardcheck.errors import CardcheckError
    from cardcheck.render.error import report_error

    try:
        return run_atr(
            parts,
            opts["file"],  # type: ignore[arg-type]
            json_output=bool(opts["json_output"]),
            clock_mhz=opts["clock"],  # type: ignore[arg-type]
            db_path=opts["db"],  # type: ignore[arg-type]
            use_db=not opts["no_db"],
            jobs=opts["jobs"],  # type: ignore[arg-type]
        )
    except CardcheckError as err:
        report_error(err)
        return int(err.exit_code)
    except BrokenPipeError:
        return 0
