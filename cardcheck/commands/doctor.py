"""`cardcheck doctor`: why PC/SC sees no reader, or cannot use it.

Its options are declared in :data:`cardcheck.clispec.DOCTOR`. Free of typer; pyscard is
imported only when doctor asks PC/SC (:func:`cardcheck.doctor.pcsc_state.survey`).
"""

from __future__ import annotations

from pathlib import Path


def doctor(
    json_output: bool = False,
    root: Path | str = "/",
    ccid_list: Path | None = None,
) -> int:
    """Run ``cardcheck doctor`` (see :data:`cardcheck.clispec.DOCTOR`); returns the exit code."""
    import json
    import sys

    from cardcheck.doctor.collect import collect
    from cardcheck.doctor.diagnose import diagnose
    from cardcheck.doctor.host import Host
    from cardcheck.errors import InputError
    from cardcheck.render.pipes import stdout_may_close

    root = Path(root)
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
    with stdout_may_close():  # `doctor | head` ends quietly with doctor's own code
        if json_output:
            sys.stdout.write(json.dumps(report.to_json(), ensure_ascii=False) + "\n")
            sys.stdout.flush()
        else:
            from cardcheck.render.doctor import render_doctor

            render_doctor(report)
    return report.exit_code()
