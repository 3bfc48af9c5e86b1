"""Result types of the ATR database: entries, matches, where the list came from, and its state.

Plain frozen values; the JSON forms (``to_json``) are part of cardcheck's public contract.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path


class MatchSource(StrEnum):
    """Which file an entry (and so a match) comes from."""

    LIST = "smartcard_list"
    """The public list (pcsc-tools' smartcard_list.txt, wherever the chain found it)."""
    LOCAL = "local"
    """The user's own additions, ``$XDG_CONFIG_HOME/cardcheck/local_atrs.txt``."""


class SourceKind(StrEnum):
    """A place in the chain of lists cardcheck looks at, in the order it looks."""

    OPTION = "option"
    """Given with ``--db PATH``."""
    ENVIRONMENT = "environment"
    """Given with the ``CARDCHECK_DB`` environment variable."""
    CARDCHECK_CACHE = "cardcheck-cache"
    """cardcheck's own copy, written only by ``cardcheck db update``."""
    PCSC_USER_CACHE = "pcsc-tools-user-cache"
    """pcsc-tools' per-user copy, ``$XDG_CACHE_HOME/smartcard_list.txt``."""
    PCSC_HOME = "pcsc-tools-home"
    """pcsc-tools' older per-user copy, ``~/.smartcard_list.txt``."""
    SYSTEM = "system"
    """A copy installed with pcsc-tools (Debian, /usr/local, Homebrew)."""
    LOCAL = "local"
    """The user's own additions (not part of the chain: always read as well)."""


SOURCE_KIND_TEXT: dict[SourceKind, str] = {
    SourceKind.OPTION: "given with --db",
    SourceKind.ENVIRONMENT: "given with CARDCHECK_DB",
    SourceKind.CARDCHECK_CACHE: "cardcheck's copy, from `cardcheck db update`",
    SourceKind.PCSC_USER_CACHE: "pcsc-tools' per-user cache",
    SourceKind.PCSC_HOME: "pcsc-tools' per-user copy",
    SourceKind.SYSTEM: "installed with pcsc-tools",
    SourceKind.LOCAL: "your local additions",
}
"""One human phrase per source kind: why that file was looked at."""


class CandidateStatus(StrEnum):
    """What became of one file of the chain."""

    USED = "used"
    """The first valid list: the one in use."""
    SKIPPED = "skipped"
    """Present but not valid (empty, unreadable, not a list): a warning says why."""
    MISSING = "missing"
    """Not there."""
    NOT_TRIED = "not-tried"
    """Comes after the list in use, so it was not looked at."""


class IndexState(StrEnum):
    """Where the lookup index of the list in use came from."""

    CACHED = "cached"
    """Loaded from the on-disk cache: the list has not changed since it was built."""
    BUILT = "built"
    """Built now (first use, or the list changed) and saved to the on-disk cache."""
    MEMORY_ONLY = "memory-only"
    """Built now, but the cache could not be written: it will be built again next time."""


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of a list: an ATR (or an ATR pattern) and the cards it stands for."""

    pattern: str
    """The ATR line as written, e.g. ``3B 8F 80 01 80 4F 0C A0 00 00 03 06 .. 00 .. 00 00 00 00 ..``."""
    descriptions: tuple[str, ...]
    """The description lines, without their leading TAB."""
    is_pattern: bool
    """True when the line is a regular expression, False for a literal ATR."""
    source: MatchSource
    """The file the entry comes from."""
    line: int = field(compare=False)
    """1-based line number of the ATR line in its file."""

    def to_json(self) -> dict[str, object]:
        """The JSON form: pattern, is_pattern, descriptions, source, line."""
        return {
            "pattern": self.pattern,
            "is_pattern": self.is_pattern,
            "descriptions": list(self.descriptions),
            "source": self.source.value,
            "line": self.line,
        }


@dataclass(frozen=True, slots=True)
class Match:
    """One entry that matches an ATR, as ATR_analysis would report it."""

    pattern: str
    """The entry's ATR line as written in its file."""
    exact: bool
    """True when the entry is literally this ATR; False when a pattern matched it."""
    descriptions: tuple[str, ...]
    """The entry's description lines."""
    source: MatchSource
    """The file the entry comes from."""
    line: int = field(compare=False)
    """1-based line number of the entry in its file."""

    def to_json(self) -> dict[str, object]:
        """The JSON form, part of the contract: ``{"pattern", "exact", "descriptions", "source"}``."""
        return {
            "pattern": self.pattern,
            "exact": self.exact,
            "descriptions": list(self.descriptions),
            "source": self.source.value,
        }


@dataclass(frozen=True, slots=True)
class InvalidEntry:
    """An ATR line that is not a usable regular expression: counted and skipped."""

    line: int
    """1-based line number."""
    pattern: str
    """The line as written."""
    reason: str
    """Why it cannot be used (the regular-expression error)."""

    def to_json(self) -> dict[str, object]:
        """The JSON form: line, pattern, reason."""
        return {"line": self.line, "pattern": self.pattern, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class Candidate:
    """One file of the chain and what became of it."""

    path: Path
    """Where cardcheck looked."""
    kind: SourceKind
    """Which place of the chain this is."""
    status: CandidateStatus
    """Used, skipped (with a reason), missing, or not tried."""
    reason: str | None = None
    """Why it was skipped, or None."""
    hint: str | None = None
    """How to fix a skipped file, or None."""

    def to_json(self) -> dict[str, object]:
        """The JSON form: path, kind, status, reason, hint."""
        return {
            "path": str(self.path),
            "kind": self.kind.value,
            "status": self.status.value,
            "reason": self.reason,
            "hint": self.hint,
        }


@dataclass(frozen=True, slots=True)
class LocalInfo:
    """The user's own additions file."""

    path: Path
    """``$XDG_CONFIG_HOME/cardcheck/local_atrs.txt``."""
    exists: bool
    """Whether the file is there."""
    entries: int
    """Usable entries read from it (0 when absent or unusable)."""
    invalid: tuple[InvalidEntry, ...]
    """Its lines that are not usable patterns."""
    problem: str | None
    """Why the whole file was ignored (unreadable, not text), or None."""

    def to_json(self) -> dict[str, object]:
        """The JSON form: path, exists, entries, invalid, problem."""
        return {
            "path": str(self.path),
            "exists": self.exists,
            "entries": self.entries,
            "invalid": [item.to_json() for item in self.invalid],
            "problem": self.problem,
        }


@dataclass(frozen=True, slots=True)
class DbInfo:
    """Everything ``cardcheck db info`` shows about the list in use."""

    path: Path
    """The list in use."""
    kind: SourceKind
    """Why this file: the place of the chain it was found at."""
    modified: float
    """Its modification time (seconds since the epoch)."""
    list_date: str | None
    """The date the list gives itself in a comment (an ISO date, else its copyright year), or None."""
    size: int
    """Its size in bytes."""
    entries: int
    """Usable entries (literal ATRs and patterns)."""
    patterns: int
    """How many of those are regular expressions."""
    invalid: tuple[InvalidEntry, ...]
    """Entries that are not usable regular expressions (skipped)."""
    index_state: IndexState
    """Where the lookup index came from."""
    index_path: Path | None
    """The on-disk index file, or None when none could be written."""
    index_size: int | None
    """Size of the on-disk index file in bytes, or None."""
    chain: tuple[Candidate, ...]
    """Every file of the chain and what became of it, in order."""
    local: LocalInfo
    """The local additions file."""

    def to_json(self) -> dict[str, object]:
        """The JSON form documented in the README (``cardcheck db info --json``)."""
        from datetime import UTC, datetime

        modified = datetime.fromtimestamp(self.modified, tz=UTC).isoformat(timespec="seconds")
        return {
            "path": str(self.path),
            "kind": self.kind.value,
            "why": SOURCE_KIND_TEXT[self.kind],
            "modified": modified,
            "list_date": self.list_date,
            "size": self.size,
            "entries": self.entries,
            "patterns": self.patterns,
            "invalid_entries": len(self.invalid),
            "invalid": [item.to_json() for item in self.invalid],
            "index": {
                "state": self.index_state.value,
                "path": None if self.index_path is None else str(self.index_path),
                "size": self.index_size,
            },
            "skipped": [c.to_json() for c in self.chain if c.status is CandidateStatus.SKIPPED],
            "chain": [c.to_json() for c in self.chain],
            "local": self.local.to_json(),
        }
