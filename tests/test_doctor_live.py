"""`cardcheck doctor` against real failures: pcscd stopped, sockets missing, stale or forbidden,
fake pcscd servers speaking pcsc-lite's client protocol, programs holding the vpcd card.

The client library honours PCSCLITE_CSOCK_NAME, so a socket of the test's own stands in for
pcscd's. The fake servers follow pcsc-lite 1.9.9's client protocol as seen on the wire: the
client connects and sends a header (uint32 size, uint32 command; CMD_VERSION is 0x11) and
the version message (int32 major, int32 minor, uint32 rv: 4, 4, 0 for 1.9.9), and waits for
the version message back.
"""

from __future__ import annotations

import json
import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import textwrap
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest
from conftest import READER_0, VCardFactory
from doctor_tree import Tree, reader
from pcsc_helpers import card_holder, cli_env, run_cli

from cardcheck.testing.pcscd import Pcscd

ATR = bytes.fromhex("3B021450")
CMD_VERSION = 0x11
SERVICE_STOPPED = 0x8010001E


def doctor(*args: str, env: dict[str, str] | None = None) -> tuple[int, dict[str, object]]:
    proc = run_cli("doctor", "--json", *args, env=cli_env(**(env or {})))
    assert proc.stderr == "", proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def finding(doc: dict[str, object], code: str) -> dict[str, object]:
    found = [f for f in doc["findings"] if f["code"] == code]  # type: ignore[attr-defined]
    assert len(found) == 1, [f["code"] for f in doc["findings"]]  # type: ignore[attr-defined]
    return found[0]  # type: ignore[no-any-return]


def link(doc: dict[str, object], name: str) -> dict[str, object]:
    return next(x for x in doc["links"] if x["id"] == name)  # type: ignore[attr-defined,no-any-return]


# ---------------------------------------------------------------------------------------------
# The socket: missing, stale, forbidden


def test_socket_missing(tmp_path: Path) -> None:
    path = tmp_path / "pcscd.comm"
    code, doc = doctor(env={"PCSCLITE_CSOCK_NAME": str(path)})
    assert code == 1
    found = finding(doc, "pcscd-not-running")
    assert f"connect({path}): ENOENT" in found["evidence"]  # type: ignore[operator]
    assert f"the client was sent to {path} by PCSCLITE_CSOCK_NAME" in found["evidence"]  # type: ignore[operator]
    assert link(doc, "access")["not_checked"] == "no PC/SC service to ask for access"
    assert link(doc, "service")["status"] == "problem"


def test_socket_stale(tmp_path: Path) -> None:
    path = tmp_path / "pcscd.comm"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.bind(str(path))  # bound, never listening: what a dead pcscd leaves behind
        code, doc = doctor(env={"PCSCLITE_CSOCK_NAME": str(path)})
    assert code == 1
    found = finding(doc, "socket-stale")
    assert f"connect({path}): ECONNREFUSED" in found["evidence"]  # type: ignore[operator]
    assert "sudo systemctl restart pcscd.socket pcscd.service" in found["fix"]  # type: ignore[operator]


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run doctor as another user")
def test_socket_permission() -> None:
    # A listening socket of root's, mode 0600, in a directory everyone may enter; doctor runs
    # as nobody through setpriv.
    directory = Path(tempfile.mkdtemp(prefix="cardcheck-doctor-perm-"))
    try:
        directory.chmod(0o755)
        path = directory / "pcscd.comm"
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.bind(str(path))
            sock.listen(4)
            path.chmod(0o600)
            env = cli_env(PCSCLITE_CSOCK_NAME=str(path), HOME=str(directory))
            proc = subprocess.run(
                ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                 sys.executable, "-m", "cardcheck", "doctor", "--json"],
                capture_output=True, text=True, env=env, timeout=60, check=False,
            )  # fmt: skip
    finally:
        for entry in directory.iterdir():
            entry.unlink()
        directory.rmdir()
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    found = finding(doc, "socket-permission")
    assert f"connect({path}): EACCES" in found["evidence"]  # type: ignore[operator]


def test_pcscd_stopped(pcscd: Pcscd) -> None:
    # The real pcscd, stopped; started again afterwards for the other tests.
    if not pcscd.started:
        pytest.skip("a pcscd the tests did not start is running: it is not ours to stop")
    pcscd.stop()
    try:
        code, doc = doctor()
    finally:
        pcscd.start()
    assert code == 1
    found = finding(doc, "pcscd-not-running")
    assert "connect(/run/pcscd/pcscd.comm): ENOENT" in found["evidence"]  # type: ignore[operator]
    assert any("sudo systemctl enable --now pcscd.socket" in f for f in found["fix"])  # type: ignore[attr-defined]


# ---------------------------------------------------------------------------------------------
# Fake pcscd servers


