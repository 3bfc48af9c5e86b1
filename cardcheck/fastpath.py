"""Start-up without typer: the plain forms of every command, their help, and ``--version``.

Importing typer (its click core with :mod:`inspect`, :mod:`typing`, :mod:`subprocess`, ...)
costs more than most commands take to run. A call is read here against the declarations in
:mod:`cardcheck.clispec` (the same the typer commands are made from) and runs the same
typer-free function (``Command.target``); help is printed by :mod:`cardcheck.helptext`, the one
renderer of help. Anything not fully understood (an unknown option or command, a missing
argument or value, a number its validator in :mod:`cardcheck.options` refuses, ``--``) goes to
typer, which gives the usual usage message (exit 2). Errors writing the output are handled as
on the typer path (:func:`cardcheck.render.error.output_failed`): a closed pipe ends quietly
with the command's code, a full disk or a closed stdout is exit 3. Set
``CARDCHECK_NO_FASTPATH=1`` to always use typer.
"""

from __future__ import annotations

import os
import sys

from cardcheck import clispec

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import TextIO

    from cardcheck.clispec import Command, Group, Option


def parse_options(
    options: Sequence[Option], argv: Sequence[str], *, positional: int | None = None
) -> dict[str, object] | None:
    """``argv`` read against ``options`` (and ``-h``/``--help``): each option's value by its
    name, ``"help"``, and the other arguments under ``"arguments"``; None for anything typer
    should look at (an unknown option, a missing value, a value that is not a number or is out
    of its limits, more than ``positional`` arguments)."""
    by_flag = {flag: option for option in (*options, clispec.HELP) for flag in option.flags}
    values: dict[str, object] = {option.name: option.default for option in options}
    values["help"] = False
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
    if positional is not None and len(arguments) > positional:
        return None
    values["arguments"] = arguments
    return values


def _convert(option: Option, text: str) -> object | None:
    if option.kind == "str":
        return text
    if option.kind == "path":
        from pathlib import Path

        return Path(text)
    from cardcheck.options import OptionValueError

    try:
        return clispec.read_number(option, text)
    except OptionValueError:
        return None  # typer reads it again and gives the validator's message


def command_values(spec: Command, argv: Sequence[str]) -> dict[str, object] | None:
    """The keywords to call ``spec``'s function with (``"help": True`` for its help); None
    when typer should read ``argv``."""
    many = any(argument.many for argument in spec.arguments)
    values = parse_options(spec.options, argv, positional=None if many else len(spec.arguments))
    if values is None or values["help"]:
        return values
    given = values.pop("arguments")
    assert isinstance(given, list)
    del values["help"]
    for argument in spec.arguments:
        if argument.many:
            values[argument.name] = given or None
            if not given and (argument.unless is None or values[argument.unless] is None):
                return None  # typer says what is missing
        elif given:
            values[argument.name] = given.pop(0)
        else:
            return None
    return values


def try_fast(argv: Sequence[str]) -> int | None:
    """Run ``argv`` without typer and return its exit code; None when typer should run it.

    Errors writing the output are handled as on the typer path (:func:`cardcheck.cli.run`):
    a closed pipe ends quietly with the command's code, a full disk or a closed stdout
    (``>&-``) is exit 3.
    """
    if os.environ.get("CARDCHECK_NO_FASTPATH"):
        return None
    action = _plan(argv)
    if action is None:
        return None
    from cardcheck.errors import CardcheckError

    if sys.stdout is None:  # started with stdout closed (`>&-`)
        from cardcheck.render.error import report_output_error

        report_output_error("standard output is closed")
        return 3
    code = 0
    try:
        try:
            code = action()
        except CardcheckError as err:
            from cardcheck.render.error import report_error

            report_error(err)
            code = int(err.exit_code)
        sys.stdout.flush()
    except OSError as exc:  # writing the output
        from cardcheck.render.error import output_failed

        handled = output_failed(exc, code)
        if handled is None:
            raise
        return handled
    return code


def _plan(argv: Sequence[str]) -> Callable[[], int] | None:
    """What running ``argv`` without typer does (a function returning the exit code); None
    when typer should run it."""
    spec: Command | Group = clispec.CARDCHECK
    words = list(argv)
    while isinstance(spec, clispec.Group):
        if not words:  # `cardcheck`, `cardcheck db`: the help, as a usage error
            group = spec
            return lambda: _help(group, sys.stderr, 2)
        if words[0] in clispec.HELP.flags and len(words) == 1:
            shown = spec
            return lambda: _help(shown, sys.stdout, 0)
        if words == list(clispec.VERSION.flags) and spec is clispec.CARDCHECK:
            return _version
        found = clispec.lookup([*spec.path, words[0]])
        if found is None:
            return None
        spec, words = found, words[1:]
    values = command_values(spec, words)
    if values is None:
        return None
    command = spec
    if values.get("help"):
        return lambda: _help(command, sys.stdout, 0)
    return lambda: _run(command, values)


def _version() -> int:
    sys.stdout.write(clispec.version_text())
    return 0


def _help(spec: Command | Group, stream: TextIO, code: int) -> int:
    from cardcheck.helptext import render_help

    stream.write(render_help(spec))
    return code


def _run(spec: Command, values: dict[str, object]) -> int:
    """Call ``spec``'s typer-free function; its CardcheckError and output errors are
    handled by :func:`try_fast`."""
    module, name = spec.target.split(":")
    # __import__ with a fromlist returns the module itself (importlib would add its own
    # package and warnings to every command's start-up).
    function = getattr(__import__(module, fromlist=[name]), name)
    return int(function(**values) or 0)
