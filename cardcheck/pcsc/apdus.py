"""The one place that says which command APDUs cardcheck may send to a card: a read-only allowlist.

cardcheck promises to send only harmless read-only commands. :func:`check_apdu` enforces it:
``cardcheck check --apdu`` calls it before any card is touched, and the PC/SC adapter calls it
again on every transmit (defence in depth), so no code path can send anything else.

Allowed (ISO/IEC 7816-4, interindustry class only, CLA ``00``-``0F``: no command chaining,
logical channels 0-3, with or without secure messaging):

- ``A4`` SELECT (P1 ``00``-``04``, ``08``, ``09``; P2 ``00``-``0F``): chooses the current file
  or application; nothing is written on the card;
- ``B0``/``B1`` READ BINARY, ``B2``/``B3`` READ RECORD(S): read a file;
- ``CA``/``CB`` GET DATA: read a data object;
- ``C0`` GET RESPONSE: fetch the rest of the previous answer.

Everything else is refused with the instruction's name and the reason: VERIFY and the other PIN
commands (a wrong PIN counts against the retry counter and can block the card), writes, erase,
create, delete, activate and terminate, authentication and key generation, GET CHALLENGE (the
card keeps the challenge for a following authentication: a state change), MANAGE CHANNEL,
proprietary classes (their instructions mean whatever the card's maker decided), and text that
is not a well-formed command APDU (ISO/IEC 7816-3 cases 1-4, short or extended).

Pure: no pyscard, no terminal.
"""

from __future__ import annotations

from cardcheck.errors import InputError
from cardcheck.values import Value


class AllowedInstruction(Value):
    """One instruction of the allowlist."""

    ins: int
    """The INS byte."""
    name: str
    """Its ISO/IEC 7816-4 name."""
    why: str
    """Why it is harmless."""


ALLOWED_CLASSES = range(0x00, 0x10)
"""CLA bytes accepted: the first interindustry values without command chaining (channels 0-3,
secure messaging allowed)."""

ALLOWED: tuple[AllowedInstruction, ...] = (
    AllowedInstruction(0xA4, "SELECT", "selects a file or application; writes nothing"),
    AllowedInstruction(0xB0, "READ BINARY", "reads a transparent file"),
    AllowedInstruction(0xB1, "READ BINARY", "reads a transparent file (offset as a data object)"),
    AllowedInstruction(0xB2, "READ RECORD(S)", "reads records of a file"),
    AllowedInstruction(0xB3, "READ RECORD(S)", "reads records (offset as a data object)"),
    AllowedInstruction(0xCA, "GET DATA", "reads a data object"),
    AllowedInstruction(0xCB, "GET DATA", "reads data objects (tag list as a data object)"),
    AllowedInstruction(0xC0, "GET RESPONSE", "fetches the rest of the previous answer"),
)
"""The allowlist, in the order the README shows it."""

_ALLOWED_BY_INS = {item.ins: item for item in ALLOWED}

SELECT_P1 = frozenset({0x00, 0x01, 0x02, 0x03, 0x04, 0x08, 0x09})
"""SELECT's P1 values accepted: by file identifier (MF, child DF, EF, parent DF), by DF name
(AID), by path. Other values are RFU or proprietary."""

_WRITES = "writes to the card"
_PIN = (
    "checks or changes a PIN or password: a wrong one counts against the retry counter and can "
    "block the card"
)
_LIFE = "changes the life cycle of a file or of the card, for good"
_SECURITY = "a security operation: it can use up a counter, change the security state or keys"

