"""`cardcheck db info|search|update`: the ATR list in use, searching it, updating it."""

from __future__ import annotations

from pathlib import Path

import typer

from cardcheck import options
from cardcheck.cli import db_app

DB_OPTION_HELP = (
    "Use this smartcard_list.txt instead of looking along the chain (also: CARDCHECK_DB)."
)


@db_app.command("info")
def info(
    json_output: bool = typer.Option(False, "--json", help="Print JSON (documented keys)."),
    db: Path | None = typer.Option(None, "--db", metavar="PATH", help=DB_OPTION_HELP),
) -> None:
    """Which ATR list is in use and why, its date, entries, index; the files skipped and why."""
    from cardcheck.db import open_database
    from cardcheck.render.db import DbFormat, render_info
    from cardcheck.render.error import print_warnings

    database = open_database(db)
    print_warnings(database.warnings)
    render_info(database.info(), DbFormat.JSON if json_output else DbFormat.HUMAN)


@db_app.command("search")
def search(
    text: str = typer.Argument(
        ..., metavar="TEXT", help="Text to find in card descriptions, e.g. yubikey."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print JSON (documented keys)."),
    db: Path | None = typer.Option(None, "--db", metavar="PATH", help=DB_OPTION_HELP),
) -> None:
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


@db_app.command("update")
def update(
    url: str | None = typer.Option(
        None, "--url", help="Download from this URL (default: pcsc-tools' published list)."
    ),
    from_file: Path | None = typer.Option(
        None, "--from", metavar="FILE", help="Install this file instead of downloading."
    ),
    force: bool = typer.Option(
        False, "--force", help="Install even a list much smaller than the one in use."
    ),
    timeout: float = typer.Option(
        30.0,
        "--timeout",
        metavar="SECONDS",
        parser=options.for_click(options.timeout_seconds),
        help="Most seconds the whole update may take (connecting and downloading).",
    ),
    json_output: bool = typer.Option(
        False, "--json", help="Print what was installed as JSON (errors still go to stderr)."
    ),
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
