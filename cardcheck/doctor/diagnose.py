"""The diagnosis: from the facts to one report per link, each cause with evidence and a fix.

Pure: reads nothing, prints nothing. The causes and their signals follow the project's
troubleshooting table (shared/TROUBLESHOOTING.md); the README's "Troubleshooting" section
lists every code.
"""

from __future__ import annotations

from cardcheck.compat.firmware import bcd_text
from cardcheck.doctor.drivers import (
    LIBCCID_BUNDLE,
    OPTION_USE_BOGUS_FIRMWARE,
    YUBICO_VENDOR,
    YUBIKEY_WITHOUT_CCID,
    DriverBundle,
    firmware_floor,
)
from cardcheck.doctor.facts import Facts
from cardcheck.doctor.model import Diagnosis, DoctorReport, Link, LinkReport, link_report
from cardcheck.doctor.pcsc_state import PcscReader
from cardcheck.doctor.procs import ProcessInfo
from cardcheck.doctor.socket_probe import CLIENT_PROTOCOL, Exchange, SocketState
from cardcheck.doctor.usb import UsbDeviceFacts
from cardcheck.findings import Severity

ERROR, WARNING, INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

NO_SERVICE = 0x8010001D
SERVICE_STOPPED = 0x8010001E
COMM_ERROR = 0x80100013
SECURITY_VIOLATION = 0x8010006A
NFC_DRIVERS = frozenset({"pn533_usb", "pn533", "port100", "nfc"})
"""Kernel drivers that take NFC readers (ACR122U and friends) away from pcscd."""

POLKIT_RULE = (
    "sudo tee /etc/polkit-1/rules.d/60-pcsc.rules <<'EOF'\n"
    "polkit.addRule(function(action, subject) {\n"
    '    if ((action.id == "org.debian.pcsc-lite.access_pcsc" ||\n'
    '         action.id == "org.debian.pcsc-lite.access_card") &&\n'
    '        subject.user == "YOUR-USER") { return polkit.Result.YES; }\n'
    "});\n"
    "EOF"
)
"""A polkit rule letting one user use PC/SC outside an active local session."""


def _d(
    code: str,
    severity: Severity,
    link: Link,
    summary: str,
    evidence: list[str],
    cause: str,
    fix: list[str],
) -> Diagnosis:
    return Diagnosis(code, severity, link, summary, tuple(evidence), cause, tuple(fix))


def _hex(code: int) -> str:
    return f"0x{code:08X}"


# -- service ---------------------------------------------------------------------------------


def _service(facts: Facts) -> LinkReport:
    seen: list[str] = []
    found: list[Diagnosis] = []
    if not facts.platform.startswith("linux"):
        pcsc = facts.pcsc
        if pcsc is not None and pcsc.result is None and pcsc.unavailable is None:
            seen.append("the PC/SC service answers")
            return link_report(Link.SERVICE, seen, found)
        if pcsc is not None and pcsc.result == NO_SERVICE:
            found.append(_no_service_elsewhere(facts))
        return link_report(
            Link.SERVICE,
            seen,
            found,
            not_checked=f"pcscd's socket, unit files and version are Linux checks; this "
            f"system is {facts.platform}",
        )
    info = facts.pcscd
    if facts.pcscd_path is None:
        seen.append("pcscd: not installed (no /usr/sbin/pcscd, /usr/local/sbin/pcscd)")
    elif info is None:
        seen.append(f"pcscd: {facts.pcscd_path} (it did not answer --version)")
    else:
        features = " ".join(info.features)
        seen.append(f"pcscd: {facts.pcscd_path}, pcsc-lite {info.version} ({features})")
        seen.append(
            f"pcscd settings: usbdropdir={info.usbdropdir} ipcdir={info.ipcdir}"
            + (f", at most {info.max_readers} readers" if info.max_readers else "")
        )
    if facts.socket_unit:
        enabled = "enabled" if facts.socket_enabled else "not enabled"
        seen.append(f"systemd unit pcscd.socket: installed, {enabled}")
    if facts.pid_file is not None:
        alive = "running" if facts.pid_alive else "no such process"
        seen.append(f"pid file: {facts.pid_file} ({alive})")
    probe = facts.socket
    if probe is not None:
        origin = " (from PCSCLITE_CSOCK_NAME)" if probe.from_env else ""
        state = probe.state.value + (f", {probe.errno_name}" if probe.errno_name else "")
        seen.append(f"socket {probe.path}{origin}: {state}")
        diagnosis = _socket_problem(facts)
        if diagnosis is not None:
            found.append(diagnosis)
    return link_report(Link.SERVICE, seen, found)


def _no_service_elsewhere(facts: Facts) -> Diagnosis:
    if facts.platform == "win32":
        fix = [
            "sc start SCardSvr",
            "sc config SCardSvr start= demand   (so Windows starts it when a reader is plugged)",
        ]
        cause = "the Windows Smart Card service (SCardSvr) is stopped"
    else:
        fix = ["restart the machine's smart-card service, then run cardcheck doctor again"]
        cause = "the system's PC/SC service does not run"
    return _d(
        "no-service",
        ERROR,
        Link.SERVICE,
        "the PC/SC service does not answer",
        [f"SCardEstablishContext: SCARD_E_NO_SERVICE ({_hex(NO_SERVICE)})"],
        cause,
        fix,
    )


