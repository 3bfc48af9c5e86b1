"""`cardcheck atr`: decode, explain and identify ATRs given on the command line or in a file.

Its arguments and options are declared in :data:`cardcheck.clispec.ATR`; the work is done by
:func:`cardcheck.commands.atr_run.run_atr`. Free of typer.
"""

from __future__ import annotations

from cardcheck.commands.atr_run import run_atr

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up

if TYPE_CHECKING:
    from pathlib import Path


def atr(
    atr: list[str] | None = None,
    file: str | None = None,
    json_output: bool = False,
    clock: float | None = None,
    db: Path | None = None,
    no_db: bool = False,
    jobs: int | None = None,
) -> int:
    """Run ``cardcheck atr`` (see :data:`cardcheck.clispec.ATR`); returns the exit code."""
    return run_atr(
        atr,
        file,
        json_output=json_output,
        clock_mhz=clock,
        db_path=db,
        use_db=not no_db,
        jobs=jobs,
    )
