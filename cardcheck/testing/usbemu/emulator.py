"""An emulated USB CCID reader driven by the real pcscd and libccid, for tests and the demo.

    with EmulatedReader("ACR38U-CCID.txt") as emu:
        emu.insert(bytes.fromhex("3B95968131FE458073C8211301"))
        subprocess.run(["cardcheck", "check"], env=emu.env())
        emu.log()   # every CCID message and control request

What runs: the umockdev handler (:mod:`cardcheck.testing.usbemu.host`, system Python), and a
pcscd of its own in a private mount namespace (``unshare -m``) where a directory of ours is
bound over ``/run/pcscd``: pcsc-lite 1.9.9's daemon ignores ``PCSCLITE_CSOCK_NAME``, so this
is how it keeps away from the system's pcscd (and its vpcd readers); its config directory is
empty (``-c``), so it loads no serial or vpcd driver, only libccid through its libudev
hotplug. Clients reach it with :meth:`EmulatedReader.env` (the socket path and the umockdev
preload, so they see the emulated sysfs too). Every wait is bounded; :meth:`stop` ends what
was started, by process id. Needs root (the mount namespace) and the Debian packages
``umockdev gir1.2-umockdev-1.0 python3-gi``.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from cardcheck.errors import EnvironmentProblem
from cardcheck.testing import Running, end_process

SYSTEM_PYTHON = Path("/usr/bin/python3")
"""The Python that has Debian's gi bindings (python3-gi) for umockdev."""
PRELOAD = "libumockdev-preload.so.0"
"""umockdev's preload library: redirects /sys and the device node to the testbed."""
PACKAGES = "umockdev gir1.2-umockdev-1.0 python3-gi"
"""The Debian packages the emulation needs."""
CHANNEL_ID = 0x00200102
"""PC/SC CHANNEL_ID of the emulated reader (USB, bus 1, address 2)."""

_PACKAGE_ROOT = Path(__file__).resolve().parents[3]


def missing_requirements() -> str | None:
    """Why the emulation cannot run here (None when it can)."""
    if os.geteuid() != 0:
        return "the emulated reader needs root (a private mount namespace for its pcscd)"
    if not SYSTEM_PYTHON.exists():
        return f"{SYSTEM_PYTHON} is missing"
    for tool in ("unshare", "mount"):
        if shutil.which(tool) is None:
            return f"{tool} is missing (util-linux)"
    if _pcscd() is None:
        return "pcscd is not installed"
    probe = subprocess.run(
        [
            str(SYSTEM_PYTHON),
            "-c",
            "import gi; gi.require_version('UMockdev', '1.0'); from gi.repository import UMockdev",
        ],
        capture_output=True,
        check=False,
        timeout=30,
    )
    if probe.returncode != 0:
        return f"umockdev's Python bindings are missing (apt-get install {PACKAGES})"
    return None


def _die_with_parent() -> None:
    """In the child before exec: get SIGTERM when the process that started it dies, so that
    a killed test run leaves no emulated pcscd or handler behind (Linux prctl)."""
    import ctypes

    pr_set_pdeathsig = 1
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)


def _pcscd() -> str | None:
    return shutil.which("pcscd") or next(
        (p for p in ("/usr/sbin/pcscd", "/sbin/pcscd") if Path(p).exists()), None
    )