def _socket_problem(facts: Facts) -> Diagnosis | None:
    probe = facts.socket
    assert probe is not None
    state = probe.state
    if state is SocketState.ANSWERS:
        return None
    evidence = [f"connect({probe.path}): {probe.errno_name}"]
    if probe.from_env:
        evidence.append(f"PCSCLITE_CSOCK_NAME={probe.path}")
    if facts.pid_file is not None:
        alive = "alive" if facts.pid_alive else "not running"
        evidence.append(f"pid file says {facts.pid_file} ({alive})")
    sandbox = facts.sandbox
    if state is SocketState.MISSING:
        if sandbox is not None and (sandbox.kind != "container" or facts.pcscd_path is None):
            return _sandbox_no_socket(facts, evidence)
        if facts.pcscd_path is None:
            return _d(
                "pcscd-not-installed",
                ERROR,
                Link.SERVICE,
                "the PC/SC service (pcscd) is not installed",
                [*evidence, "no pcscd executable in /usr/sbin or /usr/local/sbin"],
                "PC/SC programs talk to readers through pcscd; without it every program "
                "gets SCARD_E_NO_SERVICE",
                [
                    "sudo apt install pcscd libccid        (Debian, Ubuntu)",
                    "sudo dnf install pcsc-lite pcsc-lite-ccid   (Fedora)",
                    "sudo systemctl enable --now pcscd.socket",
                ],
            )
        unit = (
            f"the client was sent to {probe.path} by PCSCLITE_CSOCK_NAME"
            if probe.from_env
            else "pcscd.socket is installed but not enabled"
            if facts.socket_unit and not facts.socket_enabled
            else "pcscd.socket is enabled but not listening"
            if facts.socket_unit
            else "no pcscd.socket unit (no systemd socket activation)"
        )
        fix = [
            "sudo systemctl enable --now pcscd.socket   (systemd starts pcscd on first use)",
            "or start it by hand: sudo pcscd",
        ]
        if probe.from_env:
            fix.insert(0, "unset PCSCLITE_CSOCK_NAME, or point it at the socket pcscd listens on")
        if sandbox is not None:
            evidence.append(f"running in a container: {', '.join(sandbox.markers)}")
            fix.append("or use the host's pcscd: run the container with -v /run/pcscd:/run/pcscd")
        return _d(
            "pcscd-not-running",
            ERROR,
            Link.SERVICE,
            "pcscd is not running and nothing listens on its socket",
            [*evidence, unit],
            "pcscd is installed but not running, and its socket is not there for systemd to "
            "start it: every PC/SC call gives SCARD_E_NO_SERVICE",
            fix,
        )
    if state is SocketState.REFUSED:
        return _d(
            "socket-stale",
            ERROR,
            Link.SERVICE,
            "pcscd's socket is there but nobody listens on it",
            evidence,
            "a stale socket: pcscd crashed or was killed and left its socket file behind "
            "(or its socket unit was stopped); clients get SCARD_E_NO_SERVICE",
            [
                "sudo systemctl restart pcscd.socket pcscd.service",
                f"without systemd: sudo rm {probe.path} && sudo pcscd",
                "see why it stopped: journalctl -u pcscd -b",
            ],
        )
    if state is SocketState.PERMISSION:
        return _d(
            "socket-permission",
            ERROR,
            Link.SERVICE,
            "this user may not open pcscd's socket",
            evidence,
            "the socket (or its directory) does not let this user in; pcscd's socket is "
            "normally mode 0666 in a world-readable directory, and clients get "
            "SCARD_E_NO_SERVICE otherwise",
            [
                f"ls -l {probe.path}; ls -ld {probe.path.rsplit('/', 1)[0]}",
                "sudo systemctl restart pcscd.socket   (recreates it with the right mode)",
                "in a container: mount the host's /run/pcscd with its permissions",
            ],
        )
    return _d(
        "socket-unusable",
        ERROR,
        Link.SERVICE,
        f"pcscd's socket cannot be used ({state.value})",
        evidence,
        "the path is not a listening Unix socket that answers",
        [f"ls -l {probe.path}", "sudo systemctl restart pcscd.socket pcscd.service"],
    )


def _sandbox_no_socket(facts: Facts, evidence: list[str]) -> Diagnosis:
    sandbox = facts.sandbox
    assert sandbox is not None
    app = sandbox.app or "APP"
    fixes = {
        "flatpak": [
            "on the host: sudo systemctl enable --now pcscd.socket, then restart the app",
            f"give the app the PC/SC socket: flatpak override --user --socket=pcsc {app}",
        ],
        "snap": [
            "on the host: sudo systemctl enable --now pcscd.socket, then restart the app",
            f"connect the interface: sudo snap connect {app}:pcscd",
        ],
        "container": [
            "run pcscd on the host: sudo systemctl enable --now pcscd.socket",
            "share its socket: docker run -v /run/pcscd:/run/pcscd ...",
        ],
    }
    return _d(
        "sandbox-no-socket",
        ERROR,
        Link.SERVICE,
        f"this {sandbox.kind} sandbox cannot reach the host's pcscd socket",
        [*evidence, f"{sandbox.kind}: {', '.join(sandbox.markers)}"],
        "the sandbox has no view of the host's /run/pcscd (or the host's pcscd is not "
        "running): PC/SC works on the host and fails inside",
        fixes[sandbox.kind],
    )