_REFUSED: dict[int, tuple[str, str]] = {
    0x04: ("DEACTIVATE FILE", _LIFE),
    0x0C: ("ERASE RECORD(S)", _WRITES),
    0x0E: ("ERASE BINARY", _WRITES),
    0x0F: ("ERASE BINARY", _WRITES),
    0x10: ("PERFORM SCQL OPERATION", "runs a database operation on the card"),
    0x12: ("PERFORM TRANSACTION OPERATION", "runs a transaction on the card"),
    0x14: ("PERFORM USER OPERATION", "manages the card's users"),
    0x20: ("VERIFY", _PIN),
    0x21: ("VERIFY", _PIN),
    0x22: ("MANAGE SECURITY ENVIRONMENT", _SECURITY),
    0x24: ("CHANGE REFERENCE DATA", _PIN),
    0x26: ("DISABLE VERIFICATION REQUIREMENT", _PIN),
    0x28: ("ENABLE VERIFICATION REQUIREMENT", _PIN),
    0x2A: ("PERFORM SECURITY OPERATION", _SECURITY),
    0x2C: ("RESET RETRY COUNTER", _PIN),
    0x44: ("ACTIVATE FILE", _LIFE),
    0x46: ("GENERATE ASYMMETRIC KEY PAIR", "creates keys on the card: " + _WRITES),
    0x70: ("MANAGE CHANNEL", "opens or closes logical channels (card state)"),
    0x82: ("EXTERNAL AUTHENTICATE", _SECURITY),
    0x84: (
        "GET CHALLENGE",
        "the card keeps the challenge for a following authentication (a state change)",
    ),
    0x86: ("GENERAL AUTHENTICATE", _SECURITY),
    0x87: ("GENERAL AUTHENTICATE", _SECURITY),
    0x88: ("INTERNAL AUTHENTICATE", _SECURITY),
    0xA0: ("SEARCH BINARY", "not in cardcheck's small allowlist"),
    0xA1: ("SEARCH BINARY", "not in cardcheck's small allowlist"),
    0xA2: ("SEARCH RECORD", "not in cardcheck's small allowlist"),
    0xC2: ("ENVELOPE", "wraps another command, which cardcheck cannot judge"),
    0xC3: ("ENVELOPE", "wraps another command, which cardcheck cannot judge"),
    0xD0: ("WRITE BINARY", _WRITES),
    0xD1: ("WRITE BINARY", _WRITES),
    0xD2: ("WRITE RECORD", _WRITES),
    0xD6: ("UPDATE BINARY", _WRITES),
    0xD7: ("UPDATE BINARY", _WRITES),
    0xDA: ("PUT DATA", _WRITES),
    0xDB: ("PUT DATA", _WRITES),
    0xDC: ("UPDATE RECORD", _WRITES),
    0xDD: ("UPDATE RECORD", _WRITES),
    0xE0: ("CREATE FILE", _WRITES),
    0xE2: ("APPEND RECORD", _WRITES),
    0xE4: ("DELETE FILE", _WRITES),
    0xE6: ("TERMINATE DF", _LIFE),
    0xE8: ("TERMINATE EF", _LIFE),
    0xFE: ("TERMINATE CARD USAGE", _LIFE),
}
"""Instructions refused by name, with the reason (anything else unlisted is refused too)."""

_HINT = (
    "cardcheck sends only read-only commands of the interindustry class (CLA 00-0F): SELECT, "
    "READ BINARY, READ RECORD, GET DATA, GET RESPONSE;\ne.g. --apdu '00 A4 00 00 02 3F 00' "
    "(SELECT MF) or --apdu '00 CA 9F 7F 00' (GET DATA); the README has the table"
)


class ApduRefused(InputError):
    """A command APDU that is not on the allowlist, or not a well-formed APDU (exit 2)."""

    code = "apdu-refused"

    def __init__(self, message: str, *, ins: int | None = None) -> None:
        super().__init__(message, _HINT)
        self.ins = ins
        """The instruction byte, when the APDU had one."""


class Command(Value):
    """A command APDU that passed :func:`check_apdu`."""

    raw: bytes
    """The whole APDU."""
    name: str
    """The instruction's name, e.g. ``SELECT``."""


def instruction_name(ins: int) -> str:
    """ISO/IEC 7816-4 name of an INS byte, or ``INS XX`` when cardcheck does not know it."""
    if ins in _ALLOWED_BY_INS:
        return _ALLOWED_BY_INS[ins].name
    if ins in _REFUSED:
        return _REFUSED[ins][0]
    return f"INS {ins:02X}"