@contextmanager
def fake_pcscd(
    path: Path, answer: Callable[[socket.socket], None], timeout: float | None = 5
) -> Iterator[None]:
    """Serve ``answer`` to every connection on ``path`` until the block ends.

    accept() blocks (no polling), so a connection is answered as soon as it arrives, as
    pcscd does; the end of the block wakes it with one last connection.
    """
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(8)
    stop = threading.Event()

    def loop() -> None:
        while True:
            conn, _ = server.accept()
            with conn:
                if stop.is_set():
                    return
                conn.settimeout(timeout)
                with suppress(OSError):
                    answer(conn)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as wake:
            wake.connect(str(path))
        thread.join(5)
        server.close()


def _read(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            break
        data += chunk
    return data


def close_unread(conn: socket.socket) -> None:
    """What pcscd does when polkit refuses the client: close at once, reading nothing."""


def read_then_close(conn: socket.socket) -> None:
    _read(conn, 8 + 12)


def other_minor_version(conn: socket.socket) -> None:
    """What a pcscd of another protocol version answers: its own version, SERVICE_STOPPED."""
    header = _read(conn, 8)
    if len(header) < 8:
        return  # doctor's raw connect() probe
    _size, command = struct.unpack("<II", header)
    assert command == CMD_VERSION
    major, minor, _rv = struct.unpack("<iiI", _read(conn, 12))
    conn.sendall(struct.pack("<iiI", major, minor + 1, SERVICE_STOPPED))
    _read(conn, 64)


@pytest.mark.parametrize(
    ("answer", "results", "raw", "code"),
    [
        # The client's code for a connection closed unread depends on whether its first
        # message was sent before the close (0x8010006A) or was still unread (0x8010001D);
        # doctor's own version message tells the case either way.
        (
            close_unread,
            ("0x8010006A", "0x8010001D"),
            "version message: pcscd closed the connection without reading it",
            "polkit-refused",
        ),
        (
            read_then_close,
            ("0x80100013",),
            "version message: pcscd read it and closed the connection without an answer",
            "connection-dropped",
        ),
        (
            other_minor_version,
            ("0x8010001E",),
            "version message (protocol 4.4): pcscd answers protocol 4.5, result 0x8010001E",
            "protocol-mismatch",
        ),
    ],
)
def test_fake_pcscd(
    tmp_path: Path,
    answer: Callable[[socket.socket], None],
    results: tuple[str, ...],
    raw: str,
    code: str,
) -> None:
    path = tmp_path / "pcscd.comm"
    with fake_pcscd(path, answer):
        status, doc = doctor(env={"PCSCLITE_CSOCK_NAME": str(path)})
    assert status == 1
    found = finding(doc, code)
    assert found["link"] == "access"
    evidence: list[str] = found["evidence"]  # type: ignore[assignment]
    assert evidence[0].startswith("SCardEstablishContext: ")
    assert evidence[0].endswith(tuple(f"({r})" for r in results))
    assert raw in evidence
    assert link(doc, "service")["status"] == "ok"  # the socket itself answers
    if code == "protocol-mismatch":
        assert any(e.startswith("client library: /") for e in evidence)


def never_answer(conn: socket.socket) -> None:
    """A hung pcscd: reads the client's messages and never answers (until it goes away)."""
    while conn.recv(64):
        pass


def test_fake_pcscd_that_never_answers(tmp_path: Path) -> None:
    path = tmp_path / "pcscd.comm"
    with fake_pcscd(path, never_answer, timeout=None):
        status, doc = doctor(env={"PCSCLITE_CSOCK_NAME": str(path)})
    assert status == 1
    found = finding(doc, "pcscd-not-answering")
    assert "version message: no answer within the timeout" in found["evidence"]  # type: ignore[operator]
    access = link(doc, "access")
    assert access["status"] == "problem"
    assert str(access["not_checked"]).startswith("PC/SC did not answer within 5 s")


# ---------------------------------------------------------------------------------------------
# Programs holding the vpcd card


@pytest.mark.parametrize(
    ("how", "code"),
    [("transaction", "card-in-transaction"), ("exclusive", "card-held-exclusively")],
)
def test_card_held_by_another_process(vcard: VCardFactory, how: str, code: str) -> None:
    vcard(ATR)
    with card_holder(READER_0, how) as pid:
        status, doc = doctor()
    assert status == 1
    found = finding(doc, code)
    assert READER_0 in found["summary"]  # type: ignore[operator]
    assert any(f"(pid {pid})" in e for e in found["evidence"])  # type: ignore[attr-defined]
    assert any("gpgconf --kill scdaemon" in f or f"pid {pid}" in f for f in found["fix"])  # type: ignore[attr-defined]


def test_healthy_stack_with_a_tree(pcscd: Pcscd, tmp_path: Path) -> None:
    tree = Tree(tmp_path / "root")
    tree.pcscd()
    tree.file("/run/udev/control", "")
    status, doc = doctor("--root", str(tree.root))
    assert doc["findings"] == [] and doc["verdict"] == "ok" and status == 0
    seen = " ".join(link(doc, "readers")["seen"])  # type: ignore[arg-type]
    assert "'Virtual PCD 00 00'" in seen and "'Virtual PCD 00 01'" in seen
    assert link(doc, "usb")["seen"][-1] == "no USB smart-card device in sysfs"  # type: ignore[index]
    assert (
        "version message (protocol 4.4): pcscd answers protocol 4.4, result success"
        in link(doc, "access")["seen"]  # type: ignore[operator]
    )


def test_kernel_driver_end_to_end(pcscd: Pcscd, tmp_path: Path) -> None:
    tree = Tree(tmp_path / "root")
    tree.pcscd()
    tree.usb("1-2", reader("ACR122U_PICC.txt"), bus=1, address=5, driver="pn533_usb")
    status, doc = doctor("--root", str(tree.root))
    assert status == 1
    assert finding(doc, "kernel-driver-bound")["severity"] == "error"
    human = run_cli("doctor", "--root", str(tree.root))
    assert human.returncode == 1
    assert human.stdout.startswith("PROBLEM: 1-2 072F:2200 ACS ACR122U PICC Interface: the kernel")


def test_check_names_the_cause_when_pcscd_is_missing(tmp_path: Path) -> None:
    path = tmp_path / "pcscd.comm"
    proc = run_cli("check", "--json", env=cli_env(PCSCLITE_CSOCK_NAME=str(path)))
    assert proc.returncode == 3
    service = json.loads(proc.stdout)["checks"][0]
    assert service["id"] == "service" and service["status"] == "fail"
    assert service["message"] == (
        "the PC/SC service (pcscd) is not running: pcscd is not running and nothing listens "
        "on its socket"
    )
    assert "code pcscd-not-running" in service["advice"]
    assert "fix: unset PCSCLITE_CSOCK_NAME" in service["advice"]


def test_doctor_usage_errors(tmp_path: Path) -> None:
    proc = run_cli("doctor", "--root", str(tmp_path / "nothing"))
    assert proc.returncode == 2
    assert "is not a directory" in proc.stderr and proc.stdout == ""
    proc = run_cli("doctor", "--ccid-list", str(tmp_path / "none.txt"))
    assert proc.returncode == 2 and "is not a file" in proc.stderr


# ---------------------------------------------------------------------------------------------
# A pcscd of the test's own, in a private mount namespace (the system's is not touched)


def in_private_pcscd(tmp_path: Path, script: str) -> subprocess.CompletedProcess[str]:
    """Run bash ``script`` in a private mount namespace where a directory of the test's is
    bound over /run/pcscd and a pcscd without readers (empty reader.conf) listens there;
    ``$PCSCD`` is its pid. pcscd 1.9.9 ignores PCSCLITE_CSOCK_NAME, hence the namespace."""
    run = tmp_path / "run"
    run.mkdir()
    conf = tmp_path / "empty.conf"
    conf.write_text("")
    body = textwrap.dedent(
        f"""
        mount --bind {run} /run/pcscd || exit 99
        /usr/sbin/pcscd --foreground -c {conf} > {tmp_path}/pcscd.log 2>&1 &
        PCSCD=$!
        i=0; while [ ! -S /run/pcscd/pcscd.comm ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
        {{ {script} ; }}
        kill -TERM $PCSCD 2>/dev/null; wait $PCSCD 2>/dev/null; true
        """
    )
    env = cli_env()
    env.pop("PCSCLITE_CSOCK_NAME", None)
    return subprocess.run(
        ["unshare", "-m", "--propagation", "private", "bash", "-c", body],
        capture_output=True, text=True, timeout=120, env=env, check=False,
    )  # fmt: skip


needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="a private pcscd needs root")


