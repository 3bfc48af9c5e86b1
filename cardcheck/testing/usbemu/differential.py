"""Differential validation: what ``cardcheck compat --descriptor`` predicts against what the real
libccid did with the emulated reader, field by field.

Fields: ``refused`` (libccid refuses the reader: "Firmware is bogus"), ``voltage`` (the first
IccPowerOn's bPowerSelect), ``protocol`` (what SCardConnect with T=0|T=1 got), ``pps`` (the PPS
request libccid sent, bytes, or none), ``fidi`` (bmFindexDindex of SetParameters, or none) and
``connect`` (whether connecting worked at all).
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cardcheck.testing.usbemu.cases import AtrCase
from cardcheck.testing.usbemu.descriptors import ReaderSpec, load_reader
from cardcheck.testing.usbemu.emulator import EmulatedReader

FIELDS = ("refused", "connect", "voltage", "protocol", "pps", "fidi")
"""The compared fields, in the table's order."""

_VOLTAGE_OF_SELECT = {0: "auto", 1: "5 V", 2: "3 V", 3: "1.8 V"}


@dataclass(frozen=True, slots=True)
class Negotiation:
    """What was (or will be) done for one card in one reader; None where nothing happens."""

    refused: bool
    """The driver refuses the reader itself (no reader appears)."""
    connect: bool | None
    """Whether SCardConnect (T=0 or T=1) works; None when the reader is refused."""
    voltage: str | None
    """The first power-up voltage: ``5 V``, ``3 V``, ``1.8 V``, ``auto``."""
    protocol: int | None
    """The protocol of the connection."""
    pps: str | None
    """The PPS request sent by the driver (hex, upper case), None when none."""
    fidi: str | None
    """bmFindexDindex of SetParameters (hex), None when no SetParameters was sent."""

    def value(self, name: str) -> object:
        """One field by name."""
        return getattr(self, name)


@dataclass(frozen=True, slots=True)
class CaseResult:
    """One reader x ATR: the prediction, the observation, and the fields that differ."""

    reader: str
    """The reader's dump name."""
    case: str
    """The ATR case's name."""
    predicted: Negotiation
    observed: Negotiation
    detail: dict[str, Any] = field(default_factory=dict, compare=False)
    """The raw evidence (compat JSON, client answer, CCID messages) for explanations."""
    gap: str | None = None
    """Why the emulation could not run this reader (then nothing is compared); None if it ran."""

    @property
    def disagreements(self) -> tuple[str, ...]:
        """The fields whose prediction differs from the observation."""
        if self.gap is not None:
            return ()
        if self.predicted.refused or self.observed.refused:
            return () if self.predicted.refused == self.observed.refused else ("refused",)
        if self.predicted.connect != self.observed.connect:
            return ("connect",)
        out = []
        for name in FIELDS[2:]:
            if not self.observed.connect and name in ("protocol", "pps", "fidi"):
                continue
            if self.predicted.value(name) != self.observed.value(name):
                out.append(name)
        return tuple(out)


def compat_args(spec: ReaderSpec, blob: Path, atr: bytes) -> list[str]:
    """The ``cardcheck compat`` arguments for this reader and card.

    The sysfs descriptors, and the reader's rate table when it declares one: the table needs
    device access (GET_DATA_RATES), so the user gives it as libccid's ``parse`` lists it; a
    reader whose table could not be read is given as having none (``--data-rates none``), which
    is also what libccid makes of it.
    """
    args = ["compat", "--json", "--descriptor", str(blob)]
    if spec.num_data_rates:
        rates = ",".join(str(r) for r in spec.data_rates) if spec.data_rates else "none"
        args += ["--data-rates", rates]
    return [*args, atr.hex()]


def predict(spec: ReaderSpec, atr: bytes, workdir: Path) -> tuple[Negotiation, dict[str, Any]]:
    """``cardcheck compat --json --descriptor <sysfs blob> [--data-rates ...] ATR``, run in
    this process (the CLI's own code, its JSON read back)."""
    from cardcheck.cli import run

    blob = workdir / f"{spec.key}.descriptors"
    if not blob.exists():
        blob.write_bytes(spec.sysfs_descriptors())
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        run(compat_args(spec, blob, atr))
    report: dict[str, Any] = json.loads(out.getvalue())
    return negotiation_of_report(report), report


def negotiation_of_report(report: dict[str, Any]) -> Negotiation:
    """The :class:`Negotiation` a ``compat --json`` report predicts."""
    codes = {f["code"] for f in report["findings"]}
    refused = "reader-firmware-refused" in codes
    speed = report.get("speed") or {}
    protocol = report.get("protocol")
    connect = protocol is not None and not (speed.get("outcome") or "").endswith("refused")
    fidi = None
    if connect and speed.get("set_parameters"):
        fidi = speed.get("chosen_ta1")
    return Negotiation(
        refused=refused,
        connect=None if refused else connect,
        voltage=None if refused else report.get("power_up_voltage"),
        protocol=protocol if connect else None,
        pps=(speed.get("pps_request") or "").replace(" ", "") or None if connect else None,
        fidi=fidi,
    )


