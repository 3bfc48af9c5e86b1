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