# -- access ----------------------------------------------------------------------------------


def _access(facts: Facts) -> LinkReport:
    seen: list[str] = []
    found: list[Diagnosis] = []
    pcsc = facts.pcsc
    if facts.sandbox is not None:
        seen.append(f"sandbox: {facts.sandbox.kind} ({', '.join(facts.sandbox.markers)})")
    if facts.ssh:
        seen.append(f"SSH session: SSH_CONNECTION={facts.ssh}")
    if facts.client_library:
        seen.append(f"PC/SC client library: {facts.client_library}")
    exchange = _exchange_text(facts)
    if exchange is not None:
        seen.append(exchange)
    answer = None if facts.socket is None else facts.socket.version
    silent = answer is not None and answer.exchange is Exchange.NO_ANSWER
    if pcsc is None or pcsc.unavailable is not None:
        why = "PC/SC was not asked" if pcsc is None else pcsc.unavailable
        if silent or (pcsc is not None and pcsc.hung):
            found.append(_not_answering(facts, why))
        return link_report(Link.ACCESS, seen, found, not_checked=why)
    if pcsc.result is None:
        seen.append("SCardEstablishContext: success")
        return link_report(Link.ACCESS, seen, found)
    seen.append(f"SCardEstablishContext: {pcsc.result_name} ({_hex(pcsc.result)})")
    answers = facts.socket is not None and facts.socket.state is SocketState.ANSWERS
    if pcsc.result == NO_SERVICE and not answers:
        # The service link names the cause (the socket's state); access cannot be tried.
        return link_report(
            Link.ACCESS, seen, found, not_checked="no PC/SC service to ask for access"
        )
    kind = _access_kind(facts, pcsc.result)
    if kind == "polkit":
        found.append(_polkit(facts, "polkit-refused"))
    elif kind == "dropped":
        found.append(_polkit(facts, "connection-dropped"))
    elif kind == "mismatch":
        found.append(_mismatch(facts))
    elif pcsc.result == NO_SERVICE:
        found.append(
            _d(
                "no-service-but-socket",
                ERROR,
                Link.ACCESS,
                "PC/SC reports no service although pcscd's socket answers",
                [f"SCardEstablishContext: {_hex(NO_SERVICE)}", *([exchange] if exchange else [])],
                "this program's client library uses another socket than the one probed "
                "(another pcsc-lite build, a different PCSCLITE_CSOCK_NAME)",
                ["ldd $(command -v pcsc_scan) | grep pcsclite", "env | grep PCSCLITE"],
            )
        )
    else:
        found.append(
            _d(
                "pcsc-refused",
                ERROR,
                Link.ACCESS,
                f"PC/SC refused a context: {pcsc.result_name}",
                [f"SCardEstablishContext: {_hex(pcsc.result)}"],
                "the PC/SC service answered with an error doctor has no rule for",
                ["journalctl -u pcscd -b", "sudo pcscd -f -d   (after stopping the service)"],
            )
        )
    return link_report(Link.ACCESS, seen, found)


def _not_answering(facts: Facts, why: str | None) -> Diagnosis:
    path = "/run/pcscd/pcscd.comm" if facts.socket is None else facts.socket.path
    evidence = [e for e in (_exchange_text(facts), why) if e]
    return _d(
        "pcscd-not-answering",
        ERROR,
        Link.ACCESS,
        "pcscd accepts connections but does not answer",
        evidence,
        "the process on pcscd's socket is stuck (pcscd hung in a reader driver, or stopped), "
        "or something else listens there: every PC/SC program waits",
        [
            "sudo systemctl restart pcscd",
            f"who listens there: sudo fuser -v {path}",
            "why it hung: journalctl -u pcscd -b",
        ],
    )


def _exchange_text(facts: Facts) -> str | None:
    probe = facts.socket
    if probe is None or probe.version is None:
        return None
    answer = probe.version
    if answer.exchange is Exchange.ANSWERED:
        result = "success" if answer.result == 0 else _hex(answer.result or 0)
        return (
            f"version message (protocol {CLIENT_PROTOCOL[0]}.{CLIENT_PROTOCOL[1]}): pcscd "
            f"answers protocol {answer.major}.{answer.minor}, result {result}"
        )
    return {
        Exchange.CLOSED_UNREAD: "version message: pcscd closed the connection without reading it",
        Exchange.CLOSED_AFTER_READING: "version message: pcscd read it and closed the "
        "connection without an answer",
        Exchange.NO_ANSWER: "version message: no answer within the timeout",
    }[answer.exchange]


