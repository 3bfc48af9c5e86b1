"""A virtual smart card speaking the vpcd protocol, to test cardcheck against a real pcscd.

The vpcd reader driver (Debian ``vsmartcard-vpcd``) listens on 127.0.0.1:35963 for the reader
"Virtual PCD 00 00" and on 35964 for "Virtual PCD 00 01". A card is a TCP client of that port:
connecting inserts it, closing the socket removes it. Every frame is a 2-byte big-endian length
followed by a payload. A one-byte payload is a control code from the reader (power off, power
on, reset, get ATR); a longer one is a command APDU, answered with a response APDU.

Run it by hand for a demo::

    python -m cardcheck.testing.vcard --atr "3B 02 14 50"
"""

from __future__ import annotations

import argparse
import contextlib
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

from cardcheck.testing import Running

VPCD_HOST = "127.0.0.1"
"""Where the vpcd driver listens (its reader.conf.d file)."""
VPCD_PORT = 35963
"""The port of "Virtual PCD 00 00"; "Virtual PCD 00 01" is the next one."""

SELECT_MF = bytes.fromhex("00A40000023F00")
"""SELECT the master file by its identifier 3F00: the harmless command cardcheck sends."""

ApduHandler = Callable[[bytes], bytes]
"""Takes a command APDU, returns the response APDU (data followed by SW1 SW2)."""


class ControlCode(IntEnum):
    """One-byte payloads the vpcd driver sends to the card."""

    POWER_OFF = 0x00
    POWER_ON = 0x01
    RESET = 0x02
    GET_ATR = 0x04


def default_handler(apdu: bytes) -> bytes:
    """Answer SELECT MF with 90 00 and everything else with 6D 00 (instruction not supported)."""
    if apdu == SELECT_MF:
        return b"\x90\x00"
    return b"\x6d\x00"


def reader_name(port: int) -> str:
    """The PC/SC name of the vpcd reader a card on ``port`` appears in ("Virtual PCD 00 00")."""
    return f"Virtual PCD 00 {port - VPCD_PORT:02X}"


@dataclass(frozen=True, slots=True)
class CardConfig:
    """How the virtual card behaves."""

    atr: bytes
    """ATR after power-on (cold reset). An empty ATR makes the reader show no card."""
    warm_atr: bytes | None = None
    """ATR after a warm reset; None for the same as ``atr``."""
    response_delay: float = 0.0
    """Seconds to wait before answering each APDU (a slow card)."""
    drop_on_apdu: int | None = None
    """Close the connection instead of answering the N-th APDU (1-based): a card pulled
    out mid-command. None never drops."""
    handler: ApduHandler = default_handler
    """Computes the response to each command APDU."""


class VirtualCard(Running):
    """One virtual card plugged into a vpcd reader, served by a background thread.

    ``start()`` connects (inserts the card) and ``stop()`` disconnects (removes it); the object is
    also a context manager. A card can be started again after it was stopped.
    """

    def __init__(
        self,
        config: CardConfig,
        *,
        port: int = VPCD_PORT,
        host: str = VPCD_HOST,
    ) -> None:
        self.config = config
        """The behaviour of the card."""
        self.port = port
        """The vpcd port, which selects the reader."""
        self.host = host
        """The vpcd host (loopback)."""
        self.apdus: list[bytes] = []
        """Every command APDU received, in order: tests check that only allowlisted ones came."""
        self.dropped = threading.Event()
        """Set when the card dropped its connection on purpose (``drop_on_apdu``)."""
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._current_atr = config.atr
        self._powered = False

    @property
    def reader(self) -> str:
        """The name of the reader this card is inserted into."""
        return reader_name(self.port)

    @property
    def connected(self) -> bool:
        """Whether the card is currently connected to the driver (inserted)."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start(self, timeout: float = 5.0) -> VirtualCard:
        """Connect to the vpcd driver (insert the card); retry until ``timeout`` seconds passed.

        Raises ConnectionError when the driver does not accept the connection (pcscd not
        running, or the vpcd driver not installed).
        """
        if self.connected:
            raise RuntimeError("the virtual card is already inserted")
        deadline = time.monotonic() + timeout
        last: OSError | None = None
        while True:
            try:
                sock = socket.create_connection((self.host, self.port), timeout=1.0)
                break
            except OSError as exc:
                last = exc
                if time.monotonic() >= deadline:
                    raise ConnectionError(
                        f"no vpcd driver on {self.host}:{self.port} (is pcscd running with "
                        f"vsmartcard-vpcd installed?): {last}"
                    ) from exc
                time.sleep(0.05)
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.dropped.clear()
        self._current_atr = self.config.atr
        self._powered = False
        self._sock = sock
        self._thread = threading.Thread(
            target=self._serve, args=(sock,), name=f"vcard:{self.port}", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Disconnect from the driver (remove the card) and wait for the thread to end."""
        with self._lock:
            sock, self._sock = self._sock, None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5.0)

    def _serve(self, sock: socket.socket) -> None:
        try:
            while True:
                payload = _read_frame(sock)
                if payload is None:
                    return
                reply = self._answer(payload)
                if reply is None:
                    continue
                if reply is _DROP:
                    self.dropped.set()
                    return
                sock.sendall(struct.pack(">H", len(reply)) + reply)
        except OSError:
            return
        finally:
            with self._lock:
                if self._sock is sock:
                    self._sock = None
            with contextlib.suppress(OSError):
                sock.close()

    def _answer(self, payload: bytes) -> bytes | None:
        if len(payload) == 1:
            code = payload[0]
            if code == ControlCode.POWER_OFF:
                self._powered = False
            elif code == ControlCode.POWER_ON:
                self._powered = True
                self._current_atr = self.config.atr
            elif code == ControlCode.RESET:
                self._powered = True
                if self.config.warm_atr is not None:
                    self._current_atr = self.config.warm_atr
            elif code == ControlCode.GET_ATR:
                return self._current_atr
            return None
        self.apdus.append(payload)
        if self.config.drop_on_apdu is not None and len(self.apdus) >= self.config.drop_on_apdu:
            return _DROP
        if self.config.response_delay > 0:
            time.sleep(self.config.response_delay)
        return self.config.handler(payload)


