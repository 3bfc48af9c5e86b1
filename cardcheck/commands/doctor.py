"""`cardcheck doctor`: why PC/SC sees no reader, or cannot use it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cardcheck.cli import app


@app.command()
def doctor(
    json_output: Annotated[
        bool, typer.Option("--json", help="One JSON object (documented keys).")
    ] = False,
    root: Annotated[
        Path,
        typer.Option(
            "--root",
            metavar="DIR",
            help="Read sysfs, /proc, /etc, /run and /usr under DIR instead of / (a copied "
            "tree); the socket and PC/SC probes still look at this machine.",
        ),
    ] = Path("/"),
    ccid_list: Annotated[
        Path | None,
        typer.Option(
            "--ccid-list",
            metavar="FILE",
            help="CCID's supported_readers.txt, to tell unsupported or disabled readers "
            "(default: an installed copy, if any).",
        ),
    ] = None,
) -> None:
    """Walk the chain service -> access -> USB devices -> readers and cards, and name the
    cause of each broken link with what to do.

    Reads files and PC/SC state only; the fixes are commands for you to run.

    Exit codes: 0 nothing wrong; 1 a problem found; 2 usage; 3 a link could not be looked
    at (another system than Linux, no sysfs, no pyscard).
    """
    import json
    import sys

    from cardcheck.doctor.collect import collect
    from cardcheck.doctor.diagnose import diagnose
    from cardcheck.doctor.host import Host
    from cardcheck.errors import InputError

    if not root.is_dir():
        raise InputError(
            f"--root {str(root)!r} is not a directory",
            "give the directory that stands for / (it holds sys/, proc/, etc/...)",
        )
    if ccid_list is not None and not ccid_list.is_file():
        raise InputError(
            f"--ccid-list {str(ccid_list)!r} is not a file",
            "give CCID's supported_readers.txt (https://ccid.apdu.fr/)",
        )
    facts = collect(
        Host(root=root), supported_readers=None if ccid_list is None else str(ccid_list)
    )
    report = diagnose(facts)
    if json_output:
        sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=False) + "\n")
    else:
        from cardcheck.render.doctor import render_doctor

        render_doctor(report)
    code = report.exit_code()
    if code:
        raise typer.Exit(code)
