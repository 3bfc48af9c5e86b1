"""`cardcheck doctor` on fake sysfs, /proc and /etc trees built from real reader dumps.

The files are read through the root path parameter; the socket probe connects to a real
listening AF_UNIX socket; ``pcscd --version`` is the installed pcscd's. The PC/SC side is
given as the state PC/SC would report (the live cases are in test_doctor_live.py).
Until the emulated USB reader of the umockdev harness lands, "device present but no
reader" is produced with fake sysfs trees.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from doctor_tree import DATA, Tree, installed_ids, reader, readers

from cardcheck.compat.firmware import BOGUS_FIRMWARE
from cardcheck.doctor.collect import collect
from cardcheck.doctor.diagnose import diagnose
from cardcheck.doctor.drivers import (
    firmware_floor,
    parse_supported_readers,
)
from cardcheck.doctor.host import Host
from cardcheck.doctor.model import Diagnosis, DoctorReport, Link, LinkStatus, Verdict
from cardcheck.doctor.pcsc_state import PcscReader, PcscSurvey
from cardcheck.doctor.pcscd import parse_version_output, system_pcscd
from cardcheck.findings import Severity

ATR = bytes.fromhex("3B021450")
NO_READERS = PcscSurvey(None, None, ())
"""PC/SC answers and lists no reader."""


@pytest.fixture
def service(tmp_path: Path) -> Iterator[str]:
    """A socket answering pcsc-lite's version message as pcscd 1.9.9 does (protocol 4.4,
    success): what the raw probe sees of a running pcscd."""
    path = str(tmp_path / "pcscd.comm")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(8)

    def loop() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    if len(conn.recv(20)) == 20:
                        conn.sendall(struct.pack("<iiI", 4, 4, 0))
                except OSError:
                    pass

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    yield path
    server.shutdown(socket.SHUT_RDWR)
    server.close()
    thread.join(5)


def run(
    tree: Tree,
    service: str,
    *,
    pcsc: PcscSurvey = NO_READERS,
    env: dict[str, str] | None = None,
    platform: str = "linux",
    ccid_list: Path | None = None,
) -> DoctorReport:
    host = Host(root=tree.root, env={"PCSCLITE_CSOCK_NAME": service, **(env or {})})
    facts = collect(
        host,
        platform=platform,
        pcsc=pcsc,
        supported_readers=None if ccid_list is None else str(ccid_list),
    )
    return diagnose(facts)


def only(report: DoctorReport, code: str) -> Diagnosis:
    found = [f for f in report.findings if f.code == code]
    assert len(found) == 1, [f.code for f in report.findings]
    return found[0]


def codes(report: DoctorReport, severity: Severity = Severity.ERROR) -> set[str]:
    return {f.code for f in report.findings if f.severity is severity}


@pytest.fixture
def tree(tmp_path: Path) -> Tree:
    t = Tree(tmp_path / "root")
    t.pcscd()
    return t


# ---------------------------------------------------------------------------------------------
# USB devices without a PC/SC reader: the reason


def test_pn533_kernel_driver_holds_an_acr122u(tree: Tree, service: str) -> None:
    acr122u = reader("ACR122U_PICC.txt")  # 072F:2200, the ACR122U's PICC interface
    tree.usb("1-2", acr122u, bus=1, address=5, driver="pn533_usb")
    for module in ("pn533_usb", "pn533", "nfc"):
        (tree.root / "sys/module" / module).mkdir(parents=True)
    report = run(tree, service)
    finding = only(report, "kernel-driver-bound")
    assert finding.severity is Severity.ERROR and finding.link is Link.USB
    assert "1-2:1.0/driver -> pn533_usb" in finding.evidence
    assert "no 'blacklist pn533_usb' line in /etc/modprobe.d" in finding.evidence
    assert finding.fix[0] == "sudo modprobe -r pn533_usb pn533 nfc"
    assert "blacklist pn533_usb" in finding.fix[1]
    assert report.link(Link.USB).status is LinkStatus.PROBLEM
    assert report.verdict is Verdict.PROBLEM and report.exit_code() == 1
    # The same device with no driver bound is not blamed on the kernel.
    blacklisted = Tree(tree.root.parent / "other")
    blacklisted.pcscd()
    blacklisted.usb("1-2", acr122u, bus=1, address=5)
    assert "kernel-driver-bound" not in codes(run(blacklisted, service))


def test_usbfs_held_by_scdaemon(tree: Tree, service: str) -> None:
    gem = reader("GemPCTwin.txt")
    tree.usb("3-1", gem, bus=3, address=9, driver="usbfs")
    tree.process(4242, "scdaemon", ["scdaemon", "--multi-server"], fds=("/dev/bus/usb/003/009",))
    tree.process(4300, "bash", ["bash"], fds=("/dev/pts/0",))
    report = run(tree, service)
    finding = only(report, "usbfs-held")
    assert "/dev/bus/usb/003/009 is open in scdaemon (pid 4242)" in finding.evidence
    assert any("disable-ccid" in step for step in finding.fix)
    assert "gpgconf --kill scdaemon" in finding.fix


def test_usbfs_held_by_another_program_is_named(tree: Tree, service: str) -> None:
    gem = reader("GemPCTwin.txt")
    tree.usb("3-1", gem, bus=3, address=9, driver="usbfs")
    tree.process(777, "mytool", ["mytool", "--raw"], fds=("/dev/bus/usb/003/009",))
    finding = only(run(tree, service), "usbfs-held")
    assert finding.fix[0] == "stop mytool (pid 777)"


def test_id_in_no_info_plist(tree: Tree, service: str) -> None:
    # A reader CCID lists as supported that the installed libccid 1.5.2 does not know yet.
    known = installed_ids()
    newer = [
        r
        for r in readers().values()
        if r.section in ("supported", "shouldwork") and r.usb_id not in known
    ]
    assert newer, "the dumps should hold readers newer than the installed libccid"
    chosen = newer[0]
    tree.usb("1-4", chosen, bus=1, address=3)
    report = run(tree, service, ccid_list=DATA / "supported_readers.txt")
    finding = only(report, "reader-not-in-driver-list")
    usb_id = f"{chosen.vendor_id:04X}:{chosen.product_id:04X}"
    assert f"{usb_id} is in no Info.plist under /usr/lib/pcsc/drivers" in finding.evidence
    assert any(e.startswith("installed libccid: ") for e in finding.evidence)
    assert any(f"in the {chosen.section} section" in e for e in finding.evidence)
    # Listed by the driver: no such finding.
    listed = next(r for r in readers().values() if r.usb_id in known and r.bcd_device)
    other = Tree(tree.root.parent / "listed")
    other.pcscd()
    other.usb("1-4", listed, bus=1, address=3)
    assert "reader-not-in-driver-list" not in codes(run(other, service))


@pytest.mark.parametrize("section", ["unsupported", "disabled"])
def test_unsupported_or_disabled_in_ccid_list(tree: Tree, service: str, section: str) -> None:
    chosen = next(r for r in readers().values() if r.section == section)
    tree.libccid_without(chosen.usb_id)  # a libccid that does not drive it
    tree.usb("2-1", chosen, bus=2, address=4)
    report = run(tree, service, ccid_list=DATA / "supported_readers.txt")
    finding = only(report, f"reader-{section}")
    assert any(f"in the {section} section" in e for e in finding.evidence)
    # Without the CCID list doctor cannot tell: the id is simply not in the driver's list.
    assert f"reader-{section}" not in codes(run(tree, service))


def test_supported_readers_parser_reads_commented_disabled_lines() -> None:
    text = (DATA / "supported_readers.txt").read_text(encoding="utf-8")
    entries = parse_supported_readers(text)
    sections = {e.section for found in entries.values() for e in found}
    assert sections == {"supported", "shouldwork", "unsupported", "disabled", "duplicates"}
    # supported_readers.txt comments out disabled readers: "#0x1DB2:0x0600:DUALi DE-ABCM6"
    assert entries[(0x1DB2, 0x0600)][0].section == "disabled"
    assert entries[(0x072F, 0x90CC)][0].section == "supported"


def test_bogus_firmware(tree: Tree, service: str) -> None:
    scl010 = reader("SCL010.txt")  # 04E6:5291, bcdDevice 1.02; libccid wants 1.12
    assert scl010.bcd_device is not None
    floor = firmware_floor(scl010.vendor_id, scl010.product_id)
    assert floor is not None and scl010.bcd_device < floor
    tree.usb("1-1", scl010, bus=1, address=7)
    finding = only(run(tree, service), "bogus-firmware")
    assert "bcdDevice 1.02 (sysfs 1-1/bcdDevice)" in finding.evidence
    assert "libccid needs at least 1.12 for 04E6:5291" in finding.evidence
    # The same reader with newer firmware (SCM_SCL010.txt: 1.12) is not refused.
    newer = reader("SCM_SCL010.txt")
    other = Tree(tree.root.parent / "newer")
    other.pcscd()
    other.usb("1-1", newer, bus=1, address=7)
    assert "bogus-firmware" not in codes(run(other, service))


def test_bogus_firmware_count_over_the_dumps() -> None:
    # Of the dumps with a bcdDevice, which ones libccid's rule refuses (the sketch saw 4 of
    # 597 under emulation, counting dumps without a bcdDevice line by their descriptor).
    refused = sorted(
        r.file
        for r in readers().values()
        if r.bcd_device is not None
        and r.usb_id in BOGUS_FIRMWARE
        and r.bcd_device < BOGUS_FIRMWARE[r.usb_id]
    )
    assert refused == ["ActivCardV2.txt", "SCL010.txt"]


def test_bogus_table_matches_the_installed_libccid() -> None:
    # libccid keeps its table as (vendor, product, firmware) ints: find it in the binary.
    binary = Path("/usr/lib/pcsc/drivers/ifd-ccid.bundle/Contents/Linux/libccid.so").read_bytes()
    first = next(iter(BOGUS_FIRMWARE.items()))
    start = binary.find(struct.pack("<3i", *first[0], first[1]))
    assert start >= 0
    table: dict[tuple[int, int], int] = {}
    offset = start
    while True:
        vendor, product, firmware = struct.unpack_from("<3i", binary, offset)
        if not (0 < vendor <= 0xFFFF and 0 <= product <= 0xFFFF):
            break
        table[(vendor, product)] = firmware
        offset += 12
    assert table == BOGUS_FIRMWARE


def test_yubikey_with_ccid_off(tree: Tree, service: str) -> None:
    yubikey = reader("Yubico_Yubikey_4_CCID.txt")
    # The same key in OTP+FIDO mode: product 0x0410, one HID interface, no CCID.
    tree.usb("1-3", yubikey, bus=1, address=8, product_id=0x0410, interface_class=0x03, ccid=False)
    finding = only(run(tree, service), "yubikey-ccid-off")
    assert "product id 0410 is a USB mode without CCID" in finding.evidence
    assert finding.fix[0] == "ykman config usb --enable CCID"


def test_vendor_interface_without_ccid_descriptor(tree: Tree, service: str) -> None:
    chosen = reader("CherrySmartTerminalST2XXX.txt")
    tree.libccid_without(chosen.usb_id)
    tree.usb("1-5", chosen, bus=1, address=2, interface_class=0xFF, ccid=False)
    # A 0xFF interface says nothing by itself: CCID's list tells that it is a reader.
    assert "vendor-driver-needed" not in codes(run(tree, service))
    report = run(tree, service, ccid_list=DATA / "supported_readers.txt")
    finding = only(report, "vendor-driver-needed")
    assert "its interface has class 0xFF and no CCID class descriptor" in finding.evidence


def test_autosuspend(tree: Tree, service: str) -> None:
    omnikey = reader("OMNIKEY_AG_3121.txt")
    tree.usb("1-6", omnikey, bus=1, address=11, power="auto", runtime="active")
    # The reader works (PC/SC has it at bus 1 address 11): autosuspend is a warning.
    working = PcscSurvey(
        None, None, (PcscReader("OMNIKEY 3121 00 00", ("empty",), None, 0x0020010B, (1, 11)),)
    )
    report = run(tree, service, pcsc=working)
    finding = only(report, "usb-autosuspend")
    assert finding.severity is Severity.WARNING
    assert "1-6/power/control = auto" in finding.evidence
    assert "echo on | sudo tee /sys/bus/usb/devices/1-6/power/control" in finding.fix
    assert not report.problems
    assert report.link(Link.USB).status is LinkStatus.WARN
    # Suspended and gone from PC/SC: an error.
    gone = Tree(tree.root.parent / "gone")
    gone.pcscd()
    gone.usb("1-6", omnikey, bus=1, address=11, power="auto", runtime="suspended")
    suspended = run(gone, service)
    assert only(suspended, "usb-autosuspend").severity is Severity.ERROR
    assert "reader-not-picked-up" in codes(suspended)


def test_matched_reader_is_fine(tree: Tree, service: str) -> None:
    omnikey = reader("OMNIKEY_AG_3121.txt")
    tree.usb("1-6", omnikey, bus=1, address=11)
    working = PcscSurvey(
        None, None, (PcscReader("OMNIKEY 3121 00 00", ("empty",), None, 0x0020010B, (1, 11)),)
    )
    tree.file("/run/udev/control", "")
    report = run(tree, service, pcsc=working)
    assert report.findings == ()
    assert report.verdict is Verdict.OK and report.exit_code() == 0
    assert any("PC/SC reader 'OMNIKEY 3121 00 00'" in s for s in report.link(Link.USB).seen)


def test_no_reader_connected(tree: Tree, service: str) -> None:
    report = run(tree, service)
    assert "no-reader-connected" in codes(report)


def test_no_udev_named_when_a_reader_is_missed(tree: Tree, service: str) -> None:
    omnikey = reader("OMNIKEY_AG_3121.txt")
    tree.usb("1-6", omnikey, bus=1, address=11)
    report = run(tree, service)
    # pcscd (built with libudev) runs where /run/udev is missing.
    assert system_pcscd() is not None and system_pcscd().libudev  # type: ignore[union-attr]
    assert only(report, "no-udev").severity is Severity.WARNING
    missed = only(report, "reader-not-picked-up")
    assert "udev is not running: pcscd missed the hotplug event" in missed.evidence


def test_no_drivers(tmp_path: Path, service: str) -> None:
    tree = Tree(tmp_path / "bare")
    tree.link("/usr/sbin/pcscd", "/usr/sbin/pcscd")  # pcscd without libccid
    tree.usb("1-6", reader("OMNIKEY_AG_3121.txt"), bus=1, address=11)
    finding = only(run(tree, service), "no-drivers")
    assert finding.severity is Severity.ERROR
    assert "usbdropdir /usr/lib/pcsc/drivers: missing" in finding.evidence


# ---------------------------------------------------------------------------------------------
# Service and access, from files and a raw socket


def test_pcscd_not_installed(tmp_path: Path) -> None:
    tree = Tree(tmp_path / "empty")
    report = run(tree, str(tmp_path / "nothing.comm"), pcsc=PcscSurvey(0x8010001D, "x", ()))
    finding = only(report, "pcscd-not-installed")
    assert f"connect({tmp_path / 'nothing.comm'}): ENOENT" in finding.evidence
    assert report.link(Link.SERVICE).status is LinkStatus.PROBLEM


@pytest.mark.parametrize(
    ("markers", "env", "kind", "fix"),
    [
        (["/.flatpak-info"], {"FLATPAK_ID": "org.example.Wallet"}, "flatpak", "--socket=pcsc"),
        ([], {"SNAP_NAME": "wallet", "SNAP": "/snap/wallet/1"}, "snap", "snap connect"),
        (["/.dockerenv"], {}, "container", "-v /run/pcscd:/run/pcscd"),
    ],
)
def test_sandbox_cannot_reach_the_socket(
    tmp_path: Path, markers: list[str], env: dict[str, str], kind: str, fix: str
) -> None:
    tree = Tree(tmp_path / "sandbox")  # no pcscd inside the sandbox
    for marker in markers:
        tree.file(marker, "[Application]\nname=org.example.Wallet\n")
    report = run(
        tree, str(tmp_path / "run-pcscd.comm"), env=env, pcsc=PcscSurvey(0x8010001D, "x", ())
    )
    finding = only(report, "sandbox-no-socket")
    assert any(e.startswith(f"{kind}: ") for e in finding.evidence)
    assert any(fix in step for step in finding.fix)
    if kind == "flatpak":
        assert any(
            "flatpak override --user --socket=pcsc org.example.Wallet" in f for f in finding.fix
        )


def test_scdaemon_conf_without_pcsc_shared(tree: Tree, service: str) -> None:
    tree.file("/home/u/.gnupg/scdaemon.conf", "# mine\ndisable-ccid\n")
    report = run(tree, service, env={"HOME": "/home/u"})
    finding = only(report, "scdaemon-not-shared")
    assert finding.severity is Severity.WARNING
    assert "/home/u/.gnupg/scdaemon.conf: no pcsc-shared line" in finding.evidence
    tree.file("/home/u/.gnupg/scdaemon.conf", "disable-ccid\npcsc-shared\n")
    assert "scdaemon-not-shared" not in codes(
        run(tree, service, env={"HOME": "/home/u"}), Severity.WARNING
    )


def test_polkit_and_ssh_evidence(tree: Tree, service: str) -> None:
    refused = PcscSurvey(0x8010006A, "SCARD_W_SECURITY_VIOLATION", ())
    report = run(tree, service, pcsc=refused, env={"SSH_CONNECTION": "10.0.0.2 5555 10.0.0.1 22"})
    finding = only(report, "polkit-refused")
    assert any("SSH session" in e for e in finding.evidence)
    assert "pcscd --version does not list polkit" in finding.evidence
    assert any("org.debian.pcsc-lite.access_card" in step for step in finding.fix)
    assert report.link(Link.READERS).status is LinkStatus.NOT_CHECKED


def test_protocol_mismatch_names_a_stray_build(tree: Tree, service: str) -> None:
    tree.link("/usr/local/sbin/pcscd", "/usr/sbin/pcscd")
    mismatch = PcscSurvey(0x8010001E, "SCARD_E_SERVICE_STOPPED", ())
    finding = only(run(tree, service, pcsc=mismatch), "protocol-mismatch")
    assert "a second pcscd: /usr/local/sbin/pcscd" in finding.evidence
    assert any("remove the stray build" in step for step in finding.fix)


def test_readers_link_names_holders(tree: Tree, service: str) -> None:
    tree.process(5150, "firefox", ["/usr/lib/firefox/firefox"], pcsc=True)
    tree.file("/run/udev/control", "")
    held = PcscSurvey(
        None,
        None,
        (
            PcscReader(
                "R 00 00", ("present", "exclusive", "inuse"), b"\x3b\x02\x14\x50", None, None
            ),
            PcscReader("R 00 01", ("present", "inuse"), b"\x3b\x02\x14\x50", None, None, True),
            PcscReader("R 00 02", ("present", "mute"), None, None, None),
        ),
    )
    report = run(tree, service, pcsc=held)
    assert codes(report) == {"card-held-exclusively", "card-in-transaction", "card-mute"}
    exclusive = only(report, "card-held-exclusively")
    assert exclusive.summary == "'R 00 00': firefox (pid 5150) holds the card exclusively"
    assert "close firefox (pid 5150)" in exclusive.fix


def test_too_many_readers(tree: Tree, service: str) -> None:
    info = system_pcscd()
    assert info is not None and info.max_readers == 16
    many = PcscSurvey(
        None, None, tuple(PcscReader(f"R {i:02d}", ("empty",), None, None, None) for i in range(16))
    )
    assert only(run(tree, service, pcsc=many), "too-many-readers").severity is Severity.WARNING


# ---------------------------------------------------------------------------------------------
# pcscd --version, other systems, JSON


def test_parse_the_installed_pcscd_version() -> None:
    text = subprocess.run(
        ["/usr/sbin/pcscd", "--version"], capture_output=True, text=True, check=False
    ).stdout
    info = parse_version_output(text, "/usr/sbin/pcscd")
    version = re.search(r"pcsc-lite version ([\d.]+?)\.?$", text, re.MULTILINE)
    assert version is not None and info.version == version.group(1)
    assert info.usbdropdir == re.search(r"usbdropdir=(\S+)", text).group(1)  # type: ignore[union-attr]
    assert info.ipcdir == re.search(r"ipcdir=(\S+)", text).group(1)  # type: ignore[union-attr]
    assert "usb" in info.features and "usbdropdir=/usr/lib/pcsc/drivers" not in info.features
    assert info.max_readers == 16 and info.max_readername == 128
    assert info.polkit is ("polkit" in text.split())


def test_parse_a_polkit_build() -> None:
    text = (
        "pcsc-lite version 2.3.0.\n"
        "Enabled features: Linux x86_64-pc-linux-gnu systemd serial usb libudev "
        "usbdropdir=/usr/lib64/pcsc/drivers ipcdir=/run/pcscd polkit "
        "configdir=/etc/reader.conf.d\n"
        "MAX_READERNAME: 128, PCSCLITE_MAX_READERS_CONTEXTS: 16\n"
    )
    info = parse_version_output(text)
    assert info.version == "2.3.0" and info.polkit and info.libudev
    assert info.usbdropdir == "/usr/lib64/pcsc/drivers"
    assert parse_version_output("garbage").version is None


def test_libccid_info_plist_comes_from_usbdropdir() -> None:
    from cardcheck.compat.driver import libccid_info_plist

    info = system_pcscd()
    assert info is not None
    assert libccid_info_plist() == Path(info.usbdropdir) / "ifd-ccid.bundle/Contents/Info.plist"


@pytest.mark.parametrize("platform", ["darwin", "win32", "freebsd14"])
def test_other_systems_say_what_they_cannot_check(platform: str, tmp_path: Path) -> None:
    one = PcscSurvey(None, None, (PcscReader("R 00 00", ("empty",), None, None, None),))
    report = diagnose(collect(Host(root=tmp_path), platform=platform, pcsc=one))
    usb = report.link(Link.USB)
    assert usb.status is LinkStatus.NOT_CHECKED
    assert usb.not_checked == (f"USB devices are read from Linux sysfs; this system is {platform}")
    # PC/SC itself is asked everywhere; the socket and unit files only on Linux.
    assert report.link(Link.SERVICE).seen == ("the PC/SC service answers",)
    assert report.verdict is Verdict.INCOMPLETE and report.exit_code() == 3
    # No reader at all is a problem there too.
    none = diagnose(collect(Host(root=tmp_path), platform=platform, pcsc=NO_READERS))
    assert only(none, "no-reader").link is Link.READERS and none.exit_code() == 1
    stopped = diagnose(
        collect(Host(root=tmp_path), platform=platform, pcsc=PcscSurvey(0x8010001D, "x", ()))
    )
    finding = only(stopped, "no-service")
    assert stopped.link(Link.SERVICE).not_checked is not None
    if platform == "win32":
        assert finding.fix[0] == "sc start SCardSvr"
    assert stopped.exit_code() == 1


def test_render_every_case_without_a_traceback(
    tree: Tree, service: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cardcheck.render.doctor import render_doctor

    monkeypatch.setenv("NO_COLOR", "1")
    tree.usb("1-2", reader("ACR122U_PICC.txt"), bus=1, address=5, driver="pn533_usb")
    render_doctor(run(tree, service))
    out = capsys.readouterr().out
    assert out.startswith("PROBLEM: 1-2 072F:2200")
    assert "fix: sudo modprobe -r pn533_usb" in out
    one = PcscSurvey(None, None, (PcscReader("R 00 00", ("empty",), None, None, None),))
    render_doctor(diagnose(collect(Host(root=tree.root), platform="darwin", pcsc=one)))
    out = capsys.readouterr().out
    assert out.startswith("INCOMPLETE")
    assert "not checked: USB devices are read from Linux sysfs; this system is darwin" in out


def test_json_contract(tree: Tree, service: str) -> None:
    tree.usb("1-2", reader("ACR122U_PICC.txt"), bus=1, address=5, driver="pn533_usb")
    doc = json.loads(json.dumps(run(tree, service).to_json()))
    assert set(doc) == {"verdict", "platform", "root", "links", "findings"}
    assert doc["verdict"] == "problem" and doc["platform"] == "linux"
    assert [link["id"] for link in doc["links"]] == ["service", "access", "usb", "readers"]
    for link in doc["links"]:
        assert set(link) == {"id", "status", "seen", "not_checked", "findings"}
    for finding in doc["findings"]:
        assert set(finding) == {"code", "severity", "link", "summary", "evidence", "cause", "fix"}
    usb = doc["links"][2]
    assert "kernel-driver-bound" in usb["findings"] and usb["status"] == "problem"


# ---------------------------------------------------------------------------------------------
# cardcheck check asks doctor when PC/SC lists no reader


class _NoReaders:
    """A PC/SC context that lists no reader (a fake backend for the check's flow)."""

    def __enter__(self) -> _NoReaders:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def reader_states(self) -> tuple[()]:
        return ()


def test_check_names_the_cause_when_no_reader(
    tree: Tree, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cardcheck.doctor.collect as collect_module
    from cardcheck.checkmodel import CheckStatus
    from cardcheck.checkrun import CheckOptions, run_check

    tree.usb("1-2", reader("ACR122U_PICC.txt"), bus=1, address=5, driver="pn533_usb")
    real = collect_module.collect
    host = Host(root=tree.root, env={"PCSCLITE_CSOCK_NAME": service})
    monkeypatch.setattr(collect_module, "collect", lambda: real(host, pcsc=NO_READERS))
    report = run_check(CheckOptions(), pcsc_factory=_NoReaders)  # type: ignore[arg-type,return-value]
    readers_stage = next(c for c in report.checks if c.id == "readers")
    assert readers_stage.status is CheckStatus.FAIL
    assert readers_stage.message == (
        "PC/SC sees no reader: 1-2 072F:2200 ACS ACR122U PICC Interface: the kernel driver "
        "pn533_usb holds this reader"
    )
    assert readers_stage.advice is not None
    assert "fix: sudo modprobe -r pn533_usb" in readers_stage.advice
    assert report.exit_code() == 3


# ---------------------------------------------------------------------------------------------
# The README documents the command and every cause


def test_readme_documents_doctor() -> None:
    from pcsc_helpers import run_cli

    repo = Path(__file__).resolve().parents[1]
    readme = (repo / "README.md").read_text(encoding="utf-8")
    proc = run_cli("doctor", "--help")
    assert proc.returncode == 0
    usage = next(line for line in proc.stdout.splitlines() if line.startswith("Usage:"))
    assert usage in readme
    for option in set(re.findall(r"^\s+(?:-\w, )?(--[a-z-]+)", proc.stdout, re.M)) - {"--help"}:
        assert f"`{option}" in readme, option
    folder = repo / "cardcheck" / "doctor" / "diagnose"
    source = "".join(path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.py")))
    emitted = set(re.findall(r'diagnosis\(\s*"([a-z-]+)"', source))
    emitted |= {"polkit-refused", "connection-dropped", "reader-unsupported", "reader-disabled"}
    assert len(emitted) > 25
    troubleshooting = readme.split("## Troubleshooting", 1)[1].split("\n## ", 1)[0]
    for code in emitted:
        assert f"`{code}`" in troubleshooting, code