def _access_kind(facts: Facts, result: int) -> str | None:
    """polkit, dropped or mismatch: from pcscd's own behaviour when the probe saw it (the
    client's result code depends on timing), else from the PC/SC result."""
    answer = None if facts.socket is None else facts.socket.version
    if result != 0 and answer is not None:
        if answer.exchange is Exchange.CLOSED_UNREAD:
            return "polkit"
        if answer.exchange is Exchange.CLOSED_AFTER_READING:
            return "dropped"
        if answer.exchange is Exchange.ANSWERED and answer.result == SERVICE_STOPPED:
            return "mismatch"
    return {SECURITY_VIOLATION: "polkit", COMM_ERROR: "dropped", SERVICE_STOPPED: "mismatch"}.get(
        result
    )


def _polkit(facts: Facts, code: str) -> Diagnosis:
    pcsc = facts.pcsc
    assert pcsc is not None and pcsc.result is not None
    evidence = [f"SCardEstablishContext: {pcsc.result_name} ({_hex(pcsc.result)})"]
    exchange = _exchange_text(facts)
    if exchange is not None:
        evidence.append(exchange)
    if facts.pcscd is not None:
        evidence.append(
            "pcscd is built with polkit"
            if facts.pcscd.polkit
            else "pcscd --version does not list polkit"
        )
    if facts.polkit_policy:
        evidence.append(f"polkit policy: {facts.polkit_policy}")
    if facts.ssh:
        evidence.append(f"SSH session (SSH_CONNECTION={facts.ssh}): not an active local session")
    if facts.sandbox is not None:
        evidence.append(f"{facts.sandbox.kind}: {', '.join(facts.sandbox.markers)}")
    fix = [
        "run the program from a local, active desktop session (not over SSH, cron or a service)",
        "or allow this user with a polkit rule:\n" + POLKIT_RULE,
        "then: sudo systemctl restart pcscd",
    ]
    if code == "polkit-refused":
        return _d(
            code,
            ERROR,
            Link.ACCESS,
            "pcscd refuses this client (polkit)",
            evidence,
            "pcscd asks polkit whether this process may use PC/SC and closes the connection "
            "unread when not: clients from pcsc-lite 1.9.9 on report it as "
            "SCARD_W_SECURITY_VIOLATION (or SCARD_E_NO_SERVICE when their first message "
            "was already on its way), older ones as SCARD_F_COMM_ERROR",
            fix,
        )
    return _d(
        code,
        ERROR,
        Link.ACCESS,
        "pcscd dropped the connection after the first message",
        evidence,
        "pcscd read the client's first message and closed the socket: a polkit refusal as "
        "a client older than pcsc-lite 1.9.9 sees it, or pcscd crashed on the request",
        ["journalctl -u pcscd -b   (a polkit refusal is logged there)", *fix],
    )


def _mismatch(facts: Facts) -> Diagnosis:
    pcsc = facts.pcsc
    assert pcsc is not None and pcsc.result is not None
    evidence = [f"SCardEstablishContext: {pcsc.result_name} ({_hex(pcsc.result)})"]
    exchange = _exchange_text(facts)
    if exchange is not None:
        evidence.append(exchange)
    fix: list[str] = []
    if facts.pcscd is not None:
        evidence.append(f"pcscd: pcsc-lite {facts.pcscd.version} ({facts.pcscd_path})")
    if facts.client_library:
        evidence.append(f"client library: {facts.client_library}")
    if facts.stray_pcscd:
        evidence.append(f"a second pcscd: {facts.stray_pcscd}")
        fix.append(
            f"remove the stray build (sudo rm {facts.stray_pcscd} and its libpcsclite in "
            "/usr/local/lib), then sudo systemctl restart pcscd"
        )
    if facts.client_library and "/usr/local/" in facts.client_library:
        fix.append("make programs use the system's libpcsclite: remove /usr/local/lib/libpcsclite*")
    if facts.sandbox is not None:
        evidence.append(f"{facts.sandbox.kind}: {', '.join(facts.sandbox.markers)}")
        if facts.sandbox.kind == "flatpak":
            fix.append("update the app and its runtime: flatpak update")
        elif facts.sandbox.kind == "snap":
            fix.append("refresh the snap: sudo snap refresh")
        else:
            fix.append("install the host's pcsc-lite version in the container image")
    fix.append("make the client library and pcscd come from the same pcsc-lite release")
    return _d(
        "protocol-mismatch",
        ERROR,
        Link.ACCESS,
        "this program's PC/SC library and pcscd speak different protocol versions",
        evidence,
        "pcscd answered the client's version message with another protocol version and "
        "refused it (SCARD_E_SERVICE_STOPPED): the client library and the daemon come from "
        "different pcsc-lite releases (Flatpak or snap runtime, a build in /usr/local)",
        fix,
    )


# -- usb -------------------------------------------------------------------------------------


def _is_reader(facts: Facts, device: UsbDeviceFacts) -> bool:
    key = (device.vendor_id, device.product_id)
    if device.smart_card_interfaces or device.has_ccid_descriptor:
        return True
    if any(key in b.readers for b in facts.bundles) or key in facts.supported:
        return True
    return device.vendor_id == YUBICO_VENDOR


