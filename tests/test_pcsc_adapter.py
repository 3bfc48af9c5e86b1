"""The PC/SC adapter against the real stack: pcscd + vpcd + cardcheck's own virtual card."""

from __future__ import annotations

import threading

import pytest
from conftest import READER_0, READER_1, VCardFactory
from pcsc_helpers import exclusive_holder

from cardcheck.pcsc.adapter import open_context
from cardcheck.pcsc.errors import PcscError
from cardcheck.pcsc.model import Protocol, ReaderAttributes, ReaderState, ResetKind
from cardcheck.testing.pcscd import Pcscd
from cardcheck.testing.vcard import SELECT_MF

pytestmark = pytest.mark.pcsc

MULTIFLEX = bytes.fromhex("3B021450")  # T=0 only (no TD1)
T1_CARD = bytes.fromhex("3BF81300008131FE15597562696B657934D4")  # TD1 announces T=1


def test_both_vpcd_readers_listed(pcscd: Pcscd) -> None:
    with open_context() as pcsc:
        readers = pcsc.list_readers()
    assert READER_0 in readers and READER_1 in readers


def test_state_without_connecting(vcard: VCardFactory) -> None:
    card = vcard(MULTIFLEX)
    with open_context() as pcsc:
        (info,) = pcsc.reader_states([READER_0])
    assert ReaderState.PRESENT in info.state
    assert info.atr == MULTIFLEX
    assert card.apdus == []  # reading the state sends nothing to the card


def test_connect_transmit_and_protocols(vcard: VCardFactory) -> None:
    card = vcard(MULTIFLEX)
    with open_context() as pcsc, pcsc.connect(READER_0) as conn:
        assert conn.atr == MULTIFLEX
        assert conn.active_protocol is Protocol.T0
        assert conn.transmit(SELECT_MF) == (b"", 0x90, 0x00)
        assert conn.transmit(bytes.fromhex("00B0000010")) == (b"", 0x6D, 0x00)
        (info,) = pcsc.reader_states([READER_0])
        assert ReaderState.INUSE in info.state  # our own shared connection
        assert ReaderState.EXCLUSIVE not in info.state
    assert card.apdus == [SELECT_MF, bytes.fromhex("00B0000010")]


def test_t1_card_negotiates_t1(vcard: VCardFactory) -> None:
    vcard(T1_CARD)
    with open_context() as pcsc, pcsc.connect(READER_0) as conn:
        assert conn.active_protocol is Protocol.T1
        assert conn.transmit(SELECT_MF)[1:] == (0x90, 0x00)


def test_warm_and_cold_reset_read_the_new_atr(vcard: VCardFactory) -> None:
    warm = bytes.fromhex("3B021451")
    vcard(MULTIFLEX, warm_atr=warm)
    with open_context() as pcsc, pcsc.connect(READER_0) as conn:
        assert conn.reconnect(ResetKind.WARM) == warm
        assert conn.atr == warm
        assert conn.reconnect(ResetKind.COLD) == MULTIFLEX


def test_attributes_unsupported_are_none_not_errors(vcard: VCardFactory) -> None:
    vcard(MULTIFLEX)
    with open_context() as pcsc:
        # vpcd answers "unsupported" or "insufficient buffer" for every attribute.
        assert pcsc.reader_attributes(READER_1) == ReaderAttributes()  # no card needed
        with pcsc.connect(READER_0) as conn:
            assert conn.attributes() == ReaderAttributes()


def test_card_removed_mid_apdu_is_a_clear_error(vcard: VCardFactory) -> None:
    card = vcard(MULTIFLEX, drop_on_apdu=2)
    with open_context() as pcsc, pcsc.connect(READER_0) as conn:
        assert conn.transmit(SELECT_MF)[1:] == (0x90, 0x00)
        with pytest.raises(PcscError) as caught:
            conn.transmit(SELECT_MF)
    assert card.dropped.is_set()
    assert caught.value.code == "card-removed"
    assert "stopped answering" in caught.value.message
    assert caught.value.hint is not None and "leave the card" in caught.value.hint


def test_exclusive_holder_gives_sharing_violation(vcard: VCardFactory) -> None:
    vcard(MULTIFLEX)
    with exclusive_holder(READER_0), open_context() as pcsc:
        (info,) = pcsc.reader_states([READER_0])
        assert ReaderState.EXCLUSIVE in info.state
        assert info.atr == MULTIFLEX  # the state still shows the ATR
        with pytest.raises(PcscError) as caught:
            pcsc.connect(READER_0)
        assert pcsc.reader_attributes(READER_0) == ReaderAttributes()  # not an error
    assert caught.value.code == "sharing-violation"
    assert caught.value.hint is not None and "scdaemon" in caught.value.hint
    assert "SCARD_E_SHARING_VIOLATION" in caught.value.hint


def test_no_card_and_unknown_reader(pcscd: Pcscd) -> None:
    with open_context() as pcsc:
        with pytest.raises(PcscError) as no_card:
            pcsc.connect(READER_1)
        with pytest.raises(PcscError) as unknown:
            pcsc.connect("No Such Reader 00 00")
    assert no_card.value.code == "no-card"
    assert unknown.value.code == "unknown-reader"
    assert "cardcheck readers" in (unknown.value.hint or "")


def test_wait_for_change_sees_an_insertion(vcard: VCardFactory) -> None:
    with open_context() as pcsc:
        known = pcsc.reader_states([READER_0])
        assert ReaderState.EMPTY in known[0].state
        timer = threading.Timer(0.3, lambda: vcard(MULTIFLEX, wait=False))
        timer.start()
        try:
            for _ in range(20):
                current = pcsc.wait_for_change(known, 2.0)
                mine = [i for i in current if i.name == READER_0]
                if mine and mine[0].card_present:
                    break
                known = tuple(mine) or known
            else:
                pytest.fail("no insertion seen")
        finally:
            timer.join()
    assert mine[0].atr == MULTIFLEX
