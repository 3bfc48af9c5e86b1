"""Test bench parts that need no hardware: a virtual card for vpcd and a pcscd supervisor.

They live in the package (not in tests/) because ``make demo`` and the benchmarks use them too.
Nothing here imports pyscard at module level.
"""

from __future__ import annotations

import subprocess

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Self


class Running:
    """Something the tests and the demo start and stop: ``with Thing() as thing:`` starts it
    and stops it at the end, whatever happens in the block."""

    def start(self) -> Self:
        """Start it and return it."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop what :meth:`start` started (safe to call twice)."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def end_process(process: subprocess.Popen[Any]) -> None:
    """Stop a process started here: SIGTERM, then SIGKILL after 10 s (a no-op once it ended)."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