@needs_root
def test_stale_socket_of_a_killed_pcscd(tmp_path: Path) -> None:
    # pcscd killed with SIGKILL leaves its socket and pid file: the real stale socket.
    proc = in_private_pcscd(
        tmp_path,
        f"kill -KILL $PCSCD; wait $PCSCD; {sys.executable} -m cardcheck doctor --json",
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    found = finding(doc, "socket-stale")
    evidence: list[str] = found["evidence"]  # type: ignore[assignment]
    assert "connect(/run/pcscd/pcscd.comm): ECONNREFUSED" in evidence
    assert any(e.startswith("pid file says ") and e.endswith("(not running)") for e in evidence)


@needs_root
def test_check_names_the_cause_when_pcscd_has_no_reader(tmp_path: Path) -> None:
    proc = in_private_pcscd(tmp_path, f"{sys.executable} -m cardcheck check --json; echo rc=$? >&2")
    assert "rc=3" in proc.stderr, proc.stderr
    readers = json.loads(proc.stdout)["checks"][1]
    assert readers["id"] == "readers" and readers["status"] == "fail"
    assert readers["message"].startswith("PC/SC sees no reader: ")
    codes = re.findall(r"code ([a-z-]+)\)", readers["advice"])
    assert codes and codes[0] in ("no-reader", "no-reader-connected")
    # The plain hint of before is kept too.
    assert "plug the reader in and check `lsusb`" in readers["advice"]