def _usb(facts: Facts) -> LinkReport:
    seen: list[str] = []
    found: list[Diagnosis] = []
    if not facts.platform.startswith("linux"):
        return link_report(
            Link.USB,
            seen,
            found,
            not_checked=f"USB devices are read from Linux sysfs; this system is {facts.platform}",
        )
    if facts.usb is None:
        return link_report(
            Link.USB,
            seen,
            found,
            not_checked="/sys/bus/usb/devices is not there (sysfs not mounted, or no USB)",
        )
    pcsc = facts.pcsc
    pcsc_ok = pcsc is not None and pcsc.result is None and pcsc.unavailable is None
    readers = pcsc.readers if pcsc is not None else ()
    by_place = {r.usb: r for r in readers if r.usb is not None}
    devices = [d for d in facts.usb if _is_reader(facts, d)]
    bundles = ", ".join(b.name for b in facts.bundles) or "none"
    seen.append(f"driver bundles in {facts.usbdropdir}: {bundles}")
    if facts.supported_path:
        seen.append(f"CCID reader list: {facts.supported_path}")
    if facts.usbdropdir is not None and not facts.bundles:
        found.append(
            _d(
                "no-drivers",
                ERROR if devices else WARNING,
                Link.USB,
                "pcscd has no USB reader driver",
                [
                    f"usbdropdir {facts.usbdropdir}: "
                    + ("no driver bundle" if facts.usbdropdir_exists else "missing")
                ],
                "pcscd loads USB reader drivers (libccid) from its usbdropdir; with none, "
                "no USB reader ever appears",
                ["sudo apt install libccid", "sudo systemctl restart pcscd"],
            )
        )
    if facts.pcscd is not None and facts.pcscd.libudev and not facts.udev_running:
        found.append(
            _d(
                "no-udev",
                WARNING,
                Link.USB,
                "pcscd finds USB readers through udev, but udev is not running here",
                ["pcscd --version lists libudev", "/run/udev is missing"],
                "without udev pcscd sees no hotplug events: readers appear only after a "
                "restart of pcscd, or never (containers, an initramfs without udev)",
                [
                    "run udev, or mount the host's /run/udev into the container",
                    "restart pcscd after plugging the reader in",
                ],
            )
        )
    if not devices:
        seen.append("no USB smart-card device in sysfs")
        if pcsc_ok and not readers:
            found.append(
                _d(
                    "no-reader-connected",
                    ERROR,
                    Link.USB,
                    "no smart-card reader is connected",
                    ["no USB device with a smart-card (0x0B) interface or a known reader id"],
                    "PC/SC has no reader and none is plugged in (or the cable/port is dead)",
                    ["plug the reader in (another port, another cable); lsusb should list it"],
                )
            )
        return link_report(Link.USB, seen, found)
    for device in devices:
        reader = by_place.get((device.busnum, device.devnum))
        where = f"bus {device.busnum} address {device.devnum}"
        if reader is not None:
            seen.append(f"{device.label} ({where}): PC/SC reader {reader.name!r}")
        elif pcsc_ok:
            seen.append(f"{device.label} ({where}): no PC/SC reader")
        else:
            seen.append(f"{device.label} ({where})")
        found.extend(_device_findings(facts, device, matched=reader is not None, pcsc_ok=pcsc_ok))
    return link_report(Link.USB, seen, found)


def _holders(facts: Facts, node: str) -> list[ProcessInfo]:
    return [p for p in facts.processes if node in p.usb_nodes]


def _device_findings(
    facts: Facts, device: UsbDeviceFacts, *, matched: bool, pcsc_ok: bool
) -> list[Diagnosis]:
    out: list[Diagnosis] = []
    key = (device.vendor_id, device.product_id)
    label = device.label
    claimed = [b for b in facts.bundles if key in b.readers]
    if len(claimed) > 1:
        out.append(
            _d(
                "driver-conflict",
                WARNING,
                Link.USB,
                f"{label}: {len(claimed)} driver bundles claim this reader",
                [f"{b.plist} lists {device.usb_id}" for b in claimed],
                "pcscd loads whichever bundle it finds first; the other one may be the one "
                "that works",
                ["remove (or move out of the usbdropdir) the bundle you do not want"],
            )
        )
    if device.power_control == "auto":
        status = device.runtime_status or "unknown"
        out.append(
            _d(
                "usb-autosuspend",
                ERROR if not matched and pcsc_ok and status == "suspended" else WARNING,
                Link.USB,
                f"{label}: USB autosuspend is allowed",
                [
                    f"{device.name}/power/control = auto",
                    f"{device.name}/power/runtime_status = {status}",
                ],
                "some readers do not survive a suspend/resume: they vanish or reset "
                "(LIBUSB_ERROR_IO / NO_DEVICE in pcscd's log); libccid's udev rule turns "
                "autosuspend on for CCID readers",
                [
                    f"echo on | sudo tee /sys/bus/usb/devices/{device.name}/power/control",
                    "to keep it: a udev rule, e.g. "
                    f'ACTION=="add", ATTR{{idVendor}}=="{device.vendor_id:04x}", '
                    f'ATTR{{idProduct}}=="{device.product_id:04x}", '
                    'TEST=="power/control", ATTR{power/control}="on" '
                    "in /etc/udev/rules.d/92-reader-power.rules",
                    "then replug the reader",
                ],
            )
        )
    if matched or not pcsc_ok:
        return out
    cause = _why_no_reader(facts, device, claimed)
    out.insert(0, cause)
    return out


