"""What an identification returns (:class:`Match`) and the closed sets the database uses.

Kept small: it is imported on every identification. The records of ``db info`` and
``db search`` are in :mod:`cardcheck.db.records`. ``to_json`` forms are a public contract.
"""

from __future__ import annotations

from enum import StrEnum

from cardcheck.values import Value, field


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


class Match(Value):
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
        """The JSON form (a contract): ``{"pattern", "exact", "descriptions", "source"}``."""
        return {
            "pattern": self.pattern,
            "exact": self.exact,
            "descriptions": list(self.descriptions),
            "source": self.source.value,
        }
