"""What PC/SC says: the EstablishContext result, the readers, their USB place, blocked readers.

Everything goes through :mod:`cardcheck.pcsc.adapter`, whose calls are bounded: a call that
blocks (pcscd makes a connect wait while another program holds a transaction) is given up after
the context's timeout with an error that says so, and doctor reports it: doctor never hangs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PcscReader:
    """One reader as PC/SC shows it."""

    name: str
    """The reader's PC/SC name."""
    state: tuple[str, ...]
    """PC/SC state words (``present``, ``exclusive``, ``inuse``, ``mute``...)."""
    atr: bytes | None
    """The card's ATR; None without a card."""
    channel_id: int | None
    """CHANNEL_ID; None when the reader does not give it (or it could not be read)."""
    usb: tuple[int, int] | None
    """(bus, address) from a USB CHANNEL_ID; None otherwise."""
    blocked: bool = False
    """A PC/SC call to this reader did not return in time: another program holds a
    transaction on its card."""


@dataclass(frozen=True, slots=True)
class PcscSurvey:
    """The PC/SC side of the diagnosis."""

    result: int | None
    """None when a context was established; otherwise the PC/SC result code."""
    result_name: str | None
    """``SCARD_E_NO_SERVICE``-style name of :attr:`result`."""
    readers: tuple[PcscReader, ...]
    """Every reader (empty when there is none or no context)."""
    unavailable: str | None = None
    """Why PC/SC could not be asked at all (no pyscard, the call hung); None when it was."""
    hung: bool = False
    """The service accepted the connection but SCardEstablishContext never returned."""


_BLOCKED = frozenset({"in-transaction", "reader-unresponsive", "pcsc-unresponsive"})
"""Codes of the adapter's errors for a reader call that got no answer in time."""


def survey(*, timeout: float = 5.0, reader_timeout: float = 1.5) -> PcscSurvey:
    """Ask PC/SC for its readers, their CHANNEL_ID and whether a call to them blocks."""
    try:
        from cardcheck.pcsc.adapter import open_context
        from cardcheck.pcsc.errors import PcscError
        from cardcheck.pcsc.model import ReaderState
    except ImportError as exc:  # pyscard missing or broken
        return PcscSurvey(None, None, (), unavailable=f"pyscard cannot be imported: {exc}")

    try:
        with open_context(timeout) as pcsc:
            found = tuple((s.name, s.state, s.state.labels(), s.atr) for s in pcsc.reader_states())
    except PcscError as err:
        if err.code == "pcsc-unresponsive":
            return PcscSurvey(
                None,
                None,
                (),
                unavailable=f"PC/SC did not answer within {timeout:g} s (the service accepted "
                "the connection but never replied)",
                hung=True,
            )
        return PcscSurvey(err.result, err.result_name, ())

    readers: list[PcscReader] = []
    for name, state, labels, atr in found:
        channel_id: int | None = None
        blocked = False
        shared = ReaderState.INUSE in state and ReaderState.EXCLUSIVE not in state
        try:
            with open_context(reader_timeout) as pcsc:
                channel_id = pcsc.reader_attributes(name).channel_id
                if shared and ReaderState.PRESENT in state:
                    with pcsc.connect(name):
                        pass
        except PcscError as err:
            blocked = err.code in _BLOCKED
        usb = None
        if channel_id is not None and (channel_id & 0xFFFFFFFF) >> 16 == 0x0020:
            usb = ((channel_id >> 8) & 0xFF, channel_id & 0xFF)
        readers.append(PcscReader(name, labels, atr, channel_id, usb, blocked))
    return PcscSurvey(None, None, tuple(readers))
