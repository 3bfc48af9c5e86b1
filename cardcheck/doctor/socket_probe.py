"""A raw connect() to pcscd's socket: tells apart the cases PC/SC reports as NO_SERVICE.

pcsc-lite's client gives SCARD_E_NO_SERVICE whether the socket is missing (ENOENT), stale
(ECONNREFUSED: nobody listens) or forbidden (EACCES). The client honours PCSCLITE_CSOCK_NAME;
without it the socket is ``pcscd.comm`` in pcscd's ipcdir. Connecting and closing at once is
harmless: pcscd sees a client that went away.
"""

from __future__ import annotations

import errno
import os
import socket
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


def probe_socket(path: str, *, from_env: bool = False, timeout: float = 2.0) -> SocketProbe:
    """connect() to ``path`` and close at once; never raises."""
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
    return SocketProbe(path, from_env, SocketState.ANSWERS, None)
