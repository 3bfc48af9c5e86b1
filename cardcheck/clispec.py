"""The options of ``cardcheck atr`` and ``cardcheck --version``, declared once.

Both the typer command (:mod:`cardcheck.commands.atr`, :mod:`cardcheck.cli`) and the start-up
path that runs the plain forms without importing typer (:mod:`cardcheck.fastpath`) are made from
these declarations: the flags, metavars, help texts, value types and limits exist only here.
Pure and import-light.
"""

from __future__ import annotations

from cardcheck.commands.atr_run import DEFAULT_CLOCK_MHZ
from cardcheck.values import Value

DB_HELP = "ATR list to identify cards with (default: the chain, see cardcheck db info)."
"""Help of the ``--db PATH`` option of every command that identifies cards."""


class Option(Value):
    """One option: its parameter name, flags, kind of value, metavar, help and limits."""

    name: str
    """The parameter's name (the keyword of the command function)."""
    flags: tuple[str, ...]
    """``("--file", "-f")``."""
    kind: str
    """``flag`` (no value), ``str``, ``path``, ``float`` or ``int``."""
    metavar: str | None
    """Shown for the value in the help, None for a flag."""
    help: str
    """The help text."""
    low: float | None = None
    """The smallest value allowed (numbers), None for no limit."""
    high: float | None = None
    """The largest value allowed (numbers), None for no limit."""


ATR_ARGUMENT_METAVAR = "ATR..."
ATR_ARGUMENT_HELP = "The ATR in hex, e.g. 3B 02 14 50 (spaces, colons or no separators)."

ATR_OPTIONS: tuple[Option, ...] = (
    Option(
        "file",
        ("--file", "-f"),
        "str",
        "PATH|-",
        "Read ATRs from a file, one per line (# comments, blank lines skipped); "
        "- for standard input.",
    ),
    Option(
        "json_output",
        ("--json",),
        "flag",
        None,
        "One JSON object per ATR, one per line (JSON Lines).",
    ),
    Option(
        "clock",
        ("--clock",),
        "float",
        "MHz",
        "Reader clock for the timing section, in MHz [default: "
        f"{DEFAULT_CLOCK_MHZ}]; with --json, a timing key at that clock.",
        low=0.001,
        high=1000.0,
    ),
    Option("db", ("--db",), "path", "PATH", DB_HELP),
    Option("no_db", ("--no-db",), "flag", None, "Decode only: do not identify the card."),
    Option(
        "jobs",
        ("--jobs",),
        "int",
        "N",
        "Processes for a long --file with --json [default: one per core, "
        "for at least 1500 lines each]. The output is the same.",
        low=1,
    ),
)
"""The options of ``cardcheck atr``, in the order of its help."""

VERSION = Option("version", ("--version",), "flag", None, "Show cardcheck's version and exit.")
"""``cardcheck --version``."""


def version_text() -> str:
    """What ``cardcheck --version`` prints."""
    from cardcheck import __version__

    return f"cardcheck {__version__}\n"
