"""The service link: is pcscd running and reachable through its socket, and if not, why."""

from __future__ import annotations

from cardcheck.doctor.diagnose.common import ERROR, NO_SERVICE, diagnosis, hex_code
from cardcheck.doctor.facts import Facts
from cardcheck.doctor.model import Diagnosis, Link, LinkReport, link_report
from cardcheck.doctor.socket_probe import SocketState


def report(facts: Facts) -> LinkReport:
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
    return diagnosis(
        "no-service",
        ERROR,
        Link.SERVICE,
        "the PC/SC service does not answer",
        [f"SCardEstablishContext: SCARD_E_NO_SERVICE ({hex_code(NO_SERVICE)})"],
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
            return diagnosis(
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
        return diagnosis(
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
        return diagnosis(
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
        return diagnosis(
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
    return diagnosis(
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
    return diagnosis(
        "sandbox-no-socket",
        ERROR,
        Link.SERVICE,
        f"this {sandbox.kind} sandbox cannot reach the host's pcscd socket",
        [*evidence, f"{sandbox.kind}: {', '.join(sandbox.markers)}"],
        "the sandbox has no view of the host's /run/pcscd (or the host's pcscd is not "
        "running): PC/SC works on the host and fails inside",
        fixes[sandbox.kind],
    )
