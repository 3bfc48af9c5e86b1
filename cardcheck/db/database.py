"""The ATR database in use: the public list found by the chain, plus the user's local additions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from cardcheck.db.index import ListIndex, atr_text
from cardcheck.db.model import (
    Candidate,
    DbInfo,
    Entry,
    IndexState,
    LocalInfo,
    Match,
    MatchSource,
    SourceKind,
)


class Database:
    """An opened ATR database. Build it with :func:`cardcheck.db.open_database`."""

    __slots__ = (
        "chain",
        "index",
        "index_path",
        "index_state",
        "kind",
        "local",
        "local_index",
        "modified",
        "path",
        "size",
        "warnings",
    )

    def __init__(
        self,
        *,
        path: Path,
        kind: SourceKind,
        size: int,
        modified: float,
        index: ListIndex,
        index_state: IndexState,
        index_path: Path | None,
        chain: tuple[Candidate, ...],
        local: LocalInfo,
        local_index: ListIndex | None,
        warnings: tuple[Candidate, ...],
    ) -> None:
        self.path = path
        """The public list in use."""
        self.kind = kind
        """Where in the chain it was found."""
        self.size = size
        """Its size in bytes."""
        self.modified = modified
        """Its modification time (seconds since the epoch)."""
        self.index = index
        """Its lookup index."""
        self.index_state = index_state
        """Whether the index was loaded from the cache, built and saved, or built in memory only."""
        self.index_path = index_path
        """The on-disk index file, or None."""
        self.chain = chain
        """Every file of the chain and what became of it."""
        self.local = local
        """The local additions file and its state."""
        self.local_index = local_index
        """The local additions, indexed, or None when there are none."""
        self.warnings = warnings
        """Files (or lines of the local additions) that were skipped, with why and how to fix it.

        Pure code never prints: commands show these on stderr."""

    def _sources(self) -> Iterator[tuple[ListIndex, MatchSource]]:
        yield self.index, MatchSource.LIST
        if self.local_index is not None:
            yield self.local_index, MatchSource.LOCAL

    def identify(self, atr: bytes) -> tuple[Match, ...]:
        """Every entry matching ``atr``, as ATR_analysis finds them: the list's in file order,
        then the local additions' (``()`` when the card is unknown)."""
        text = atr_text(atr)
        found: list[Match] = []
        for index, source in self._sources():
            for number in index.lookup(text):
                pattern = index.patterns[number]
                found.append(
                    Match(
                        pattern=pattern,
                        exact=not index.is_pattern[number],
                        descriptions=index.descriptions(number),
                        source=source,
                        line=index.lines[number],
                    )
                )
        return tuple(found)

    def _entry(self, index: ListIndex, source: MatchSource, number: int) -> Entry:
        return Entry(
            pattern=index.patterns[number],
            descriptions=index.descriptions(number),
            is_pattern=index.is_pattern[number],
            source=source,
            line=index.lines[number],
        )

    def search(self, text: str) -> tuple[Entry, ...]:
        """Entries with ``text`` in one of their descriptions (case-insensitive), in file order."""
        return tuple(
            self._entry(index, source, number)
            for index, source in self._sources()
            for number in index.search(text)
        )

    def entries(self) -> Iterator[Entry]:
        """Every usable entry: the list's, then the local additions'."""
        for index, source in self._sources():
            for number in range(len(index)):
                yield self._entry(index, source, number)

    def info(self) -> DbInfo:
        """What ``cardcheck db info`` shows."""
        index_size: int | None = None
        if self.index_path is not None:
            try:
                index_size = self.index_path.stat().st_size
            except OSError:
                index_size = None
        return DbInfo(
            path=self.path,
            kind=self.kind,
            modified=self.modified,
            list_date=self.index.list_date,
            size=self.size,
            entries=len(self.index),
            patterns=self.index.pattern_count,
            invalid=self.index.invalid,
            index_state=self.index_state,
            index_path=self.index_path,
            index_size=index_size,
            chain=self.chain,
            local=self.local,
        )
