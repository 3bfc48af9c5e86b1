"""PC/SC result codes and their translation into cardcheck errors with a plain message and a hint.

pcsc-lite's values (REFERENCE §5). pyscard may hand a code as a negative number: every function
here masks it to 32 bits first. Pure: no pyscard import.
"""

from __future__ import annotations

from enum import IntEnum

from cardcheck.errors import EnvironmentProblem
from cardcheck.values import Value


class PcscResult(IntEnum):
    """The PC/SC result codes cardcheck knows by name (pcsc-lite values)."""

    SUCCESS = 0x00000000
    INSUFFICIENT_BUFFER = 0x80100008
    UNKNOWN_READER = 0x80100009
    TIMEOUT = 0x8010000A
    SHARING_VIOLATION = 0x8010000B
    NO_SMARTCARD = 0x8010000C
    PROTO_MISMATCH = 0x8010000F
    F_COMM_ERROR = 0x80100013
    INVALID_ATR = 0x80100015
    NOT_TRANSACTED = 0x80100016
    READER_UNAVAILABLE = 0x80100017
    CARD_UNSUPPORTED = 0x8010001C
    NO_SERVICE = 0x8010001D
    SERVICE_STOPPED = 0x8010001E
    UNSUPPORTED_FEATURE = 0x8010001F
    """Also E_UNEXPECTED on pcsc-lite (same value)."""
    UNSUPPORTED_FEATURE_WINDOWS = 0x80100022
    NO_READERS_AVAILABLE = 0x8010002E
    W_UNSUPPORTED_CARD = 0x80100065
    W_UNRESPONSIVE_CARD = 0x80100066
    W_UNPOWERED_CARD = 0x80100067
    W_RESET_CARD = 0x80100068
    W_REMOVED_CARD = 0x80100069
    W_SECURITY_VIOLATION = 0x8010006A


UNAVAILABLE_ATTRIBUTE = frozenset(
    {
        PcscResult.UNSUPPORTED_FEATURE,
        PcscResult.UNSUPPORTED_FEATURE_WINDOWS,
        PcscResult.INSUFFICIENT_BUFFER,
    }
)
"""Results of SCardGetAttrib that mean "this reader does not give that attribute": not errors."""


STUCK_CODES = frozenset({"in-transaction", "reader-unresponsive", "card-unresponsive"})
"""Codes of the errors of calls that got no answer in time: calling again would wait again."""


def normalize(code: int) -> int:
    """The code as an unsigned 32-bit value (pyscard may return it negative)."""
    return code & 0xFFFFFFFF


def result_name(code: int) -> str:
    """``SCARD_E_NO_SERVICE``-style name of a code, or its hex value when unknown."""
    value = normalize(code)
    try:
        member = PcscResult(value)
    except ValueError:
        return f"0x{value:08X}"
    name = member.name
    if name == "UNSUPPORTED_FEATURE_WINDOWS":
        name = "UNSUPPORTED_FEATURE"
    if name.startswith(("W_", "F_")):
        return f"SCARD_{name}"
    if name == "SUCCESS":
        return "SCARD_S_SUCCESS"
    return f"SCARD_E_{name}"


class PcscError(EnvironmentProblem):
    """A PC/SC call failed; ``message`` and ``hint`` say it plainly (exit code 3)."""

    code = "pcsc"

    def __init__(
        self, message: str, hint: str | None, *, result: int, operation: str, code: str
    ) -> None:
        super().__init__(message, hint, code=code)
        self.result = normalize(result)
        """The PC/SC result code (unsigned)."""
        self.operation = operation
        """The PC/SC function that failed, e.g. ``SCardConnect``."""

    @property
    def result_name(self) -> str:
        """The PC/SC name of :attr:`result`."""
        return result_name(self.result)


class _Text(Value):
    code: str
    """Stable code of the error (``pcsc-no-service``...)."""
    message: str
    """What happened; ``{reader}`` is replaced by the reader's name."""
    hint: str
    """What to do about it."""


