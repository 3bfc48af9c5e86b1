"""Helpers of the PC/SC tests: run the CLI, hold a card exclusively from another process."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path


def cli_env(**extra: str) -> dict[str, str]:
    """The environment for a CLI subprocess: no colour, plus ``extra``."""
    env = dict(os.environ, NO_COLOR="1", COLUMNS="200")
    env.update(extra)
    return env


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m cardcheck ARGS`` with output captured."""
    return subprocess.run(
        [sys.executable, "-m", "cardcheck", *args],
        capture_output=True,
        text=True,
        env=env if env is not None else cli_env(),
        timeout=60,
        check=False,
    )


def write_list(path: Path, entries: dict[str, str]) -> Path:
    """A small ATR list in smartcard_list.txt syntax (ATR line, TAB description, blank line)."""
    text = "".join(f"{atr}\n\t{description}\n\n" for atr, description in entries.items())
    path.write_text("# test list\n" + text, encoding="utf-8")
    return path


def no_list_env(home: Path) -> dict[str, str]:
    """An environment where cardcheck finds no ATR list anywhere (whatever the caller's
    environment names: CARDCHECK_DB is dropped)."""
    env = cli_env(
        HOME=str(home),
        XDG_CACHE_HOME=str(home / "cache"),
        XDG_CONFIG_HOME=str(home / "config"),
        CARDCHECK_SYSTEM_LISTS="",
    )
    env.pop("CARDCHECK_DB", None)
    return env


NO_SERVICE_ENV = {"PCSCLITE_CSOCK_NAME": "/nonexistent/pcscd.comm"}
"""Makes the PC/SC client library look for pcscd where none listens: the service-down view."""


# A program that is not cardcheck: it takes the card exclusively (as gpg's scdaemon can), or
# connects SHARED and opens a transaction (as OpenSC and scdaemon do while they work with a
# card). It prints the PC/SC result of what it did, then holds the card until stdin closes.
_HOLDER = textwrap.dedent(
    """
    import sys
    from smartcard import scard
    reader, how = sys.argv[1], sys.argv[2]
    result, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    share = scard.SCARD_SHARE_EXCLUSIVE if how == "exclusive" else scard.SCARD_SHARE_SHARED
    result, handle, protocol = scard.SCardConnect(
        context, reader, share, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1)
    if how == "transaction" and result == 0:
        result = scard.SCardBeginTransaction(handle)
    print(f"{result & 0xFFFFFFFF:08X}", flush=True)
    sys.stdin.read()
    if how == "transaction":
        scard.SCardEndTransaction(handle, scard.SCARD_LEAVE_CARD)
    scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)
    """
)


@contextmanager
def card_holder(reader: str, how: str) -> Iterator[int]:
    """Another process holds the card in ``reader`` while the block runs: ``exclusive`` (an
    exclusive connection) or ``transaction`` (SHARED, inside SCardBeginTransaction). Yields
    its pid."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, reader, how],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        status = proc.stdout.readline().strip()
        assert status == "00000000", f"the holder could not hold the card ({how}): {status}"
        yield proc.pid
    finally:
        proc.stdin.close()
        proc.wait(timeout=15)


def exclusive_holder(reader: str) -> AbstractContextManager[int]:
    """Another process holds the card in ``reader`` exclusively while the block runs."""
    return card_holder(reader, "exclusive")


def transaction_holder(reader: str) -> AbstractContextManager[int]:
    """Another process is connected SHARED to the card in ``reader`` inside
    SCardBeginTransaction while the block runs."""
    return card_holder(reader, "transaction")


@contextmanager
def mute_service(path: Path) -> Iterator[dict[str, str]]:
    """A socket at ``path`` that accepts PC/SC clients and never answers (a stuck pcscd);
    yields the environment that points the client library at it."""
    import socket
    import threading

    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(16)
    clients: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            clients.append(conn)  # kept open, never answered

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield {"PCSCLITE_CSOCK_NAME": str(path)}
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in clients:
            conn.close()
        server.close()
