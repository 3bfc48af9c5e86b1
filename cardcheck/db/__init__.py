"""Identify cards from the public ATR list (pcsc-tools' smartcard_list.txt) and local additions.

Pure: nothing here prints or imports typer, rich or pyscard. Start with :func:`open_database`::

    db = open_database()          # the first valid list of the chain, plus local additions
    for match in db.identify(atr):
        print(match.to_json())    # {"pattern", "exact", "descriptions", "source"}
"""

from __future__ import annotations

from cardcheck.db.database import Database
from cardcheck.db.model import (
    Candidate,
    CandidateStatus,
    DbInfo,
    Entry,
    IndexState,
    InvalidEntry,
    LocalInfo,
    Match,
    MatchSource,
    SourceKind,
)
from cardcheck.db.sources import open_database

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
