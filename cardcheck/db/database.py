"""The ATR database in use: the public list found by the chain, plus the user's local additions."""

from __future__ import annotations

import os
from collections.abc import Iterator

from cardcheck.db.index import ListIndex, atr_text
from cardcheck.db.model import CandidateStatus, IndexState, Match, MatchSource, SourceKind

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up

if TYPE_CHECKING:
    from cardcheck.db.records import Candidate, DbInfo, Entry, LocalInfo

PlaceRecord = tuple[str, SourceKind, CandidateStatus, str | None, str | None]
"""A file of the chain as (path, kind, status, reason, hint): a :class:`Candidate` made lazily."""

LocalRecord = tuple[str, bool, str | None]
"""The local additions file as (path, exists, problem)."""


class Database:
    """An opened ATR database. Build it with :func:`cardcheck.db.open_database`."""

    __slots__ = (
        "_local",
        "_matches",
        "_places",
        "index",
        "index_path",
        "index_state",
        "kind",
        "local_index",
        "modified",
        "path",
        "size",
    )

    def __init__(
        self,
        *,
        path: str,
        kind: SourceKind,
        size: int,
        modified: float,
        index: ListIndex,
        index_state: IndexState,
        index_path: str | None,
        places: tuple[PlaceRecord, ...],
        local: LocalRecord,
        local_index: ListIndex | None,
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
        self._places = places
        self._local = local
        self.local_index = local_index
        """The local additions, indexed, or None when there are none."""
        self._matches: dict[MatchSource, dict[int, Match]] = {source: {} for source in MatchSource}

    @property
    def chain(self) -> tuple[Candidate, ...]:
        """Every file of the chain and what became of it, in order."""
        from cardcheck.db.records import Candidate

        return tuple(Candidate(*place) for place in self._places)

    @property
    def local(self) -> LocalInfo:
        """The local additions file and its state."""
        from cardcheck.db.records import LocalInfo

        path, exists, problem = self._local
        index = self.local_index
        return LocalInfo(
            path=path,
            exists=exists,
            entries=0 if index is None else len(index),
            invalid=() if index is None else index.invalid_entries(),
            problem=problem,
        )

    @property
    def warnings(self) -> tuple[Candidate, ...]:
        """Files (or lines of the local additions) that were skipped, with why and how to fix it.

        Pure code never prints: commands show these on stderr. ``()`` when all is well.
        """
        index = self.local_index
        problem = self._local[2]
        skipped = [place for place in self._places if place[2] is CandidateStatus.SKIPPED]
        if not skipped and problem is None and (index is None or not index.invalid):
            return ()
        from cardcheck.db.records import Candidate
        from cardcheck.db.sources import fix_hint

        path = self._local[0]
        found = [Candidate(*place) for place in skipped]
        if problem is not None:
            found.append(
                Candidate(
                    path,
                    SourceKind.LOCAL,
                    CandidateStatus.SKIPPED,
                    problem,
                    fix_hint(path, SourceKind.LOCAL),
                )
            )
        for line, text, error in () if index is None else index.invalid:
            found.append(
                Candidate(
                    path,
                    SourceKind.LOCAL,
                    CandidateStatus.SKIPPED,
                    f"line {line} is not a valid pattern ({error}): {text}",
                    fix_hint(path, SourceKind.LOCAL),
                )
            )
        return tuple(found)

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
            made = self._matches[source]
            for number in index.lookup(text):
                match = made.get(number)
                if match is None:
                    # Matches are frozen values: one per entry, made when first found.
                    match = Match(
                        pattern=index.pattern(number),
                        exact=not index.is_pattern(number),
                        descriptions=index.descriptions(number),
                        source=source,
                        line=index.line(number),
                    )
                    made[number] = match
                found.append(match)
        return tuple(found)

    def _entry(self, index: ListIndex, source: MatchSource, number: int) -> Entry:
        from cardcheck.db.records import Entry

        return Entry(
            pattern=index.pattern(number),
            descriptions=index.descriptions(number),
            is_pattern=index.is_pattern(number),
            source=source,
            line=index.line(number),
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
        from cardcheck.db.records import DbInfo

        index_size: int | None = None
        if self.index_path is not None:
            try:
                index_size = os.stat(self.index_path).st_size
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
            invalid=self.index.invalid_entries(),
            index_state=self.index_state,
            index_path=self.index_path,
            index_size=index_size,
            chain=self.chain,
            local=self.local,
        )
