"""Shared fixtures for the PC/SC tests: a real pcscd with the vpcd driver and virtual cards.

``pcscd`` (session) makes sure pcscd runs with the vpcd readers, starting it when none runs (as
root) and stopping only what it started. If it cannot, the tests that need it FAIL with the
reason: ``make test`` installs pcscd and vsmartcard-vpcd, so a missing stack is a real problem.
``vcard`` inserts cardcheck's own virtual cards and removes them after the test.
"""

from __future__ import annotations

import fcntl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from db_atrs import PREVIOUS, isolated_env

from cardcheck.testing.pcscd import Pcscd, wait_reader
from cardcheck.testing.usbemu.emulator import EmulatedReader
from cardcheck.testing.vcard import VPCD_PORT, CardConfig, VirtualCard, reader_name

READER_0 = reader_name(VPCD_PORT)
"""``Virtual PCD 00 00``, the reader of port 35963."""
READER_1 = reader_name(VPCD_PORT + 1)
"""``Virtual PCD 00 01``, the reader of port 35964."""

VCardFactory = Callable[..., VirtualCard]


VPCD_LOCK = Path("/tmp/cardcheck-vpcd.lock")
"""Held while a test run uses pcscd and the vpcd readers: two runs on one machine (two
checkouts, a developer and CI) take turns instead of inserting cards into each other's readers
or stopping each other's pcscd."""


@pytest.fixture(scope="session")
def pcscd() -> Iterator[Pcscd]:
    """A pcscd with the vpcd readers; ``pcscd.started`` says whether the tests own it."""
    with VPCD_LOCK.open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        service = Pcscd()
        service.start()  # an EnvironmentProblem here fails the test with its hint
        try:
            yield service
        finally:
            service.stop()


@pytest.fixture
def vcard(pcscd: Pcscd) -> Iterator[VCardFactory]:
    """Insert virtual cards: ``vcard(atr=..., port=35963, wait=True, **CardConfig fields)``.

    Waits until pcscd shows the card (``wait=False`` skips that, e.g. for a mute card);
    removes every card at the end and waits until the readers are empty again.
    """
    inserted: list[VirtualCard] = []

    def insert(
        atr: bytes, *, port: int = VPCD_PORT, wait: bool = True, **config: object
    ) -> VirtualCard:
        card = VirtualCard(CardConfig(atr=atr, **config), port=port)  # type: ignore[arg-type]
        card.start()
        inserted.append(card)
        if wait:
            wait_reader(card.reader, atr=atr)
        return card

    yield insert
    for card in inserted:
        card.stop()
    for card in inserted:
        wait_reader(card.reader, atr=None)


# ---------------------------------------------------------------------------------------------
# Emulated USB CCID readers (umockdev + the real pcscd and libccid, each in its own namespace)

EmulatedReaderFactory = Callable[..., EmulatedReader]


@pytest.fixture
def emulated_reader() -> Iterator[EmulatedReaderFactory]:
    """Start emulated USB CCID readers: ``emulated_reader("ACR38U-CCID.txt", listed=True)``.

    Each has its own pcscd in a private mount namespace (the system's pcscd and the vpcd
    readers are never touched, so no lock is needed). ``listed=True`` waits until pcscd lists
    the reader. Everything is stopped at the end. Missing umockdev or root FAILS the test with
    the reason: ``make test`` installs what the emulation needs.
    """
    started: list[EmulatedReader] = []

    def start(reader: str, *, listed: bool = True, **options: object) -> EmulatedReader:
        emu = EmulatedReader(reader, **options)  # type: ignore[arg-type]
        started.append(emu)
        emu.start()
        if listed:
            answer = emu.client("wait")
            assert answer.get("readers"), f"pcscd never listed {reader}: {answer}"
        return emu

    yield start
    for emu in started:
        emu.stop()


@pytest.fixture
def own_copy(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """An isolated environment whose list in use is cardcheck's own older, complete copy
    (:data:`db_atrs.PREVIOUS`): the starting point of the ``db update`` tests."""
    env = isolated_env(tmp_path)
    ours = tmp_path / "cache" / "cardcheck" / "smartcard_list.txt"
    ours.parent.mkdir(parents=True)
    ours.write_bytes(PREVIOUS)
    return env, ours