_NO_SERVICE = _Text(
    "pcsc-no-service",
    "the PC/SC service (pcscd) is not running",
    "start it: `sudo systemctl start pcscd.socket` (systemd starts pcscd on first use),\n"
    "or run `sudo pcscd` by hand; then run the command again",
)
_SERVICE_STOPPED = _Text(
    "pcsc-service-stopped",
    "the PC/SC service stopped or does not speak this program's PC/SC library version",
    "the pcscd daemon and the libpcsclite library must come from the same pcsc-lite version;\n"
    "inside a flatpak or container, use the host's pcscd socket or a matching libpcsclite,\n"
    "then restart pcscd (`sudo systemctl restart pcscd`)",
)
_COMM_ERROR = _Text(
    "pcsc-comm-error",
    "lost the connection to the PC/SC service (pcscd) during {operation}",
    "pcscd may have crashed or been restarted: check `systemctl status pcscd` and "
    "`journalctl -u pcscd`,\nthen run the command again",
)
_NO_READERS = _Text(
    "no-readers",
    "the PC/SC service sees no smart-card reader",
    "plug the reader in (another USB port or cable helps); `lsusb` should list it;\n"
    "USB CCID readers need the driver: `sudo apt install libccid` (then restart pcscd);\n"
    "a serial-over-USB reader may be grabbed by brltty: `sudo apt remove brltty`;\n"
    "a reader plugged in before pcscd started may need `sudo systemctl restart pcscd`",
)
_UNKNOWN_READER = _Text(
    "unknown-reader",
    "no reader is named {reader!r}",
    "`cardcheck readers` lists the reader names exactly as PC/SC spells them",
)
_READER_UNAVAILABLE = _Text(
    "reader-unavailable",
    "the reader {reader!r} is not available (unplugged, or its driver failed)",
    "unplug and replug the reader; `journalctl -u pcscd` shows driver errors",
)
_NO_CARD = _Text(
    "no-card",
    "no card in the reader {reader!r}",
    "insert the card (chip first, contacts facing the reader's contacts) and try again",
)
_SHARING = _Text(
    "sharing-violation",
    "another program holds the card in {reader!r} exclusively",
    "close the program that uses the card: often gpg's scdaemon (`gpgconf --kill scdaemon`),\n"
    "a browser or its smart-card module, pcsc_scan, or a card server such as OpenSC's;\n"
    "cardcheck never takes a card exclusively, so it can read it once that program lets go",
)
_UNRESPONSIVE = _Text(
    "card-unresponsive",
    "the card in {reader!r} does not answer (no ATR, or speed negotiation failed)",
    "reinsert the card the right way round and clean its contacts;\n"
    "check that the reader gives the card's voltage class and a speed it supports\n"
    "(`cardcheck compat` and `cardcheck check` compare the card and the reader)",
)
_UNPOWERED = _Text(
    "card-unpowered",
    "the card in {reader!r} is not powered",
    "reinsert the card; if it stays unpowered, the reader may not give its voltage class "
    "(5 V, 3 V or 1.8 V)",
)
_UNSUPPORTED_CARD = _Text(
    "card-unsupported",
    "the reader or its driver does not support the card in {reader!r}",
    "the card may be a memory card (not ISO 7816 asynchronous) or need a protocol the reader "
    "lacks;\n`cardcheck atr` on its ATR tells more",
)
_INVALID_ATR = _Text(
    "invalid-atr",
    "the card in {reader!r} sent an ATR the driver cannot use",
    "reinsert the card; `cardcheck atr` on the ATR shows what is wrong with it",
)
_PROTO_MISMATCH = _Text(
    "protocol-mismatch",
    "the card in {reader!r} does not offer a protocol the reader can use (T=0 or T=1)",
    "`cardcheck atr` on its ATR shows the protocols the card offers",
)
_REMOVED = _Text(
    "card-removed",
    "the card was removed from {reader!r} during {operation}",
    "leave the card in the reader until the command ends, and run it again",
)
_RESET = _Text(
    "card-reset",
    "another program reset the card in {reader!r} during {operation}",
    "run the command again; if it keeps happening, close the other program using the card",
)
_NOT_TRANSACTED = _Text(
    "not-transacted",
    "the exchange with the card in {reader!r} failed ({operation})",
    "the card may have been removed or stopped answering: reinsert it and try again",
)
_SECURITY = _Text(
    "access-denied",
    "the PC/SC service refused access to this user (polkit)",
    "run as a user allowed by polkit (an active local session), or add a polkit rule for\n"
    "org.debian.pcsc-lite.access_pcsc and org.debian.pcsc-lite.access_card",
)
_GENERIC = _Text(
    "pcsc-error",
    "PC/SC call {operation} failed with {name}",
    "run `pcsc_scan` to see whether other programs see the reader; `journalctl -u pcscd` "
    "shows service errors",
)

