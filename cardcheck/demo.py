"""``make demo``: the main job, a hardware check, on a real reader or else on an emulated one.

1. If a real reader holds a card (the system's pcscd; started for the demo when none runs),
   run ``cardcheck check`` on it.
2. Otherwise emulate a real USB CCID reader (the ACS ACR38U's descriptor, 4 MHz and at most
   129032 bit/s) holding a fast card (TA1 96: 250000 bit/s), drive it with the real pcscd and
   libccid (:mod:`cardcheck.testing.usbemu`), run ``cardcheck check`` on it (every stage live,
   its sysfs included) and print what libccid actually negotiated next to the prediction.
   Without root or umockdev, cardcheck's virtual card in the vpcd reader stands in.
3. Decode a good and a damaged sample ATR with ``cardcheck atr``.
4. Ask ``cardcheck compat`` whether a fast card works in a slower reader described by hand.

Every step is a ``cardcheck`` process. Ctrl-C stops the demo at once (exit 130) instead of
running the remaining steps; everything the demo started is stopped before it ends.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping

from cardcheck.errors import CardcheckError, ExitCode
from cardcheck.render.error import report_error

DEMO_CARD_ATR = bytes.fromhex("3BF81300008131FE15597562696B657934D4")
"""A YubiKey 4's ATR (T=1, listed in the public ATR list), played by the virtual card."""

EMULATED_READER = "ACR38U-CCID.txt"
"""A common real reader whose speed libccid adapts: ACS ACR38U (4 MHz, at most 129032 bit/s)."""
EMULATED_CARD_ATR = bytes.fromhex("3B95960180 73C82113 0B".replace(" ", ""))
"""A fast T=1 card: TA1 96 (Fi 512, Di 32), 250000 bit/s at 4 MHz."""

SAMPLES = (
    (
        "a good ATR (a MIFARE Classic 1K seen through a PC/SC contactless reader)",
        "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00 6A",
    ),
    (
        "a damaged ATR (the same card, its last byte lost on the way)",
        "3B 8F 80 01 80 4F 0C A0 00 00 03 06 03 00 01 00 00 00 00",
    ),
)


COMPAT_DEMO = (
    "3B 95 96 80 B1 FE 55 1F C7 47 72 61 63 65 13",
    "--clock",
    "4",
    "--max-rate",
    "129032",
    "--voltages",
    "5",
    "--protocols",
    "0,1",
)
"""A card asking for TA1 96 (Fi 512, Di 32) against a 4 MHz reader limited to 129032 bit/s."""


class Interrupted(Exception):
    """A step ended with Ctrl-C: the demo stops."""


def _say(text: str) -> None:
    print(f"\n=== {text}", flush=True)


def _cardcheck(args: list[str], env: Mapping[str, str] | None = None) -> int:
    """Run one ``cardcheck`` command as a process; raise Interrupted when it was Ctrl-C."""
    done = subprocess.run([sys.executable, "-m", "cardcheck", *args], env=env, check=False)
    if done.returncode in (int(ExitCode.INTERRUPTED), -2):
        raise Interrupted
    return done.returncode


def _real_reader_with_card() -> str | None:
    """The first non-virtual reader holding a card, if any."""
    from cardcheck.pcsc.adapter import open_context
    from cardcheck.testing.pcscd import VPCD_READERS

    with open_context() as pcsc:
        for info in pcsc.reader_states():
            if info.name not in VPCD_READERS and info.card_present:
                return info.name
    return None


def _check_real_reader() -> int | None:
    """``cardcheck check`` on a real reader holding a card; None when there is none."""
    from cardcheck.testing.pcscd import Pcscd

    try:
        service = Pcscd().start()
    except CardcheckError as err:
        print(f"demo: no system pcscd for real readers: {err.message}", flush=True)
        return None
    try:
        if service.started:
            print("demo: started pcscd for the demo (it is stopped at the end)", flush=True)
        real = _real_reader_with_card()
        if real is None:
            return None
        _say(f"cardcheck check --reader {real!r}   (a real reader holding a card)")
        return _cardcheck(["check", "--reader", real])
    finally:
        service.stop()


