"""How a :class:`~cardcheck.errors.CardcheckError` and the warnings about skipped ATR lists are
shown: plain text on stderr.

Plain (no rich, no typing) on purpose: errors are often read in logs and support tickets, and
this is used on the fast start-up path of ``cardcheck atr``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up

if TYPE_CHECKING:
    from typing import TextIO

    from cardcheck.db.records import Candidate
    from cardcheck.errors import CardcheckError


def report_error(err: CardcheckError, stream: TextIO | None = None) -> None:
    """Print ``cardcheck: error: ...`` and each hint line on stderr."""
    out = sys.stderr if stream is None else stream
    print(f"cardcheck: error: {err.message}", file=out)
    if err.hint:
        for line in err.hint.splitlines():
            print(f"  hint: {line}", file=out)


def print_warnings(warnings: Sequence[Candidate], stream: TextIO | None = None) -> None:
    """One ``cardcheck: warning:`` line per skipped file (and its hint) on stderr."""
    out = sys.stderr if stream is None else stream
    for item in warnings:
        print(f"cardcheck: warning: skipped {item.path}: {item.reason}", file=out)
        if item.hint:
            print(f"  hint: {item.hint}", file=out)


def silence_stdout() -> None:
    """Point file descriptor 1 at /dev/null, so that what is still buffered for a reader
    that went away (or a full disk) is dropped quietly at exit instead of raising again."""
    import os

    stream = sys.stdout
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, fd)
    finally:
        os.close(null)


def output_failed(exc: OSError, code: int) -> int | None:
    """The exit code after ``exc`` was raised writing the output of a command whose own exit
    code so far is ``code``; None when ``exc`` is not about the output (the caller re-raises).

    A reader of the output that went away (``| head``: a closed pipe) is not an error: the
    command ends quietly with ``code``. A full disk, a quota, a file too big, an I/O error or
    a closed stdout is an environment error, reported here: exit 3 (the output is incomplete).
    """
    import errno

    if isinstance(exc, BrokenPipeError):
        silence_stdout()
        return code
    known = {errno.ENOSPC, errno.EFBIG, errno.EIO, errno.EBADF, errno.EROFS}
    known.add(getattr(errno, "EDQUOT", errno.ENOSPC))
    if exc.errno not in known:
        return None
    silence_stdout()
    report_output_error(exc.strerror or str(exc))
    return 3


def report_output_error(reason: str) -> None:
    """``cardcheck: error: cannot write the output: <reason>`` and its hint, on stderr."""
    from cardcheck.errors import EnvironmentProblem

    report_error(
        EnvironmentProblem(
            f"cannot write the output: {reason}",
            "the output is incomplete; free some space, or write it somewhere else",
        )
    )
