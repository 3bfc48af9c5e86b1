"""`cardcheck db info|search|update`: the ATR list in use, searching it, updating it.

Their arguments and options are declared in :mod:`cardcheck.clispec` (``DB_INFO``,
``DB_SEARCH``, ``DB_UPDATE``). Free of typer.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up

if TYPE_CHECKING:
    from pathlib import Path


def info(json_output: bool = False, db: Path | None = None) -> None:
    """Which ATR list is in use and why, its date, entries, index; the files skipped and why."""
    from cardcheck.db import open_database
    from cardcheck.render.db import DbFormat, render_info
    from cardcheck.render.error import print_warnings

    database = open_database(db)
    print_warnings(database.warnings)
    render_info(database.info(), DbFormat.JSON if json_output else DbFormat.HUMAN)


def search(text: str, json_output: bool = False, db: Path | None = None) -> None:
    """Find entries whose description mentions TEXT (case-insensitive)."""
    from cardcheck.db import open_database
    from cardcheck.errors import InputError
    from cardcheck.render.db import DbFormat, render_search
    from cardcheck.render.error import print_warnings

    if not text.strip():
        raise InputError(
            "the search text is empty", "give a word, e.g. cardcheck db search yubikey"
        )
    database = open_database(db)
    print_warnings(database.warnings)
    render_search(text, database.search(text), DbFormat.JSON if json_output else DbFormat.HUMAN)


def update(
    url: str | None = None,
    from_file: Path | None = None,
    force: bool = False,
    timeout: float = 30.0,
    json_output: bool = False,
) -> None:
    """Download the public ATR list into cardcheck's cache, check it, and switch to it safely.

    The list in use is never changed unless the new one is complete; the previous copy is
    kept as smartcard_list.txt.bak. Exit code 4 when the update failed.
    """
    from cardcheck.db.update import update_list
    from cardcheck.errors import InputError
    from cardcheck.render.db import DbFormat, download_progress, render_update

    if url is not None and from_file is not None:
        raise InputError("--url and --from cannot be used together", "choose one source")
    with download_progress() as progress:
        result = update_list(
            url=url, from_file=from_file, force=force, timeout=timeout, progress=progress
        )
    render_update(result, DbFormat.JSON if json_output else DbFormat.HUMAN)
