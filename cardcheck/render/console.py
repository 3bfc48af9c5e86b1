"""rich consoles for stdout (data) and stderr (progress, warnings, hints).

rich already drops colour when the stream is not a terminal or NO_COLOR is set; this
module is the one place that decision is made, so every renderer behaves the same.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


def make_console(*, stderr: bool = False) -> Console:
    """A console on stdout (or stderr): colour only on a terminal and without NO_COLOR."""
    from rich.console import Console

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            # rich would exit 1; a reader that went away (`| head`) ends the command quietly
            # with its own exit code instead (cardcheck.cli.run).
            from cardcheck.errors import OutputClosed

            self.quiet = True
            raise OutputClosed("the reader of the output went away")

    no_color = bool(os.environ.get("NO_COLOR"))
    return _Console(stderr=stderr, no_color=no_color, highlight=False, soft_wrap=False)
