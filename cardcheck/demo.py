"""``make demo``: the main job, a hardware check, on a real reader or else on a virtual one.

1. Make sure pcscd runs (start it when none does: root needed; it is stopped again at the end).
2. If a real reader holds a card, run ``cardcheck check`` on it.
3. Otherwise insert cardcheck's own virtual card (:mod:`cardcheck.testing.vcard`) in the vpcd
   reader and run ``cardcheck check`` on that.
4. Decode a good and a damaged sample ATR with ``cardcheck atr``.
5. Ask ``cardcheck compat`` whether a fast card works in a slower reader described by hand.
Everything the demo started is stopped before it ends.
"""

from __future__ import annotations

import sys

from cardcheck.cli import run
from cardcheck.errors import CardcheckError
from cardcheck.render.error import report_error

DEMO_CARD_ATR = bytes.fromhex("3BF81300008131FE15597562696B657934D4")
"""A YubiKey 4's ATR (T=1, listed in the public ATR list), played by the virtual card."""

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


def _say(text: str) -> None:
    print(f"\n=== {text}", flush=True)


def _real_reader_with_card() -> str | None:
    """The first non-virtual reader holding a card, if any."""
    from cardcheck.pcsc.adapter import open_context
    from cardcheck.testing.pcscd import VPCD_READERS

    with open_context() as pcsc:
        for info in pcsc.reader_states():
            if info.name not in VPCD_READERS and info.card_present:
                return info.name
    return None


def _check_hardware() -> int:
    from cardcheck.testing.pcscd import Pcscd, wait_reader
    from cardcheck.testing.vcard import CardConfig, VirtualCard

    with Pcscd() as service:
        if service.started:
            print("demo: started pcscd for the demo (it is stopped at the end)", flush=True)
        real = _real_reader_with_card()
        if real is not None:
            _say(f"cardcheck check --reader {real!r}   (a real reader holding a card)")
            return run(["check", "--reader", real])
        with VirtualCard(CardConfig(atr=DEMO_CARD_ATR)) as card:
            wait_reader(card.reader, atr=DEMO_CARD_ATR)
            print(
                "demo: no real reader with a card; cardcheck's virtual card is inserted in "
                f"{card.reader!r}",
                flush=True,
            )
            _say(f"cardcheck check --reader {card.reader!r}")
            return run(["check", "--reader", card.reader])


def main() -> int:
    """Run the demo; the exit code is that of the hardware check."""
    try:
        code = _check_hardware()
    except CardcheckError as err:
        report_error(err)
        code = int(err.exit_code)
    print(f"\ndemo: cardcheck check exited {code}", flush=True)
    for what, atr in SAMPLES:
        _say(f"cardcheck atr {atr}   ({what})")
        run(["atr", *atr.split()])
    _say(f"cardcheck compat {' '.join(COMPAT_DEMO)}   (a what-if, offline)")
    run(["compat", *COMPAT_DEMO])
    return code


if __name__ == "__main__":
    sys.exit(main())