class EmulatedReader(Running):
    """One emulated USB CCID reader (a real descriptor) with its own pcscd."""

    def __init__(
        self,
        reader: str,
        *,
        atr: bytes | None = None,
        timeout: float = 30.0,
        idle_sleep: float = 0.01,
        data_dir: Path | None = None,
        driver_log: bool = True,
    ) -> None:
        self.reader_key = reader
        """The reader's dump name in ``all_readers_parsed.json``."""
        self.initial_atr = atr
        """A card already in the reader when pcscd starts (None: empty)."""
        self.timeout = timeout
        """Seconds any single wait may take (generous: the machine may be loaded)."""
        self.idle_sleep = idle_sleep
        self.data_dir = data_dir
        self.driver_log = driver_log
        self.workdir: Path | None = None
        """Our temporary directory: ``run`` (bound over /run/pcscd), ``conf``, logs."""
        self.root: str | None = None
        """The umockdev testbed's root directory."""
        self.host: subprocess.Popen[str] | None = None
        self.pcscd: subprocess.Popen[bytes] | None = None
        self.pcscd_log_text = ""
        """pcscd's (and libccid's) log, kept when stopped."""

    # ------------------------------------------------------------------ life cycle

    def start(self) -> EmulatedReader:
        """Start the handler and pcscd. Raises EnvironmentProblem when something is missing."""
        problem = missing_requirements()
        if problem is not None:
            raise EnvironmentProblem(problem, f"as root: apt-get install {PACKAGES}")
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.workdir = Path(tempfile.mkdtemp(prefix="cardcheck-usbemu-"))
        (self.workdir / "run").mkdir()
        (self.workdir / "conf").mkdir()
        command = [str(SYSTEM_PYTHON), "-m", "cardcheck.testing.usbemu.host", self.reader_key]
        command += ["--idle-sleep", str(self.idle_sleep)]
        if self.initial_atr is not None:
            command += ["--atr", self.initial_atr.hex()]
        if self.data_dir is not None:
            command += ["--data-dir", str(self.data_dir)]
        env = dict(os.environ)
        env["PYTHONPATH"] = str(_PACKAGE_ROOT)
        for name in ("LD_PRELOAD", "UMOCKDEV_DIR", "PYTHONHOME", "VIRTUAL_ENV"):
            env.pop(name, None)
        with (self.workdir / "host.log").open("w") as errors:
            self.host = subprocess.Popen(
                command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
                env=env,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        ready = self._read_line("the umockdev handler to start")
        self.root = str(ready["root"])
        self._start_pcscd()

    def _start_pcscd(self) -> None:
        assert self.workdir is not None
        pcscd = _pcscd()
        assert pcscd is not None
        Path("/run/pcscd").mkdir(parents=True, exist_ok=True)  # the mount point
        env = self.env(socket=False)
        if self.driver_log:
            env["LIBCCID_ifdLogLevel"] = "0x000F"
        script = 'mount --bind "$1" /run/pcscd || exit 99; exec "$2" -f -d -c "$3"'
        with (self.workdir / "pcscd.log").open("wb") as log:
            self.pcscd = subprocess.Popen(
                [
                    "unshare",
                    "-m",
                    "--propagation",
                    "private",
                    "sh",
                    "-c",
                    script,
                    "sh",
                    str(self.workdir / "run"),
                    pcscd,
                    str(self.workdir / "conf"),
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                preexec_fn=_die_with_parent,
            )
        deadline = time.monotonic() + self.timeout
        while not self.socket.exists():
            if self.pcscd.poll() is not None:
                raise EnvironmentProblem(
                    f"the emulation's pcscd exited at once (status {self.pcscd.returncode})",
                    f"see its log: {self.workdir / 'pcscd.log'}",
                )
            if time.monotonic() > deadline:
                raise EnvironmentProblem(
                    f"the emulation's pcscd did not open its socket within {self.timeout} s",
                    f"see its log: {self.workdir / 'pcscd.log'}",
                )
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop pcscd and the handler (by their process ids) and remove the work directory."""
        pcscd, self.pcscd = self.pcscd, None
        if pcscd is not None:
            end_process(pcscd)
        if self.workdir is not None and (self.workdir / "pcscd.log").exists():
            self.pcscd_log_text = (self.workdir / "pcscd.log").read_text("utf-8", "replace")
        host, self.host = self.host, None
        if host is not None:
            if host.poll() is None and host.stdin is not None:
                try:
                    host.stdin.write(json.dumps({"op": "stop"}) + "\n")
                    host.stdin.flush()
                    host.stdin.close()
                except OSError:
                    pass
            try:
                host.wait(timeout=10)
            except subprocess.TimeoutExpired:
                end_process(host)
            if host.stdout is not None:
                host.stdout.close()
        workdir, self.workdir = self.workdir, None
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)

    # ------------------------------------------------------------------ use

    @property
    def socket(self) -> Path:
        """The emulation's pcscd socket, as seen from outside its namespace."""
        if self.workdir is None:
            raise RuntimeError("the emulated reader is not started")
        return self.workdir / "run" / "pcscd.comm"

    def env(self, *, socket: bool = True, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """Environment for a process that uses the emulated reader (PC/SC and sysfs)."""
        if self.root is None:
            raise RuntimeError("the emulated reader is not started")
        env = dict(os.environ if base is None else base)
        env["UMOCKDEV_DIR"] = self.root
        preload = env.get("LD_PRELOAD", "")
        if PRELOAD not in preload:
            env["LD_PRELOAD"] = f"{PRELOAD} {preload}".strip()
        if socket:
            env["PCSCLITE_CSOCK_NAME"] = str(self.socket)
        return env

    def insert(
        self,
        atr: bytes,
        *,
        warm_atr: bytes | None = None,
        voltages: tuple[int, ...] | None = None,
        pps: str = "accept",
    ) -> None:
        """Put a card in the reader (notified on the interrupt endpoint).

        ``voltages``: the bPowerSelect values (1 5 V, 2 3 V, 3 1.8 V) at which the card
        answers (None: all); ``pps``: ``accept``, ``refuse`` or ``mute``.
        """
        self.command(
            "insert",
            atr=atr.hex(),
            warm_atr=warm_atr.hex() if warm_atr else None,
            voltages=list(voltages) if voltages is not None else None,
            pps=pps,
        )

    def remove(self) -> None:
        """Take the card out (notified on the interrupt endpoint)."""
        self.command("remove")

    def faults(
        self,
        *,
        silent_after: str | None = None,
        silent_count: int = 1,
        remove_on_pps: bool = False,
    ) -> None:
        """Switch faults on: the reader stops answering at the ``silent_count``-th message
        named ``silent_after`` (``XfrBlock``, ``IccPowerOn``...); the card is pulled out
        during the PPS."""
        self.command(
            "faults",
            silent_after=silent_after,
            silent_count=silent_count,
            remove_on_pps=remove_on_pps,
        )

    def log(self) -> list[dict[str, Any]]:
        """Every exchange so far (see :mod:`cardcheck.testing.usbemu.ccid`)."""
        answer = self.command("log")
        entries: list[dict[str, Any]] = answer["log"]
        return entries

    def clear_log(self) -> None:
        """Forget the exchanges so far."""
        self.command("clear")

    def pcscd_log(self) -> str:
        """pcscd's and libccid's log so far (all of it once stopped)."""
        if self.workdir is not None and (self.workdir / "pcscd.log").exists():
            return (self.workdir / "pcscd.log").read_text("utf-8", "replace")
        return self.pcscd_log_text

    def client(self, *args: str, timeout: float | None = None) -> dict[str, Any]:
        """Run :mod:`cardcheck.testing.usbemu.client` against this reader; its JSON answer."""
        import sys

        limit = self.timeout if timeout is None else timeout
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "cardcheck.testing.usbemu.client",
                *args,
                "--timeout",
                str(limit),
            ],
            capture_output=True,
            text=True,
            env=self.env(),
            timeout=limit + 30,
            check=False,
        )
        try:
            out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            out = {"ok": False, "error": f"client failed: {done.stderr.strip()[-500:]}"}
        return out

    def command(self, op: str, **fields: Any) -> dict[str, Any]:
        """Send one command to the handler and return its answer."""
        host = self.host
        if host is None or host.stdin is None:
            raise RuntimeError("the emulated reader is not started")
        host.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        host.stdin.flush()
        answer = self._read_line(f"the handler to answer {op!r}")
        if not answer.get("ok"):
            raise RuntimeError(f"the emulation refused {op!r}: {answer.get('error')}")
        return answer

    def _read_line(self, what: str) -> dict[str, Any]:
        host = self.host
        assert host is not None and host.stdout is not None
        stream: IO[str] = host.stdout
        ready, _, _ = select.select([stream], [], [], self.timeout)
        line = stream.readline() if ready else ""
        if not line:
            errors = ""
            if self.workdir is not None and (self.workdir / "host.log").exists():
                errors = (self.workdir / "host.log").read_text("utf-8", "replace")[-1500:]
            raise EnvironmentProblem(
                f"the umockdev handler did not answer (waiting for {what})",
                f"its errors: {errors.strip() or 'none'}",
            )
        answer: dict[str, Any] = json.loads(line)
        return answer
