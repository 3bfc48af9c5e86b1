"""The readers link: what PC/SC lists, the cards, and the programs holding them."""

from __future__ import annotations

from cardcheck.doctor.diagnose.common import ERROR, WARNING, diagnosis
from cardcheck.doctor.facts import Facts
from cardcheck.doctor.model import Diagnosis, Link, LinkReport, link_report
from cardcheck.doctor.pcsc_state import PcscReader
from cardcheck.doctor.procs import ProcessInfo


def report(facts: Facts) -> LinkReport:
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
                diagnosis(
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
            diagnosis(
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
            diagnosis(
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
            diagnosis(
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
            diagnosis(
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
        diagnosis(
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
