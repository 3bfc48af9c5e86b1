"""Make sure a pcscd with the vpcd driver runs, for tests, benchmarks and ``make demo``.

If ``/run/pcscd/pcscd.comm`` answers, that pcscd is used as it is. Otherwise ``pcscd -f`` is
started in the background (root needed) and stopped again at the end, only then: a pcscd that
was already running is never touched.

    with ensure_pcscd() as service:
        ...  # service.started tells whether we started it
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from cardcheck.errors import EnvironmentProblem
from cardcheck.testing import Running, end_process
from cardcheck.testing.vcard import VPCD_PORT, reader_name

PCSCD_SOCKET = Path("/run/pcscd/pcscd.comm")
"""Where pcsc-lite's daemon listens (1.9.9 ignores PCSCLITE_CSOCK_NAME in the daemon)."""
VPCD_READERS = (reader_name(VPCD_PORT), reader_name(VPCD_PORT + 1))
"""The readers the vpcd driver declares in /etc/reader.conf.d/vpcd."""


def socket_answers(path: Path = PCSCD_SOCKET) -> bool:
    """Whether a process accepts connections on pcscd's socket (a stale file does not)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(str(path))
        except OSError:
            return False
    return True


def vpcd_readers() -> tuple[str, ...]:
    """The vpcd readers the running pcscd lists (empty when it lists none or does not answer)."""
    from cardcheck.pcsc.adapter import open_context
    from cardcheck.pcsc.errors import PcscError

    try:
        with open_context() as pcsc:
            return tuple(name for name in pcsc.list_readers() if name in VPCD_READERS)
    except PcscError:
        return ()


class Pcscd(Running):
    """A pcscd with the vpcd readers: the one running, or one started (and later stopped) here."""

    def __init__(self, *, timeout: float = 15.0) -> None:
        self.timeout = timeout
        """Seconds to wait for pcscd to list the vpcd readers."""
        self.process: subprocess.Popen[bytes] | None = None
        """The pcscd started here; None when an already running one is used."""
        self.log_path: Path | None = None
        """pcscd's output when started here."""

    @property
    def started(self) -> bool:
        """Whether this object started pcscd (and so may stop it)."""
        return self.process is not None

    def start(self) -> Pcscd:
        """Use the running pcscd, or start one; wait until it lists the vpcd readers.

        Raises EnvironmentProblem with a hint when pcscd cannot be started or has no vpcd
        driver (the tests must then fail, not skip).
        """
        if socket_answers():
            self._wait_ready("the running pcscd")
            return self
        executable = shutil.which("pcscd") or next(
            (p for p in ("/usr/sbin/pcscd", "/sbin/pcscd") if Path(p).exists()), None
        )
        if executable is None:
            raise EnvironmentProblem(
                "pcscd is not installed",
                "install it: `sudo apt install pcscd vsmartcard-vpcd` (make test does)",
            )
        if os.geteuid() != 0:
            raise EnvironmentProblem(
                "pcscd is not running and only root can start it",
                "start it: `sudo systemctl start pcscd.socket`, or run the tests as root",
            )
        with tempfile.NamedTemporaryFile(
            prefix="cardcheck-pcscd-", suffix=".log", delete=False
        ) as log:
            self.log_path = Path(log.name)
            self.process = subprocess.Popen(
                [executable, "--foreground"],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self._wait_ready("the pcscd started for the tests")
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop pcscd if this object started it; a pcscd found running is left alone."""
        process, self.process = self.process, None
        if process is None:
            return
        died = process.poll() is not None
        end_process(process)
        # pcscd removes its socket on a clean exit; wait so a new start does not race it.
        deadline = time.monotonic() + 5
        while socket_answers() and time.monotonic() < deadline:
            time.sleep(0.05)
        if not died:
            self._drop_log()

    def _drop_log(self) -> None:
        """Remove pcscd's log after it was stopped here. The log of a pcscd that exited by
        itself is kept: it says why (the error that reports it names the file)."""
        log, self.log_path = self.log_path, None
        if log is not None:
            with contextlib.suppress(OSError):
                log.unlink()

    def restart(self) -> None:
        """Stop pcscd (only if started here) and start it again."""
        self.stop()
        self.start()

    def _wait_ready(self, what: str) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise EnvironmentProblem(
                    f"{what} exited at once (status {self.process.returncode})",
                    f"see its log: {self.log_path}",
                )
            if socket_answers() and set(vpcd_readers()) == set(VPCD_READERS):
                return
            time.sleep(0.1)
        raise EnvironmentProblem(
            f"{what} does not list the vpcd readers {', '.join(VPCD_READERS)}",
            "install the driver: `sudo apt install vsmartcard-vpcd` (it adds "
            "/etc/reader.conf.d/vpcd),\nthen restart pcscd (`sudo systemctl restart pcscd`)",
        )


def ensure_pcscd(timeout: float = 15.0) -> Pcscd:
    """A :class:`Pcscd` not yet started: use it as a context manager."""
    return Pcscd(timeout=timeout)


def wait_reader(reader: str, *, atr: bytes | None, timeout: float = 10.0) -> None:
    """Wait until pcscd shows ``atr`` in ``reader`` (None: until the reader is empty).

    vpcd polls its socket, so a virtual card appears (or goes) a little after it connects.
    Raises EnvironmentProblem when that does not happen within ``timeout`` seconds.
    """
    from cardcheck.pcsc.adapter import open_context
    from cardcheck.pcsc.model import ReaderState

    deadline = time.monotonic() + timeout
    seen = None
    with open_context() as pcsc:
        while time.monotonic() < deadline:
            (info,) = pcsc.reader_states([reader])
            seen = info
            if atr is None and ReaderState.EMPTY in info.state:
                return
            if atr is not None and info.card_present and info.atr == atr:
                return
            if atr is not None and info.card_present and atr == b"" and info.atr is None:
                return
            time.sleep(0.05)
    want = "empty" if atr is None else f"showing ATR {atr.hex(' ').upper()}"
    raise EnvironmentProblem(
        f"{reader} never became {want} within {timeout} s (last seen: {seen})",
        "is another program using the vpcd reader? stop it and try again",
    )
