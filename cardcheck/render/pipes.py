"""A closed standard output (``cardcheck readers | head -1``) ends the output quietly.

The command then goes on to its own exit code instead of a traceback, Python's "Exception
ignored" on exit, or rich's ``SystemExit(1)`` (what rich does when a write meets a closed pipe).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator


def _from_broken_pipe(exc: BaseException) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, BrokenPipeError):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _stdout_to_devnull() -> None:
    """Point file descriptor 1 at /dev/null, so that the flush at exit cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


@contextlib.contextmanager
def stdout_may_close() -> Iterator[None]:
    """Run the block; if the reader of stdout went away, end the block quietly."""
    try:
        yield
    except BrokenPipeError:
        _stdout_to_devnull()
    except SystemExit as exc:
        if not _from_broken_pipe(exc):
            raise
        _stdout_to_devnull()  # rich did it already; harmless twice