def _why_no_reader(facts: Facts, device: UsbDeviceFacts, claimed: list[DriverBundle]) -> Diagnosis:
    key = (device.vendor_id, device.product_id)
    label = device.label
    # A YubiKey whose USB mode leaves the CCID interface out.
    if device.vendor_id == YUBICO_VENDOR and not device.smart_card_interfaces:
        known = device.product_id in YUBIKEY_WITHOUT_CCID
        return _d(
            "yubikey-ccid-off",
            ERROR,
            Link.USB,
            f"{label}: this YubiKey has its smart-card (CCID) interface switched off",
            [
                f"product id {device.product_id:04X}"
                + (" is a USB mode without CCID" if known else ""),
                "no interface of class 0x0B",
            ],
            "the key's USB configuration enables OTP and/or FIDO only, so there is no reader "
            "for pcscd to drive",
            ["ykman config usb --enable CCID", "then replug the key"],
        )
    # Another kernel driver (or a userspace program through usbfs) holds the interface.
    for iface in device.smart_card_interfaces or device.vendor_interfaces:
        if iface.driver == "usbfs":
            holders = _holders(facts, device.node)
            names = ", ".join(p.label for p in holders)
            evidence = [f"{iface.name}/driver -> usbfs", f"no PC/SC reader at {device.node}"]
            if holders:
                evidence.append(f"{device.node} is open in {names}")
            elif not facts.all_processes_visible:
                evidence.append("other users' processes are not visible without root")
            fix = ["find the program: sudo fuser -v " + device.node]
            if any(p.comm == "scdaemon" for p in holders) or not holders:
                fix = [
                    "echo disable-ccid >> ~/.gnupg/scdaemon.conf   (GnuPG then uses PC/SC)",
                    "gpgconf --kill scdaemon",
                    "replug the reader",
                    *fix,
                ]
            else:
                fix = [f"stop {names}", "replug the reader", *fix]
            return _d(
                "usbfs-held",
                ERROR,
                Link.USB,
                f"{label}: another program drives this reader directly over USB",
                evidence,
                "a program claimed the USB interface through usbfs (GnuPG's scdaemon does "
                "this with its own CCID driver), so pcscd cannot open the reader",
                fix,
            )
        if iface.driver is not None:
            loaded = sorted(m for m in facts.loaded_modules if m in NFC_DRIVERS)
            evidence = [f"{iface.name}/driver -> {iface.driver}"]
            if loaded:
                evidence.append("loaded: " + ", ".join(f"/sys/module/{m}" for m in loaded))
            blacklisted = iface.driver in facts.blacklisted_modules
            evidence.append(
                f"{iface.driver} is blacklisted in modprobe.d (loaded anyway)"
                if blacklisted
                else f"no 'blacklist {iface.driver}' line in /etc/modprobe.d"
            )
            modules = [iface.driver]
            if iface.driver in NFC_DRIVERS:
                modules = [m for m in ("pn533_usb", "pn533", "nfc") if m in loaded] or modules
            blacklist = "\\n".join(f"blacklist {m}" for m in modules)
            return _d(
                "kernel-driver-bound",
                ERROR,
                Link.USB,
                f"{label}: the kernel driver {iface.driver} holds this reader",
                evidence,
                "a kernel driver (the NFC stack for ACR122U-style readers) claimed the USB "
                "interface first, so pcscd's driver gets LIBUSB_ERROR_BUSY",
                [
                    "sudo modprobe -r " + " ".join(modules),
                    f"printf '{blacklist}\\n' | sudo tee /etc/modprobe.d/blacklist-nfc-reader.conf",
                    "replug the reader",
                ],
            )
    listed = facts.supported.get(key, ())
    sections = {e.section for e in listed}
    if not claimed:
        if "disabled" in sections or "unsupported" in sections:
            section = "disabled" if "disabled" in sections else "unsupported"
            names = "; ".join(e.name for e in listed if e.section == section)
            return _d(
                f"reader-{section}",
                ERROR,
                Link.USB,
                f"{label}: CCID lists this reader as {section}",
                [
                    f"{facts.supported_path}: {device.usb_id} in the {section} section ({names})",
                    f"{device.usb_id} is in no Info.plist under {facts.usbdropdir}",
                ],
                "libccid does not drive it: it does not follow the CCID specification well "
                "enough"
                + (" (disabled on purpose)" if section == "disabled" else "")
                + "; it may need the vendor's driver",
                [
                    "install the reader vendor's PC/SC driver (an ifd bundle) if there is one",
                    "or use another reader: https://ccid.apdu.fr/ lists the supported ones",
                ],
            )
        if (
            device.vendor_interfaces
            and not device.smart_card_interfaces
            and not device.has_ccid_descriptor
        ):
            return _d(
                "vendor-driver-needed",
                ERROR,
                Link.USB,
                f"{label}: a vendor-specific reader that needs its vendor's driver",
                [
                    "its interface has class 0xFF and no CCID class descriptor",
                    f"{device.usb_id} is in no Info.plist under {facts.usbdropdir}",
                ],
                "the reader does not speak CCID, so libccid cannot drive it",
                ["install the vendor's PC/SC (ifd) driver for this reader"],
            )
        version = next((b.version for b in facts.bundles if b.name == LIBCCID_BUNDLE), None)
        evidence = [f"{device.usb_id} is in no Info.plist under {facts.usbdropdir}"]
        if version:
            evidence.append(f"installed libccid: {version}")
        supported = [e for e in listed if e.section in ("supported", "shouldwork")]
        if supported:
            evidence.append(
                f"{facts.supported_path}: {device.usb_id} in the {supported[0].section} "
                f"section ({supported[0].name})"
            )
        return _d(
            "reader-not-in-driver-list",
            ERROR,
            Link.USB,
            f"{label}: no installed driver lists this reader's USB id",
            evidence,
            "pcscd only loads a driver for a USB id its Info.plist lists: the installed "
            "libccid is older than this reader (or it needs a vendor driver)",
            [
                "upgrade libccid (sudo apt install --only-upgrade libccid, or a newer release "
                "from https://ccid.apdu.fr/)",
                "then replug the reader",
            ],
        )
    floor = firmware_floor(device.vendor_id, device.product_id)
    ccid = next((b for b in facts.bundles if b.name == LIBCCID_BUNDLE and key in b.readers), None)
    if (
        floor is not None
        and ccid is not None
        and device.bcd_device is not None
        and device.bcd_device < floor
        and not (ccid.options or 0) & OPTION_USE_BOGUS_FIRMWARE
    ):
        return _d(
            "bogus-firmware",
            ERROR,
            Link.USB,
            f"{label}: libccid refuses this reader's firmware as bogus",
            [
                f"bcdDevice {bcd_text(device.bcd_device)} (sysfs {device.name}/bcdDevice)",
                f"libccid needs at least {bcd_text(floor)} for {device.usb_id}",
                f"ifdDriverOptions in {ccid.plist}: {ccid.options or 0:#06x} (0x04 not set)",
            ],
            "libccid knows early firmware of this reader to be broken and does not drive it "
            "('Firmware ... is bogus!' in pcscd's log)",
            [
                "update the reader's firmware (vendor tool)",
                f"or accept it anyway: set ifdDriverOptions to 0x0004 in {ccid.plist}, "
                "then sudo systemctl restart pcscd",
            ],
        )
    evidence = [
        f"{device.usb_id} is listed by {', '.join(getattr(b, 'name', '?') for b in claimed)}"
    ]
    if facts.pcscd is not None and facts.pcscd.libudev and not facts.udev_running:
        evidence.append("udev is not running: pcscd missed the hotplug event")
    if device.power_control == "auto":
        evidence.append(f"autosuspend on ({device.runtime_status or 'unknown'})")
    return _d(
        "reader-not-picked-up",
        ERROR,
        Link.USB,
        f"{label}: a supported reader that pcscd did not pick up",
        evidence,
        "pcscd missed the reader (hotplug event lost, reader plugged before pcscd started "
        "without udev, or the reader reset itself)",
        [
            "sudo systemctl restart pcscd",
            "replug the reader",
            "if it persists, watch the driver: sudo systemctl stop pcscd; "
            "sudo LIBCCID_ifdLogLevel=0x000F pcscd -f -d",
        ],
    )


