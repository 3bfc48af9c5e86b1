"""A start-up fast path for the most common call, ``cardcheck atr ATR... [--json]``.

Importing typer (and through it its click core) costs more than decoding and identifying an
ATR. For the plain forms of ``cardcheck atr`` this module reads the few options itself and
calls the same :func:`~cardcheck.commands.atr_run.run_atr` as the typer command. Anything
it does not fully understand (help, an unknown option, a bad value) goes to typer, which
then gives the usual usage message. Set ``CARDCHECK_NO_FASTPATH=1`` to always use typer.
"""

from __future__ import annotations

import os
import sys
import types
from collections.abc import Sequence
from pathlib import Path

_VALUE_OPTIONS = {
    "--db": "db",
    "--file": "file",
    "-f": "file",
    "--clock": "clock",
    "--jobs": "jobs",
}


def _parse(argv: Sequence[str]) -> dict[str, object] | None:
    """The options of a plain ``atr`` call, or None to leave it to typer."""
    opts: dict[str, object] = {"parts": [], "json": False, "no_db": False}
    parts: list[str] = []
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg == "--json":
            opts["json"] = True
        elif arg == "--no-db":
            opts["no_db"] = True
        elif arg in _VALUE_OPTIONS:
            if i + 1 >= len(argv):
                return None
            opts[_VALUE_OPTIONS[arg]] = argv[i + 1]
            i += 1
        elif arg.startswith("--") and "=" in arg and arg.split("=", 1)[0] in _VALUE_OPTIONS:
            name, value = arg.split("=", 1)
            opts[_VALUE_OPTIONS[name]] = value
        elif arg.startswith("-"):
            return None
        else:
            parts.append(arg)
        i += 1
    opts["parts"] = parts
    if not parts and "file" not in opts:
        return None
    return opts


def defer_import(name: str) -> None:
    """Put a stand-in for the top-level module ``name`` into :data:`sys.modules` that imports
    the real module the first time one of its attributes is used, and hands over to it.

    :mod:`dataclasses` imports :mod:`inspect` (about 7 ms with what it pulls in: a seventh of a
    one-ATR call) but uses it only for a class without a docstring, and cardcheck's classes all
    have one. Nothing changes for code that does use the module: the stand-in loads it, puts
    it in its place and passes every attribute lookup on (``tests/test_fastpath.py``).
    """
    if name in sys.modules:
        return

    class Deferred(types.ModuleType):
        def __getattr__(self, attribute: str) -> object:
            module = sys.modules.get(name)
            if module is None or module is self:
                sys.modules.pop(name, None)
                module = __import__(name)
            return getattr(module, attribute)

    sys.modules[name] = Deferred(name)


def try_fast(argv: Sequence[str]) -> int | None:
    """Run ``argv`` if it is a plain ``atr`` call and return its exit code; else None."""
    if not argv or argv[0] != "atr" or os.environ.get("CARDCHECK_NO_FASTPATH"):
        return None
    opts = _parse(argv)
    if opts is None:
        return None
    defer_import("inspect")

    # The same validators as the typer options; a refused value goes to typer for its message.
    from cardcheck import options

    try:
        clock = None if "clock" not in opts else options.clock_mhz(opts["clock"])
        jobs = None if "jobs" not in opts else options.jobs(opts["jobs"])
    except options.OptionValueError:
        return None

    from cardcheck.commands.atr_run import run_atr
    from cardcheck.errors import CardcheckError
    from cardcheck.render.error import output_failed, report_error, report_output_error

    if sys.stdout is None:  # started with stdout closed (`>&-`)
        report_output_error("standard output is closed")
        return 3

    parts = opts["parts"]
    assert isinstance(parts, list)
    db = opts.get("db")
    code = 0
    try:
        try:
            code = run_atr(
                parts,
                None if "file" not in opts else str(opts["file"]),
                json_output=bool(opts["json"]),
                clock_mhz=clock,
                db_path=None if db is None else Path(str(db)),
                use_db=not opts["no_db"],
                jobs=jobs,
            )
        except CardcheckError as err:
            report_error(err)
            code = int(err.exit_code)
        sys.stdout.flush()
    except OSError as exc:  # writing the output: see cardcheck.cli.run
        handled = output_failed(exc, code)
        if handled is None:
            raise
        return handled
    return code