def _well_formed(apdu: bytes) -> bool:
    """Whether ``apdu`` has the length of one of the ISO/IEC 7816-3 cases (short or extended)."""
    size = len(apdu)
    if size in (4, 5):  # case 1; case 2 short
        return True
    first = apdu[4]
    if first != 0:
        return size in (5 + first, 6 + first)  # case 3 and 4 short
    if size == 7:  # case 2 extended
        return True
    if size < 8:
        return False
    lc = int.from_bytes(apdu[5:7], "big")
    return lc != 0 and size in (7 + lc, 9 + lc)  # case 3 and 4 extended


def check_apdu(apdu: bytes) -> Command:
    """``apdu`` as an allowed :class:`Command`; raises :class:`ApduRefused` naming the
    instruction and the reason otherwise."""
    label = apdu.hex(" ").upper() or "(nothing)"
    if len(apdu) < 4:
        raise ApduRefused(
            f"the APDU {label} is too short: a command has at least 4 bytes (CLA INS P1 P2)"
        )
    cla, ins, p1, p2 = apdu[0], apdu[1], apdu[2], apdu[3]
    name = instruction_name(ins)
    if not _well_formed(apdu):
        raise ApduRefused(
            f"the APDU {label} ({name}) is malformed: its length does not match its Lc/Le bytes "
            "(ISO/IEC 7816-3 cases 1-4)",
            ins=ins,
        )
    if cla not in ALLOWED_CLASSES:
        if cla == 0xFF:
            why = "CLA FF is not a command class (it is reserved for PPS)"
        elif cla & 0x80:
            name = f"INS {ins:02X}"
            why = (
                f"CLA {cla:02X} is a proprietary class: what its instructions do is the card "
                "maker's choice, so cardcheck cannot know that it is read-only"
            )
        elif cla < 0x20:
            why = f"CLA {cla:02X} asks for command chaining: it is a part of a longer command"
        elif cla < 0x40:
            why = f"CLA {cla:02X} is reserved for future use (ISO/IEC 7816-4)"
        else:
            why = f"CLA {cla:02X} (logical channels 4-19) is not in the allowlist"
        raise ApduRefused(f"refusing to send {name} ({label}): {why}", ins=ins)
    allowed = _ALLOWED_BY_INS.get(ins)
    if allowed is None:
        why = _REFUSED[ins][1] if ins in _REFUSED else "it is not on cardcheck's read-only list"
        raise ApduRefused(f"refusing to send {name} ({label}): {why}", ins=ins)
    if ins == 0xA4 and (p1 not in SELECT_P1 or p2 > 0x0F):
        raise ApduRefused(
            f"refusing to send SELECT with P1 {p1:02X} P2 {p2:02X} ({label}): only the ISO/IEC "
            "7816-4 selections are allowed (P1 00-04, 08, 09; P2 00-0F)",
            ins=ins,
        )
    return Command(raw=bytes(apdu), name=allowed.name)


def is_allowed(apdu: bytes) -> bool:
    """Whether :func:`check_apdu` accepts ``apdu``."""
    try:
        check_apdu(apdu)
    except ApduRefused:
        return False
    return True


def parse_apdu_text(text: str, option: str = "--apdu") -> bytes:
    """The bytes of an APDU typed in hex (spaces, tabs or colons between bytes allowed).

    Raises InputError saying that the APDU is not hex, and where.
    """
    cleaned = text.replace(":", " ").replace("\t", " ")
    for position, char in enumerate(cleaned, start=1):
        if char != " " and char not in "0123456789abcdefABCDEF":
            raise InputError(
                f"{option} {text!r} is not hex: {char!r} at position {position} is not a hex digit",
                "write the command APDU as hex bytes, e.g. --apdu '00 A4 00 00 02 3F 00'",
            )
    groups = cleaned.split()
    odd = next((g for g in groups if len(g) % 2), None)
    if not groups or odd is not None:
        what = "no hex digits" if not groups else f"the group {odd!r} has an odd number of digits"
        raise InputError(
            f"{option} {text!r} is not hex bytes: {what}",
            "write the command APDU as pairs of hex digits, e.g. --apdu '00 A4 00 00 02 3F 00'",
        )
    return bytes.fromhex("".join(groups))
