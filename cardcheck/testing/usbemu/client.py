"""A PC/SC client for the emulated reader's private pcscd, run as a subprocess.

pcsc-lite's client library reads the socket's path (``PCSCLITE_CSOCK_NAME``) once per
process, so a process that has talked to the system pcscd (a pytest session with the vpcd
tests) cannot talk to another one: the emulation's clients are separate processes, started
with :meth:`EmulatedReader.env`. Prints one JSON object; exit 0 when it got what it waited for.

    python -m cardcheck.testing.usbemu.client wait --card --timeout 20
    python -m cardcheck.testing.usbemu.client connect
    python -m cardcheck.testing.usbemu.client serve     # commands on stdin
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any


def _readers(timeout: float) -> tuple[Any, tuple[str, ...]]:
    from cardcheck.errors import CardcheckError
    from cardcheck.pcsc.adapter import open_context

    deadline = time.monotonic() + timeout
    while True:
        try:
            context = open_context()
        except CardcheckError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
            continue
        names = context.list_readers()
        if names or time.monotonic() > deadline:
            return context, names
        context.close()
        time.sleep(0.1)


def wait(card: bool | None, timeout: float) -> dict[str, Any]:
    """Wait until a reader is listed (and holds a card, or is empty, when asked)."""
    deadline = time.monotonic() + timeout
    context, names = _readers(timeout)
    out: dict[str, Any] = {"readers": list(names), "ok": False}
    with context:
        while names:
            (info,) = context.reader_states(names[:1])
            out["state"] = sorted(s.name.lower() for s in info.state if s.name)
            out["atr"] = info.atr.hex() if info.atr else None
            if card is None or (card and info.card_present) or (not card and not info.card_present):
                out["ok"] = True
                break
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
    return out


def connect(timeout: float, protocols: str) -> dict[str, Any]:
    """Wait for a card in the first reader, connect (shared) and send one harmless APDU."""
    from cardcheck.errors import CardcheckError
    from cardcheck.pcsc.model import Protocol

    found = wait(True, timeout)
    out: dict[str, Any] = {"readers": found["readers"], "ok": False, "protocol": None}
    if not found["ok"]:
        out["error"] = "no card seen"
        return out
    wanted = [{"0": Protocol.T0, "1": Protocol.T1}[p] for p in protocols.split(",")]
    from cardcheck.pcsc.adapter import open_context

    try:
        with open_context() as context, context.connect(found["readers"][0], wanted) as card:
            protocol = card.active_protocol
            out["protocol"] = None if protocol is None else str(protocol)
            out["atr"] = card.atr.hex()
            _data, sw1, sw2 = card.transmit(bytes.fromhex("00A4000002 3F00".replace(" ", "")))
            out["sw"] = f"{sw1:02X}{sw2:02X}"
            out["ok"] = True
    except CardcheckError as err:
        out["error"] = err.message
    return out


def serve(timeout: float) -> int:
    """Answer commands from stdin, one JSON line each: ``wait card|empty|any [SECONDS]``,
    ``connect 0,1`` (one process for many cases: no start-up per case)."""
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        if words[0] == "wait":
            want = {"card": True, "empty": False}.get(words[1] if len(words) > 1 else "")
            out = wait(want, float(words[2]) if len(words) > 2 else timeout)
        elif words[0] == "connect":
            out = connect(timeout, words[1] if len(words) > 1 else "0,1")
        else:
            out = {"ok": False, "error": f"unknown command {words[0]!r}"}
        print(json.dumps(out), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="PC/SC client for the emulated reader")
    parser.add_argument("what", choices=("wait", "connect", "serve"))
    parser.add_argument("--card", action="store_true", help="wait for a card")
    parser.add_argument("--empty", action="store_true", help="wait for an empty reader")
    parser.add_argument("--protocols", default="0,1")
    parser.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args(argv)
    if args.what == "serve":
        return serve(args.timeout)
    if args.what == "wait":
        card = True if args.card else (False if args.empty else None)
        out = wait(card, args.timeout)
    else:
        out = connect(args.timeout, args.protocols)
    print(json.dumps(out), flush=True)
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