def negotiation_of_log(
    log: list[dict[str, Any]], answer: dict[str, Any], *, refused: bool
) -> Negotiation:
    """What libccid did, from the emulation's log and the client's connect answer."""
    if refused:
        return Negotiation(True, None, None, None, None, None)
    voltage = pps = fidi = None
    for entry in log:
        if entry.get("ev") != "bulk_out":
            continue
        if entry["msg"] == "IccPowerOn" and voltage is None:
            voltage = _VOLTAGE_OF_SELECT.get(entry["bPowerSelect"], hex(entry["bPowerSelect"]))
        elif entry["msg"] == "XfrBlock" and "pps" in entry and pps is None:
            pps = entry["pps"].upper()
        elif entry["msg"] == "SetParameters" and fidi is None:
            fidi = entry["bmFindexDindex"]
    connected = bool(answer.get("ok"))
    text = answer.get("protocol")
    protocol = {"T=0": 0, "T=1": 1}.get(text) if connected and isinstance(text, str) else None
    return Negotiation(
        refused=False,
        connect=connected,
        voltage=voltage,
        protocol=protocol,
        pps=pps if connected else None,
        fidi=fidi if connected else None,
    )


class _Client:
    """The serve client of one emulated reader."""

    def __init__(self, emu: EmulatedReader, timeout: float) -> None:
        command = [sys.executable, "-m", "cardcheck.testing.usbemu.client", "serve"]
        self.process = subprocess.Popen(
            [*command, "--timeout", str(timeout)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=emu.env(),
        )

    def ask(self, line: str) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        text = self.process.stdout.readline()
        if not text:
            return {"ok": False, "error": "the client ended"}
        answer: dict[str, Any] = json.loads(text)
        return answer

    def close(self) -> None:
        if self.process.stdin is not None:
            with contextlib.suppress(OSError):
                self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()


PROBE_ATR = bytes.fromhex("3B058073C82113")
"""A plain T=0 card inserted once before the cases: does the reader show cards at all?"""


def _card_probe(emu: EmulatedReader, client: _Client) -> str | None:
    """None when a plain card shows up in the reader; else why not (an emulation gap).

    A card that does not show within 15 s is taken out and put in again once, as a person
    would: an SCM SDI011 (two slots) has, rarely and only in full test runs, shown no card
    for 30 s after its first insertion; the cause is not known.
    """
    for _attempt in range(2):
        emu.insert(PROBE_ATR)
        seen = client.ask("wait card 15")  # generous: a loaded machine is slow, a working one quick
        emu.remove()
        client.ask("wait empty 15")
        if seen.get("ok"):
            emu.clear_log()
            return None
    return "no card ever shows in it (the reader needs answers the emulation does not give)"


def _gap(spec: ReaderSpec, emu: EmulatedReader, why: str) -> str:
    if spec.interface_protocol in (1, 2):
        kind = "A" if spec.interface_protocol == 1 else "B"
        return f"ICCD version {kind} (control-pipe protocol), not emulated"
    escapes = [e for e in emu.log() if e.get("msg") == "Escape"]
    if escapes:
        return f"needs vendor Escape answers ({escapes[0].get('data')}), not emulated"
    return why


def bogus_firmware_logged(emu: EmulatedReader) -> bool:
    """Whether libccid refused the reader's firmware (its log says so)."""
    return "is bogus" in emu.pcscd_log()


def run_reader(
    key: str, cases: Iterable[AtrCase], *, timeout: float = 30.0, listing_timeout: float = 30.0
) -> Iterator[CaseResult]:
    """Every case on one emulated reader (one pcscd for all of them)."""
    spec = load_reader(key)
    with (
        tempfile.TemporaryDirectory(prefix="cardcheck-diff-") as tmp,
        EmulatedReader(key, timeout=timeout) as emu,
    ):
        work = Path(tmp)
        client = _Client(emu, timeout)
        try:
            listed = False
            refused = False
            deadline = time.monotonic() + listing_timeout
            while time.monotonic() < deadline:
                if bogus_firmware_logged(emu):
                    refused = True
                    break
                if client.ask("wait any 1").get("readers"):
                    listed = True
                    break
                time.sleep(0.1)
            why = "pcscd never listed the emulated reader"
            if listed:
                probe_gap = _card_probe(emu, client)
                if probe_gap is not None:
                    listed, why = False, probe_gap
            for item in cases:
                predicted, report = predict(spec, item.atr, work)
                if refused or not listed:
                    observed = negotiation_of_log([], {}, refused=refused)
                    gap = None
                    if not listed and not refused:
                        observed = Negotiation(False, None, None, None, None, None)
                        gap = _gap(spec, emu, why)
                    yield CaseResult(key, item.name, predicted, observed, {"compat": report}, gap)
                    continue
                emu.clear_log()
                emu.insert(item.atr)
                answer = client.ask("connect 0,1")
                log = emu.log()
                emu.remove()
                client.ask("wait empty")
                observed = negotiation_of_log(log, answer, refused=False)
                detail = {"compat": report, "client": answer, "log": log}
                yield CaseResult(key, item.name, predicted, observed, detail)
        finally:
            client.close()
