"""The access link: may this process talk to pcscd (protocol, polkit, sandboxes)."""

from __future__ import annotations

from cardcheck.doctor.diagnose.common import (
    COMM_ERROR,
    ERROR,
    NO_SERVICE,
    POLKIT_RULE,
    SECURITY_VIOLATION,
    SERVICE_STOPPED,
    diagnosis,
    hex_code,
)
from cardcheck.doctor.facts import Facts
from cardcheck.doctor.model import Diagnosis, Link, LinkReport, link_report
from cardcheck.doctor.socket_probe import CLIENT_PROTOCOL, Exchange, SocketState


def report(facts: Facts) -> LinkReport:
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
    seen.append(f"SCardEstablishContext: {pcsc.result_name} ({hex_code(pcsc.result)})")
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
            diagnosis(
                "no-service-but-socket",
                ERROR,
                Link.ACCESS,
                "PC/SC reports no service although pcscd's socket answers",
                [
                    f"SCardEstablishContext: {hex_code(NO_SERVICE)}",
                    *([exchange] if exchange else []),
                ],
                "this program's client library uses another socket than the one probed "
                "(another pcsc-lite build, a different PCSCLITE_CSOCK_NAME)",
                ["ldd $(command -v pcsc_scan) | grep pcsclite", "env | grep PCSCLITE"],
            )
        )
    else:
        found.append(
            diagnosis(
                "pcsc-refused",
                ERROR,
                Link.ACCESS,
                f"PC/SC refused a context: {pcsc.result_name}",
                [f"SCardEstablishContext: {hex_code(pcsc.result)}"],
                "the PC/SC service answered with an error doctor has no rule for",
                ["journalctl -u pcscd -b", "sudo pcscd -f -d   (after stopping the service)"],
            )
        )
    return link_report(Link.ACCESS, seen, found)


def _not_answering(facts: Facts, why: str | None) -> Diagnosis:
    path = "/run/pcscd/pcscd.comm" if facts.socket is None else facts.socket.path
    evidence = [e for e in (_exchange_text(facts), why) if e]
    return diagnosis(
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
        result = "success" if answer.result == 0 else hex_code(answer.result or 0)
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
    evidence = [f"SCardEstablishContext: {pcsc.result_name} ({hex_code(pcsc.result)})"]
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
        return diagnosis(
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
    return diagnosis(
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
    evidence = [f"SCardEstablishContext: {pcsc.result_name} ({hex_code(pcsc.result)})"]
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
    return diagnosis(
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
