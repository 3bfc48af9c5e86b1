"""A raw connect() to pcscd's socket and one version message: what PC/SC's errors hide.

pcsc-lite's client gives SCARD_E_NO_SERVICE whether the socket is missing (ENOENT), stale
(ECONNREFUSED: nobody listens) or forbidden (EACCES). The client honours PCSCLITE_CSOCK_NAME;
without it the socket is ``pcscd.comm`` in pcscd's ipcdir.

When the socket answers, the probe sends what every pcsc-lite client sends first: a header
(uint32 size, uint32 command; CMD_VERSION = 0x11) and the version message (int32 major,
int32 minor, uint32 result; 4, 4, 0 as pcsc-lite 1.9.9 sends it), and reads pcscd's answer,
the same message with pcscd's own version and a result. pcscd closing the connection
without reading it (polkit refused the client) shows as EPIPE or ECONNRESET; reading and then
closing shows as end of file. Then the probe closes: pcscd sees a client that went away.
"""

from __future__ import annotations

import errno
import os
import socket
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from cardcheck.doctor.pcscd import DEFAULT_IPCDIR


class SocketState(StrEnum):
    """What a connect() to the socket gave."""

    ANSWERS = "answers"
    MISSING = "missing"
    REFUSED = "refused"
    PERMISSION = "permission"
    NOT_A_SOCKET = "not-a-socket"
    TIMEOUT = "timeout"
    ERROR = "error"


CMD_VERSION = 0x11
"""pcsc-lite's command number of the version message."""
CLIENT_PROTOCOL = (4, 4)
"""The protocol version pcsc-lite 1.9.9's client sends (major, minor)."""


class Exchange(StrEnum):
    """What pcscd did with the version message."""

    ANSWERED = "answered"
    CLOSED_UNREAD = "closed-unread"
    CLOSED_AFTER_READING = "closed-after-reading"
    NO_ANSWER = "no-answer"


@dataclass(frozen=True, slots=True)
class VersionAnswer:
    """The outcome of the version exchange."""

    exchange: Exchange
    """answered, closed-unread, closed-after-reading or no-answer (timeout)."""
    major: int | None = None
    """pcscd's protocol major version, when it answered."""
    minor: int | None = None
    """pcscd's protocol minor version, when it answered."""
    result: int | None = None
    """The result in its answer (0, or SCARD_E_SERVICE_STOPPED for another version)."""


@dataclass(frozen=True, slots=True)
class SocketProbe:
    """The outcome of one connect()."""

    path: str
    """The socket tried."""
    from_env: bool
    """True when the path came from PCSCLITE_CSOCK_NAME."""
    state: SocketState
    """answers, missing, refused, permission..."""
    errno_name: str | None
    """``ENOENT``, ``ECONNREFUSED``, ``EACCES``...; None when it answered."""
    version: VersionAnswer | None = None
    """What pcscd did with a version message; None when not connected."""


def socket_path(env: Mapping[str, str], ipcdir: str | None = None) -> tuple[str, bool]:
    """The socket the PC/SC client will use, and whether PCSCLITE_CSOCK_NAME chose it."""
    named = env.get("PCSCLITE_CSOCK_NAME")
    if named:
        return named, True
    return os.path.join(ipcdir or DEFAULT_IPCDIR, "pcscd.comm"), False


_STATES = {
    errno.ENOENT: SocketState.MISSING,
    errno.ENOTDIR: SocketState.MISSING,
    errno.ECONNREFUSED: SocketState.REFUSED,
    errno.EACCES: SocketState.PERMISSION,
    errno.EPERM: SocketState.PERMISSION,
    errno.ENOTSOCK: SocketState.NOT_A_SOCKET,
}


def _exchange(sock: socket.socket) -> VersionAnswer:
    message = struct.pack("<II", 12, CMD_VERSION) + struct.pack("<iiI", *CLIENT_PROTOCOL, 0)
    try:
        sock.sendall(message)
    except (BrokenPipeError, ConnectionResetError):
        return VersionAnswer(Exchange.CLOSED_UNREAD)
    except TimeoutError:
        return VersionAnswer(Exchange.NO_ANSWER)
    answer = b""
    try:
        while len(answer) < 12:
            chunk = sock.recv(12 - len(answer))
            if not chunk:
                return VersionAnswer(Exchange.CLOSED_AFTER_READING)
            answer += chunk
    except ConnectionResetError:
        return VersionAnswer(Exchange.CLOSED_UNREAD)
    except TimeoutError:
        return VersionAnswer(Exchange.NO_ANSWER)
    major, minor, result = struct.unpack("<iiI", answer)
    return VersionAnswer(Exchange.ANSWERED, major, minor, result)


def probe_socket(
    path: str, *, from_env: bool = False, timeout: float = 2.0, exchange: bool = True
) -> SocketProbe:
    """connect() to ``path``, exchange version messages (unless ``exchange`` is False) and
    close; never raises."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(path)
        except TimeoutError:
            return SocketProbe(path, from_env, SocketState.TIMEOUT, "ETIMEDOUT")
        except OSError as exc:
            number = exc.errno or 0
            name = errno.errorcode.get(number, str(number))
            return SocketProbe(path, from_env, _STATES.get(number, SocketState.ERROR), name)
        version = _exchange(sock) if exchange else None
    return SocketProbe(path, from_env, SocketState.ANSWERS, None, version)
