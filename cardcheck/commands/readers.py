"""`cardcheck readers`: every reader PC/SC sees, its state, the card's ATR, protocol and identity.

Also home of :class:`Identifier`, the lazy card identification that ``watch`` shares: a missing
ATR list is a warning (identified = []), never a reason for these commands to fail.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up

if TYPE_CHECKING:
    from pathlib import Path

    from cardcheck.db import Database, Match
    from cardcheck.pcsc.adapter import PcscContext
    from cardcheck.pcsc.model import ReaderInfo, ReaderReport


class Identifier:
    """Identifies ATRs with the ATR list, opened on first use; warns once if there is none."""

    def __init__(self, db_path: Path | None) -> None:
        self.db_path = db_path
        """``--db``, or None for the chain."""
        self._database: Database | None = None
        self._unavailable = False

    def identify(self, atr: bytes | None) -> tuple[Match, ...]:
        """The matches of ``atr``; empty for no ATR, an unknown card or no usable list."""
        if not atr or self._unavailable:
            return ()
        if self._database is None:
            from cardcheck.db import open_database
            from cardcheck.errors import EnvironmentProblem
            from cardcheck.render.error import print_warnings

            try:
                self._database = open_database(self.db_path)
            except EnvironmentProblem as err:
                self._unavailable = True
                print(
                    f"cardcheck: warning: cards are not identified: {err.message}",
                    file=sys.stderr,
                )
                if err.hint:
                    for line in err.hint.splitlines():
                        print(f"  hint: {line}", file=sys.stderr)
                return ()
            print_warnings(self._database.warnings)
        return self._database.identify(atr)


def report_for(pcsc: PcscContext, info: ReaderInfo, identifier: Identifier) -> ReaderReport:
    """Everything about one reader: attributes, and for a usable card its protocol and identity.

    Connects in SHARED mode only, and not at all to a card held exclusively or a mute card.
    """
    from cardcheck.pcsc.errors import PcscError
    from cardcheck.pcsc.model import ReaderAttributes, ReaderReport, ReaderState

    try:
        attributes = pcsc.reader_attributes(info.name)
    except PcscError:
        attributes = ReaderAttributes()
    protocol = None
    note = None
    if ReaderState.MUTE in info.state:
        note = (
            "the card gives no ATR (mute): reinsert it, clean its contacts, check that the "
            "reader gives its voltage"
        )
    elif ReaderState.EXCLUSIVE in info.state:
        note = (
            "another program holds the card exclusively (often gpg's scdaemon): protocol not read"
        )
    elif info.card_present:
        try:
            with pcsc.connect(info.name) as card:
                protocol = card.active_protocol
        except PcscError as err:
            note = err.message
    identified = () if ReaderState.MUTE in info.state else identifier.identify(info.atr)
    return ReaderReport(
        info=info, protocol=protocol, identified=identified, attributes=attributes, note=note
    )


def readers(json_output: bool = False, db: Path | None = None) -> None:
    """List the smart-card readers, their state, and the card in each (ATR, protocol, identity).

    Reads states without disturbing other programs: it connects in shared mode only, and not
    at all to a card another program holds exclusively. Exit 3 when the PC/SC service is not
    running or sees no reader.
    """
    from cardcheck.pcsc.adapter import open_context
    from cardcheck.pcsc.errors import PcscResult, translate
    from cardcheck.render.readers import ReadersFormat, render_readers

    identifier = Identifier(db)
    with open_context() as pcsc:
        infos = pcsc.reader_states()
        if not infos:
            raise translate(PcscResult.NO_READERS_AVAILABLE, "SCardListReaders")
        reports = [report_for(pcsc, info, identifier) for info in infos]
    render_readers(reports, ReadersFormat.JSON if json_output else ReadersFormat.HUMAN)
