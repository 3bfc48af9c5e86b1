"""How a :class:`~cardcheck.errors.CardcheckError` is shown: plain text on stderr.

Plain (no rich) on purpose: errors are often read in logs and support tickets, and this is
used on the fast start-up path of ``cardcheck atr``.
"""

from __future__ import annotations

import sys
from typing import TextIO

from cardcheck.errors import CardcheckError


def report_error(err: CardcheckError, stream: TextIO | None = None) -> None:
    """Print ``cardcheck: error: ...`` and each hint line on stderr."""
    out = sys.stderr if stream is None else stream
    print(f"cardcheck: error: {err.message}", file=out)
    if err.hint:
        for line in err.hint.splitlines():
            print(f"  hint: {line}", file=out)