_DROP = b"<drop>"
"""Marker returned by ``_answer``: close the connection without answering."""


def _read_exactly(sock: socket.socket, size: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        _ack_at_once(sock)
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


def _ack_at_once(sock: socket.socket) -> None:
    """Acknowledge what arrives at once (Linux TCP_QUICKACK, which the kernel resets).

    The vpcd driver writes a frame's length and payload in two sends with Nagle's algorithm
    on, so the payload waits for the ACK of the length; with delayed ACKs that adds about
    40 ms to every APDU and would hide the card's own latency.
    """
    quickack = getattr(socket, "TCP_QUICKACK", None)
    if quickack is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, quickack, 1)


def _read_frame(sock: socket.socket) -> bytes | None:
    header = _read_exactly(sock, 2)
    if header is None:
        return None
    (length,) = struct.unpack(">H", header)
    if length == 0:
        return b""
    return _read_exactly(sock, length)


def _parse_hex(text: str) -> bytes:
    try:
        return bytes.fromhex(text.replace(":", " "))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not hex bytes: {text!r}") from exc


def main(argv: list[str] | None = None) -> int:
    """Insert a virtual card until Ctrl-C (or SIGTERM) and then remove it."""
    parser = argparse.ArgumentParser(
        prog="python -m cardcheck.testing.vcard",
        description="Insert a virtual card into the vpcd reader of a running pcscd.",
    )
    parser.add_argument("--atr", type=_parse_hex, required=True, help='e.g. "3B 02 14 50"')
    parser.add_argument("--warm-atr", type=_parse_hex, default=None, help="ATR after warm reset")
    parser.add_argument("--port", type=int, default=VPCD_PORT, help="35963 (reader 00 00) or 35964")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each response")
    parser.add_argument(
        "--log", action="store_true", help="print every command APDU received on stderr"
    )
    args = parser.parse_args(argv)
    import signal

    # Ctrl-C and kill both remove the card cleanly (a shell may start us with SIGINT ignored).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    handler: ApduHandler = default_handler
    if args.log:

        def handler(apdu: bytes) -> bytes:
            print(f"vcard: APDU {apdu.hex(' ').upper()}", file=sys.stderr, flush=True)
            return default_handler(apdu)

    config = CardConfig(
        atr=args.atr, warm_atr=args.warm_atr, response_delay=args.delay, handler=handler
    )
    card = VirtualCard(config, port=args.port)
    try:
        card.start()
    except ConnectionError as exc:
        print(f"vcard: {exc}", file=sys.stderr)
        return 3
    print(
        f"vcard: card inserted in {card.reader!r}; Ctrl-C removes it", file=sys.stderr, flush=True
    )
    try:
        while card.connected:
            time.sleep(0.2)
    except KeyboardInterrupt:
        pass
    finally:
        card.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
