"""The one exception family of cardcheck and the documented process exit codes.

Every module raises a subclass of :class:`CardcheckError`; the CLI catches only that base
and turns it into a message, a hint and an exit code. Anything else is a bug.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes, documented in the README."""

    OK = 0
    """Everything checked is fine (or only warnings, without --strict)."""
    FAILED = 1
    """A checked thing failed: an ATR with an error finding, a failing check."""
    USAGE = 2
    """Usage or input error: bad option, text that is not hex, unreadable input file."""
    ENVIRONMENT = 3
    """Environment error: PC/SC service, reader, card or ATR database missing."""
    UPDATE_FAILED = 4
    """A database update failed; nothing was changed."""
    INTERRUPTED = 130
    """Stopped by Ctrl-C (SIGINT): 128 + 2, as shells report it."""


class CardcheckError(Exception):
    """Base of every error cardcheck reports to the user: a message, a hint and an exit code."""

    exit_code: ExitCode = ExitCode.ENVIRONMENT
    code: str = "error"

    def __init__(self, message: str, hint: str | None = None, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        """What is wrong, in one sentence."""
        self.hint = hint
        """What to do about it, or None."""
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class InputError(CardcheckError):
    """The user's input (arguments, files) is not usable."""

    exit_code = ExitCode.USAGE
    code = "input-error"


class EnvironmentProblem(CardcheckError):
    """Something outside cardcheck is missing: PC/SC service, reader, card, ATR database."""

    exit_code = ExitCode.ENVIRONMENT
    code = "environment"


class UpdateFailed(CardcheckError):
    """A database update failed; the database in use was left untouched."""

    exit_code = ExitCode.UPDATE_FAILED
    code = "update-failed"


class OutputClosed(BrokenPipeError):
    """Whoever read cardcheck's output went away (``| head``) while rich was writing: not an
    error to report, the command ends quietly with its own exit code.

    Raised by the console instead of rich's ``SystemExit(1)``. It is a BrokenPipeError (so
    every ``except BrokenPipeError`` treats it as one) without an errno, so that typer does not
    turn it into its own exit 1 on the way out (``cardcheck.cli.run`` handles it).
    """


def caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether ``exc``, or an exception in its chain (cause or context), is a ``kind``: typer
    and rich turn Ctrl-C and a closed pipe into exits of their own, with the original chained."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False
