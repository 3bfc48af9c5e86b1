"""A closed standard output (``cardcheck readers | head -1``) ends the output quietly.

The command then goes on to its own exit code instead of a traceback, Python's "Exception
ignored" on exit, or rich's ``SystemExit(1)`` (what rich does when a write meets a closed pipe;
cardcheck's rich consoles raise :class:`~cardcheck.errors.OutputClosed` instead).

Used by the commands whose exit code is only known after their output (readers, check, watch,
doctor); every other output error reaches :func:`cardcheck.render.error.output_failed` in
``cli.run`` and the start-up path, which drops what is left the same way
(:func:`~cardcheck.render.error.silence_stdout`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from cardcheck.errors import caused_by
from cardcheck.render.error import silence_stdout


def _stdout_to_devnull() -> None:
    """Point file descriptor 1 at /dev/null, so that the flush at exit cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        silence_stdout()


@contextlib.contextmanager
def stdout_may_close() -> Iterator[None]:
    """Run the block; if the reader of stdout went away, end the block quietly."""
    try:
        yield
    except BrokenPipeError:
        _stdout_to_devnull()
    except SystemExit as exc:
        if not caused_by(exc, BrokenPipeError):
            raise
        _stdout_to_devnull()  # rich did it already; harmless twice
