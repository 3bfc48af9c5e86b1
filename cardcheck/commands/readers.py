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
    from cardcheck.pcsc.errors import PcscError
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


def report_for(
    pcsc: PcscContext,
    info: ReaderInfo,
    identifier: Identifier,
    stuck: list[PcscError] | None = None,
) -> ReaderReport:
    """Everything about one reader: attributes, and for a usable card its protocol and identity.

    Connects in SHARED mode only, and not at all to a card held exclusively or a mute card.
    A reader that does not answer in time (a card in another program's transaction, a stuck
    driver) gets a note, and its error is appended to ``stuck``.
    """
    from cardcheck.pcsc.errors import STUCK_CODES as STUCK
    from cardcheck.pcsc.errors import PcscError
    from cardcheck.pcsc.model import ReaderAttributes, ReaderReport, ReaderState

    protocol = None
    note = None
    try:
        attributes = pcsc.reader_attributes(info.name)
    except PcscError as err:
        attributes = ReaderAttributes()
        if err.code in STUCK:
            # The reader did not answer in time: connecting again would only wait again.
            note = f"{err.message}; attributes and protocol not read"
            if stuck is not None:
                stuck.append(err)
    if note is not None:
        pass
    elif ReaderState.MUTE in info.state:
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
            if err.code in STUCK and stuck is not None:
                stuck.append(err)
    identified = () if ReaderState.MUTE in info.state else identifier.identify(info.atr)
    return ReaderReport(
        info=info, protocol=protocol, identified=identified, attributes=attributes, note=note
    )


def readers(json_output: bool = False, db: Path | None = None) -> None:
    """List the smart-card readers, their state, and the card in each (ATR, protocol, identity).

    Reads states without disturbing other programs: it connects in shared mode only, and not
    at all to a card another program holds exclusively. Exit 3 when the PC/SC service is not
    running or sees no reader, and (after the list) when a reader did not answer within a few
    seconds: a card in another program's transaction, or an unresponsive reader or card.
    """
    from cardcheck.pcsc.adapter import open_context
    from cardcheck.pcsc.errors import PcscResult, translate
    from cardcheck.render.pipes import stdout_may_close
    from cardcheck.render.readers import ReadersFormat, render_readers

    identifier = Identifier(db)
    stuck: list[PcscError] = []
    with open_context() as pcsc:
        infos = pcsc.reader_states()
        if not infos:
            raise translate(PcscResult.NO_READERS_AVAILABLE, "SCardListReaders")
        reports = [report_for(pcsc, info, identifier, stuck) for info in infos]
    with stdout_may_close():
        render_readers(reports, ReadersFormat.JSON if json_output else ReadersFormat.HUMAN)
    if stuck:
        # Everything else was listed; the first reader that did not answer is the error (3).
        raise stuck[0]