_TEXTS: dict[int, _Text] = {
    PcscResult.NO_SERVICE: _NO_SERVICE,
    PcscResult.SERVICE_STOPPED: _SERVICE_STOPPED,
    PcscResult.F_COMM_ERROR: _COMM_ERROR,
    PcscResult.NO_READERS_AVAILABLE: _NO_READERS,
    PcscResult.UNKNOWN_READER: _UNKNOWN_READER,
    PcscResult.READER_UNAVAILABLE: _READER_UNAVAILABLE,
    PcscResult.NO_SMARTCARD: _NO_CARD,
    PcscResult.SHARING_VIOLATION: _SHARING,
    PcscResult.W_UNRESPONSIVE_CARD: _UNRESPONSIVE,
    PcscResult.W_UNPOWERED_CARD: _UNPOWERED,
    PcscResult.W_UNSUPPORTED_CARD: _UNSUPPORTED_CARD,
    PcscResult.CARD_UNSUPPORTED: _UNSUPPORTED_CARD,
    PcscResult.INVALID_ATR: _INVALID_ATR,
    PcscResult.PROTO_MISMATCH: _PROTO_MISMATCH,
    PcscResult.W_REMOVED_CARD: _REMOVED,
    PcscResult.W_RESET_CARD: _RESET,
    PcscResult.NOT_TRANSACTED: _NOT_TRANSACTED,
    PcscResult.W_SECURITY_VIOLATION: _SECURITY,
}


def translate(code: int, operation: str, reader: str | None = None) -> PcscError:
    """The cardcheck error for PC/SC result ``code`` returned by ``operation``.

    ``reader`` names the reader involved, when there is one. The caller raises the result,
    ``from`` the original exception if there was one.
    """
    value = normalize(code)
    text = _TEXTS.get(value, _GENERIC)
    where = reader if reader is not None else "the reader"
    message = text.message.format(reader=where, operation=operation, name=result_name(value))
    message = message.replace("'the reader'", "the reader")
    return PcscError(
        message,
        f"{text.hint}\n(PC/SC: {operation} returned {result_name(value)})",
        result=value,
        operation=operation,
        code=text.code,
    )


def card_went_silent(reader: str, operation: str) -> PcscError:
    """The error for an exchange that returned no status word: the card vanished mid-command."""
    return PcscError(
        f"the card in {reader!r} stopped answering in the middle of a command "
        "(removed, or it lost power)",
        "leave the card in the reader until the command ends and run it again;\n"
        "if it keeps happening, clean the contacts or try another reader",
        result=PcscResult.NOT_TRANSACTED,
        operation=operation,
        code="card-removed",
    )


def card_is_mute(reader: str, operation: str) -> PcscError:
    """The error for connecting to a card the reader shows as MUTE (it gave no ATR)."""
    return translate(PcscResult.W_UNRESPONSIVE_CARD, operation, reader)


def _seconds(value: float) -> str:
    return f"{value:g} s"


def in_transaction(reader: str, operation: str, seconds: float) -> PcscError:
    """A call on ``reader`` got no answer because another program keeps a transaction open."""
    return PcscError(
        f"the card in {reader!r} is in use by another program (in a transaction): "
        f"{operation} got no answer within {_seconds(seconds)}",
        "another program (OpenSC, gpg's scdaemon, a browser's smart-card module...) holds a\n"
        "transaction on the card; wait until it is done, or close that program\n"
        "(`gpgconf --kill scdaemon` for gpg), then run the command again;\n"
        "the reader's state and the card's ATR can still be read: `cardcheck readers`",
        result=PcscResult.TIMEOUT,
        operation=operation,
        code="in-transaction",
    )


def reader_unresponsive(reader: str, operation: str, seconds: float) -> PcscError:
    """The reader (or its driver) did not answer ``operation`` in time."""
    return PcscError(
        f"the reader {reader!r} is unresponsive: {operation} got no answer within "
        f"{_seconds(seconds)}",
        "remove and reinsert the card, or unplug and replug the reader;\n"
        "`journalctl -u pcscd` shows driver errors; if it stays stuck, "
        "`sudo systemctl restart pcscd`",
        result=PcscResult.TIMEOUT,
        operation=operation,
        code="reader-unresponsive",
    )


def card_unresponsive(reader: str, operation: str, seconds: float) -> PcscError:
    """The card did not answer a command (or a reset) in time."""
    return PcscError(
        f"the card in {reader!r} is unresponsive: {operation} got no answer within "
        f"{_seconds(seconds)}",
        "remove and reinsert the card and clean its contacts; another program holding a\n"
        "transaction on the card has the same effect: close it and run the command again",
        result=PcscResult.TIMEOUT,
        operation=operation,
        code="card-unresponsive",
    )


def service_unresponsive(operation: str, seconds: float) -> PcscError:
    """pcscd accepted the connection but did not answer ``operation`` in time."""
    return PcscError(
        f"the PC/SC service (pcscd) is unresponsive: {operation} got no answer within "
        f"{_seconds(seconds)}",
        "pcscd seems stuck: `sudo systemctl restart pcscd` (or stop and start `pcscd`),\n"
        "then run the command again; `journalctl -u pcscd` may say why",
        result=PcscResult.TIMEOUT,
        operation=operation,
        code="pcsc-unresponsive",
    )