# -- readers ---------------------------------------------------------------------------------


def _readers(facts: Facts) -> LinkReport:
    seen: list[str] = []
    found: list[Diagnosis] = []
    pcsc = facts.pcsc
    if pcsc is None or pcsc.unavailable is not None or pcsc.result is not None:
        why = (
            "PC/SC was not asked"
            if pcsc is None
            else pcsc.unavailable or f"no PC/SC context ({pcsc.result_name})"
        )
        found.extend(_scdaemon(facts, ()))
        return link_report(Link.READERS, seen, found, not_checked=why)
    if not pcsc.readers:
        seen.append("PC/SC lists no reader")
        usb_unknown = facts.usb is None or not facts.platform.startswith("linux")
        if usb_unknown:
            found.append(
                _d(
                    "no-reader",
                    ERROR,
                    Link.READERS,
                    "PC/SC lists no reader, and USB devices could not be looked at",
                    [
                        "SCardListReaders: no reader",
                        "no USB device list (sysfs)"
                        if facts.platform.startswith("linux")
                        else f"USB devices are not read on {facts.platform}",
                    ],
                    "no reader is plugged in, or its driver did not take it; without sysfs "
                    "doctor cannot tell which",
                    [
                        "plug the reader in; lsusb should list it",
                        "look at pcscd's log: sudo systemctl stop pcscd; sudo pcscd -f -d",
                    ]
                    if facts.platform.startswith("linux")
                    else [
                        "plug the reader in; the system's device list should show it",
                        "install the reader's driver if the system does not know it",
                    ],
                )
            )
    for reader in pcsc.readers:
        atr = "" if reader.atr is None else " ATR " + reader.atr.hex(" ").upper()
        state = ", ".join(reader.state) or "no state"
        usb = "" if reader.usb is None else f" (USB bus {reader.usb[0]} address {reader.usb[1]})"
        seen.append(f"{reader.name!r}{usb}: {state}{atr}")
        found.extend(_reader_findings(facts, reader))
    limit = facts.pcscd.max_readers if facts.pcscd is not None else None
    if limit and len(pcsc.readers) >= limit:
        found.append(
            _d(
                "too-many-readers",
                WARNING,
                Link.READERS,
                f"pcscd handles at most {limit} readers (slots) and {len(pcsc.readers)} are in use",
                [f"PCSCLITE_MAX_READERS_CONTEXTS: {limit}", f"readers: {len(pcsc.readers)}"],
                "readers (or slots of multi-slot readers) beyond the limit are left out",
                ["unplug readers you do not need", "or use a pcscd built with a higher limit"],
            )
        )
    found.extend(_scdaemon(facts, pcsc.readers))
    return link_report(Link.READERS, seen, found)


