"""The records ``cardcheck db info`` and ``cardcheck db search`` report: entries, invalid lines,
the files of the chain, the local additions. Frozen values; ``to_json`` forms are a public contract.

Not needed to identify a card, so not imported on that path (start-up time).
"""

from __future__ import annotations

from cardcheck.db.model import CandidateStatus, IndexState, MatchSource, SourceKind
from cardcheck.values import Value, field

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


class Entry(Value):
    """One entry of a list: an ATR (or an ATR pattern) and the cards it stands for."""

    pattern: str
    """The ATR line as written, e.g. ``3B 8F 80 01 80 4F 0C A0 00 00 03 06 .. 00 01 ..``."""
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


class InvalidEntry(Value):
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


class Candidate(Value):
    """One file of the chain and what became of it."""

    path: str
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


class LocalInfo(Value):
    """The user's own additions file."""

    path: str
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


class DbInfo(Value):
    """Everything ``cardcheck db info`` shows about the list in use."""

    path: str
    """The list in use."""
    kind: SourceKind
    """Why this file: the place of the chain it was found at."""
    modified: float
    """Its modification time (seconds since the epoch)."""
    list_date: str | None
    """The date the list gives itself in a comment (ISO date, else copyright year), or None."""
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
    index_path: str | None
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
