"""Turn ATR text typed by a person (``3B 8F 80 ...``, ``3b:8f``, ``3B8F80``) into bytes.

Text that is not hex is an :class:`~cardcheck.errors.InputError` that points at the first
bad character (or the odd group of digits), so the user sees where the typo is.
"""

from __future__ import annotations

from collections.abc import Sequence

from cardcheck.errors import InputError

SEPARATORS = frozenset(" \t:")
"""Characters allowed between hex digits: spaces, tabs and colons."""

_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


class NotHexError(InputError):
    """ATR text that is not hex; knows where the problem is."""

    code = "not-hex"

    def __init__(
        self, message: str, hint: str, *, position: int, text: str, width: int = 1
    ) -> None:
        super().__init__(message + "\n" + _pointer(text, position - 1, width), hint)
        self.summary = message
        """The one-sentence message, without the pointer lines."""
        self.position = position
        """1-based position of the bad character (or of the odd group) in the joined text."""


def _pointer(text: str, position: int, width: int = 1) -> str:
    """Two indented lines: the text and a caret line under ``position``."""
    return f"  {text}\n  {' ' * position}{'^' * max(width, 1)}"


_EXAMPLES = {
    "ATR": "3B 8F 80 01",
    "APDU": "00 A4 00 00 02 3F 00",
}
"""An example of each thing typed in hex, for the hints."""


def parse_atr_text(parts: Sequence[str], what: str = "ATR") -> bytes:
    """The bytes written in ``parts`` (one ATR, or the ``what`` named in the messages, such
    as an APDU, possibly split over several arguments).

    Digits may be upper or lower case, grouped freely (``3B0214 50``) and separated by
    spaces, tabs or colons; every group must hold an even number of digits. Raises
    :class:`InputError` (with the position of the problem, naming ``what``) for anything
    else, or when there are no digits at all.
    """
    text = " ".join(parts)
    # Fast path: bytes.fromhex reads pairs of digits with ASCII white space between the pairs,
    # so once colons and tabs are spaces it takes exactly the groups accepted here, except for
    # the line breaks, vertical tabs and form feeds it also skips. Anything it refuses, and
    # those, go the slow way below, which finds the position for the message.
    try:
        data = bytes.fromhex(text.replace(":", " ").replace("\t", " "))
    except ValueError:
        data = b""
    if data and not any(char in text for char in _OTHER_WHITE_SPACE):
        return data
    return _parse_slowly(text, what)


_OTHER_WHITE_SPACE = "\n\r\x0b\x0c"
"""White space bytes.fromhex skips between pairs but an ATR may not hold."""


def _parse_slowly(text: str, what: str = "ATR") -> bytes:
    """:func:`parse_atr_text` character by character: raises with the position of the problem."""
    shown = text.replace("\t", " ")
    out = bytearray()
    group_start: int | None = None

    def close_group(end: int) -> None:
        if group_start is None:
            return
        group = text[group_start:end]
        if len(group) % 2:
            raise NotHexError(
                f"the {what} has an odd number of hex digits in '{group}' at position "
                f"{group_start + 1}: each byte needs two digits",
                "write every byte as two digits, e.g. 0A rather than A",
                position=group_start + 1,
                text=shown,
                width=len(group),
            )
        out.extend(bytes.fromhex(group))

    for i, ch in enumerate(text):
        if ch in _HEX_DIGITS:
            if group_start is None:
                group_start = i
            continue
        if ch in SEPARATORS:
            close_group(i)
            group_start = None
            continue
        shown_ch = ch if ch.isprintable() else repr(ch)
        example = _EXAMPLES.get(what, _EXAMPLES["ATR"])
        raise NotHexError(
            f"the {what} is not hex: '{shown_ch}' at position {i + 1}",
            f"an {what} is hex digits 0-9 and A-F, e.g. {example} (spaces or colons between "
            "bytes are fine)",
            position=i + 1,
            text=shown,
        )
    close_group(len(text))
    if not out:
        example = "cardcheck atr 3B 02 14 50" if what == "ATR" else _EXAMPLES.get(what, "")
        raise InputError(
            f"no {what} given: the text holds no hex digits",
            f"give the {what} as hex, e.g. {example}",
            code="empty-input",
        )
    return bytes(out)
