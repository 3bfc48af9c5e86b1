"""Identify cards from the public ATR list (pcsc-tools' smartcard_list.txt) and local additions.

Pure: nothing here prints or imports typer, rich or pyscard. Start with :func:`open_database`::

    db = open_database()          # the first valid list of the chain, plus local additions
    for match in db.identify(atr):
        print(match.to_json())    # {"pattern", "exact", "descriptions", "source"}

The records of ``db info``/``db search`` (:mod:`cardcheck.db.records`) are imported only when
asked for: identifying a card must start fast.
"""

from __future__ import annotations

from cardcheck.db.database import Database
from cardcheck.db.model import CandidateStatus, IndexState, Match, MatchSource, SourceKind
from cardcheck.db.sources import open_database

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up

if TYPE_CHECKING:
    from typing import Any

    from cardcheck.db.records import Candidate, DbInfo, Entry, InvalidEntry, LocalInfo

_LAZY = frozenset({"Candidate", "DbInfo", "Entry", "InvalidEntry", "LocalInfo"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from cardcheck.db import records

        return getattr(records, name)
    raise AttributeError(f"module 'cardcheck.db' has no attribute {name!r}")


__all__ = [
    "Candidate",
    "CandidateStatus",
    "Database",
    "DbInfo",
    "Entry",
    "IndexState",
    "InvalidEntry",
    "LocalInfo",
    "Match",
    "MatchSource",
    "SourceKind",
    "open_database",
]