def _check_emulated_reader() -> int:
    """``cardcheck check`` on an emulated ACR38U holding a fast card, then the driver's log."""
    from cardcheck.testing.usbemu.descriptors import load_reader
    from cardcheck.testing.usbemu.emulator import EmulatedReader

    spec = load_reader(EMULATED_READER)
    with EmulatedReader(EMULATED_READER) as emu:
        listed = emu.client("wait")
        if not listed.get("ok"):
            raise CardcheckError(
                "the emulated reader did not appear in its pcscd", "see `make test` output"
            )
        emu.insert(EMULATED_CARD_ATR)
        emu.client("wait", "--card")
        reader = listed["readers"][0]
        print(
            f"demo: no real reader with a card; emulating a USB {spec.product} "
            f"({spec.usb_id}, its real descriptor) under umockdev, with the real pcscd and "
            f"libccid, holding a fast card (ATR {EMULATED_CARD_ATR.hex(' ').upper()})",
            flush=True,
        )
        emu.clear_log()
        _say(f"cardcheck check --reader {reader!r}   (an emulated USB CCID reader)")
        code = _cardcheck(["check", "--reader", reader], env=emu.env())
        _negotiation_report(spec, emu.log())
    return code


def _negotiation_report(spec: object, log: list[dict[str, object]]) -> None:
    """What cardcheck predicted for the first connection against what libccid really did."""
    import tempfile
    from pathlib import Path

    from cardcheck.testing.usbemu.descriptors import ReaderSpec
    from cardcheck.testing.usbemu.differential import negotiation_of_log, predict

    assert isinstance(spec, ReaderSpec)
    with tempfile.TemporaryDirectory(prefix="cardcheck-demo-") as tmp:
        predicted, _report = predict(spec, EMULATED_CARD_ATR, Path(tmp))
    observed = negotiation_of_log(log, {"ok": True, "protocol": None}, refused=False)
    _say("what libccid actually negotiated, next to cardcheck's prediction")
    rows = (
        ("power-up voltage", predicted.voltage, observed.voltage),
        ("PPS request", _spaced(predicted.pps), _spaced(observed.pps)),
        ("SetParameters Fi/Di (TA1)", predicted.fidi, observed.fidi),
    )
    print(f"  {'':28}{'cardcheck predicted':22}libccid did", flush=True)
    for what, said, did in rows:
        mark = "same" if said == did else "DIFFERENT"
        print(f"  {what:28}{said or 'none':22}{did or 'none':16}{mark}", flush=True)
    steps = []
    for entry in log:
        if entry.get("ev") != "bulk_out":
            continue
        if entry.get("msg") == "IccPowerOn":
            steps.append(f"power-up {entry.get('voltage')}")
        elif "pps" in entry:
            steps.append(f"PPS {_spaced(str(entry['pps']))}")
        elif entry.get("msg") == "SetParameters":
            steps.append(
                f"SetParameters T={entry.get('bProtocolNum')} {entry.get('bmFindexDindex')}"
            )
    print("  every step libccid took during the check: " + ", ".join(steps), flush=True)


def _spaced(text: str | None) -> str | None:
    """``ff11957b`` -> ``FF 11 95 7B``."""
    return None if text is None else bytes.fromhex(text).hex(" ").upper()


def _check_virtual_card() -> int:
    from cardcheck.testing.pcscd import Pcscd, wait_reader
    from cardcheck.testing.vcard import CardConfig, VirtualCard

    with Pcscd() as service:
        if service.started:
            print("demo: started pcscd for the demo (it is stopped at the end)", flush=True)
        with VirtualCard(CardConfig(atr=DEMO_CARD_ATR)) as card:
            wait_reader(card.reader, atr=DEMO_CARD_ATR)
            print(
                "demo: no real reader with a card and no USB emulation here; cardcheck's "
                f"virtual card is inserted in {card.reader!r}",
                flush=True,
            )
            _say(f"cardcheck check --reader {card.reader!r}")
            return _cardcheck(["check", "--reader", card.reader])


def _check_hardware() -> int:
    from cardcheck.testing.usbemu.emulator import missing_requirements

    code = _check_real_reader()
    if code is not None:
        return code
    why_not = missing_requirements()
    if why_not is None:
        return _check_emulated_reader()
    print(f"demo: cannot emulate a USB reader: {why_not}", flush=True)
    return _check_virtual_card()


def main() -> int:
    """Run the demo; the exit code is that of the hardware check (130 after Ctrl-C)."""
    try:
        try:
            code = _check_hardware()
        except CardcheckError as err:
            report_error(err)
            code = int(err.exit_code)
        print(f"\ndemo: cardcheck check exited {code}", flush=True)
        for what, atr in SAMPLES:
            _say(f"cardcheck atr {atr}   ({what})")
            _cardcheck(["atr", *atr.split()])
        _say(f"cardcheck compat {' '.join(COMPAT_DEMO)}   (a what-if, offline)")
        _cardcheck(["compat", *COMPAT_DEMO])
    except (Interrupted, KeyboardInterrupt):
        print("\ndemo: interrupted; everything it started is stopped", file=sys.stderr, flush=True)
        return int(ExitCode.INTERRUPTED)
    return code


if __name__ == "__main__":
    sys.exit(main())