def _pcsc_clients(facts: Facts) -> list[ProcessInfo]:
    return [p for p in facts.processes if p.uses_pcsclite]


def _client_evidence(facts: Facts) -> tuple[list[str], str]:
    clients = _pcsc_clients(facts)
    evidence = [f"PC/SC client: {p.label} {p.cmdline}".rstrip() for p in clients]
    if not facts.all_processes_visible:
        evidence.append("only this user's processes can be seen (not root)")
    names = clients[0].label if len(clients) == 1 else "another program"
    return evidence, names


def _reader_findings(facts: Facts, reader: PcscReader) -> list[Diagnosis]:
    out: list[Diagnosis] = []
    if "exclusive" in reader.state:
        evidence, names = _client_evidence(facts)
        out.append(
            _d(
                "card-held-exclusively",
                ERROR,
                Link.READERS,
                f"{reader.name!r}: {names} holds the card exclusively",
                [f"reader state: {', '.join(reader.state)}", *evidence],
                "a program connected to the card in exclusive mode: every other program gets "
                "SCARD_E_SHARING_VIOLATION until it lets go",
                _holder_fix(facts),
            )
        )
    elif reader.blocked:
        evidence, names = _client_evidence(facts)
        out.append(
            _d(
                "card-in-transaction",
                ERROR,
                Link.READERS,
                f"{reader.name!r}: {names} keeps a transaction open on the card",
                [
                    f"reader state: {', '.join(reader.state)}",
                    "a PC/SC connect to this reader did not return within the timeout",
                    *evidence,
                ],
                "a program began a transaction (SCardBeginTransaction) and has not ended it: "
                "pcscd makes every other program's calls wait until it does",
                _holder_fix(facts),
            )
        )
    if "mute" in reader.state:
        out.append(
            _d(
                "card-mute",
                ERROR,
                Link.READERS,
                f"{reader.name!r}: the card does not answer the reset (mute)",
                [f"reader state: {', '.join(reader.state)}"],
                "the card gives no ATR: a memory card (SLE4442/4428) in an ISO reader, a "
                "card inserted the wrong way, dirty contacts, or a voltage/clock the card "
                "does not accept",
                [
                    "reinsert the card the right way round; clean its contacts",
                    "a memory card needs synchronous-card commands: ISO middleware cannot use it",
                    "compare the card and reader: cardcheck compat ATR --descriptor ...",
                ],
            )
        )
    return out


def _holder_fix(facts: Facts) -> list[str]:
    clients = _pcsc_clients(facts)
    fix = [f"close {p.label}" for p in clients if p.comm != "scdaemon"]
    if any(p.comm == "scdaemon" for p in clients) or not clients:
        fix.append("gpgconf --kill scdaemon   (GnuPG's card daemon)")
        fix.append("add pcsc-shared to ~/.gnupg/scdaemon.conf so it stops taking cards alone")
    fix.append("a browser or card middleware may hold it too: close it and try again")
    return fix


def _scdaemon(facts: Facts, readers: tuple[PcscReader, ...]) -> list[Diagnosis]:
    running = [p for p in facts.processes if p.comm == "scdaemon"]
    if facts.scdaemon_conf is None and not running:
        return []
    options = facts.scdaemon_options
    if "pcsc-shared" in options:
        return []
    evidence = []
    if facts.scdaemon_conf is not None:
        evidence.append(f"{facts.scdaemon_conf}: no pcsc-shared line")
    else:
        evidence.append("no scdaemon.conf (GnuPG's defaults: no pcsc-shared)")
    evidence.extend(f"running: {p.label}" for p in running)
    return [
        _d(
            "scdaemon-not-shared",
            WARNING,
            Link.READERS,
            "GnuPG's scdaemon is not set to share cards",
            evidence,
            "without pcsc-shared scdaemon keeps the card to itself while it runs; without "
            "disable-ccid it may also claim the USB reader directly",
            [
                "printf 'disable-ccid\\npcsc-shared\\n' >> ~/.gnupg/scdaemon.conf",
                "gpgconf --kill scdaemon",
            ],
        )
    ]


def diagnose(facts: Facts) -> DoctorReport:
    """The report: service, access, usb and readers, each with what was seen and the causes."""
    return DoctorReport(
        platform=facts.platform,
        root=facts.root,
        links=(_service(facts), _access(facts), _usb(facts), _readers(facts)),
    )
