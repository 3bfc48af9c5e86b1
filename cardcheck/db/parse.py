"""Read the smartcard_list.txt format and decide whether a file is a usable ATR list.

The format (pcsc-tools): ``#`` comment lines; an ATR line (hex pairs, possibly a regular
expression); the TAB-indented description lines that follow it; blank lines between entries.
"""

from __future__ import annotations

from cardcheck.values import Value

MIN_ENTRIES = 1000
"""Fewest entries a list found in the chain (or downloaded) must have to be believed.

The public list had about 1,900 entries in 2008 and over 5,000 in 2026: a file with fewer is
truncated or something else."""

MIN_ATR_SHAPED = 0.9
"""Share of ATR lines that must look like an ATR (hex pairs, '.', classes) in a valid list."""

TRAILER = "# do not delete"
"""The comment line that closes every published list (its last line): a download or a copy
without it was cut short."""

MAX_INVALID_SHARE = 0.1
"""A new list with more than this share of invalid entries (no description, or a pattern that
is not a regular expression) is refused by ``db update`` without --force."""

MAX_LIST_BYTES = 64 * 1024 * 1024
"""A list file larger than this is not read (the list is about 0.6 MB in 2026)."""

RawEntry = tuple[str, tuple[str, ...], int]
"""An entry as read: (ATR line, description lines, 1-based line number)."""

# Regular expressions are kept as text and compiled when a list is parsed, not at import.
_ATR_SHAPED = r"[0-9A-Fa-f.][0-9A-Fa-f.\[\]\-,|* ]*"
_ISO_DATE = r"\b(\d{4}-\d{2}-\d{2})\b"
_COPYRIGHT_YEAR = r"Copyright\s+\([Cc]\)\s+(?:\d{4}\s*-\s*)?(\d{4})"


class ListRejected(Exception):
    """A file or download is not a usable ATR list; ``reason`` says why in one sentence."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        """Why the data is not a usable list."""


class ParsedList(Value):
    """A list file read into entries, before indexing."""

    entries: tuple[RawEntry, ...]
    """Every ATR line with its descriptions, in file order (invalid patterns included)."""
    list_date: str | None
    """The date the list gives itself in a comment (ISO date, else copyright year), or None."""
    atr_shaped: int
    """How many ATR lines look like an ATR (used to tell a list from other text)."""


def decode_list(data: bytes) -> str:
    """The text of a list file; raises ListRejected for binary data or an HTML page."""
    if b"\x00" in data:
        raise ListRejected("it is binary data, not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        # Old copies of the list were written in ISO-8859-1.
        text = data.decode("latin-1")
    if text.startswith("\ufeff"):
        text = text[1:]
    head = text[:2048].lstrip().lower()
    if head.startswith(("<!doctype", "<html", "<?xml", "<head", "<body")) or "<html" in head:
        raise ListRejected("it is an HTML page, not the ATR list")
    return text


def _list_date(comments: list[str]) -> str | None:
    import re  # here, not at the top: identifying with a cached index parses no list

    for line in comments:
        found = re.search(_ISO_DATE, line)
        if found:
            return found.group(1)
    for line in comments:
        found = re.search(_COPYRIGHT_YEAR, line)
        if found:
            return found.group(1)
    return None


def parse_list(text: str) -> ParsedList:
    """Split a list into entries the way ATR_analysis reads it.

    A line starting with ``#`` is a comment, a line starting with TAB describes the ATR line
    above it, a blank line ends an entry; any other line is an ATR line. A trailing CR is
    dropped (ATR_analysis would keep it and then match nothing).
    """
    import re  # here, not at the top: identifying with a cached index parses no list

    atr_shaped = re.compile(_ATR_SHAPED)
    entries: list[RawEntry] = []
    comments: list[str] = []
    shaped = 0
    pattern: str | None = None
    descriptions: list[str] = []
    start = 0
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        if line.startswith("\t"):
            if pattern is not None:
                descriptions.append(line[1:])
            continue
        if pattern is not None:
            entries.append((pattern, tuple(descriptions), start))
            pattern = None
        if line.startswith("#"):
            if len(comments) < 64:
                comments.append(line)
            continue
        if not line.strip():
            continue
        pattern, descriptions, start = line, [], number
        if atr_shaped.fullmatch(line):
            shaped += 1
    if pattern is not None:
        entries.append((pattern, tuple(descriptions), start))
    return ParsedList(entries=tuple(entries), list_date=_list_date(comments), atr_shaped=shaped)


def check_plausible(parsed: ParsedList, usable: int, *, min_entries: int) -> None:
    """Raise ListRejected unless ``parsed`` (``usable`` valid entries) looks like an ATR list."""
    total = len(parsed.entries)
    if total == 0:
        raise ListRejected("it holds no ATR entries")
    if parsed.atr_shaped < MIN_ATR_SHAPED * total:
        raise ListRejected(
            f"only {parsed.atr_shaped} of its {total} entry lines look like an ATR: "
            "it is not an ATR list"
        )
    if usable < min_entries:
        raise ListRejected(
            f"it holds only {usable} usable entries (a complete list has thousands): "
            "it looks truncated"
        )


def check_complete(text: str, parsed: ParsedList, usable: int) -> None:
    """Raise ListRejected unless the list is whole: it ends with :data:`TRAILER` (a list cut
    mid-entry does not) and at most :data:`MAX_INVALID_SHARE` of its entries are invalid."""
    tail = text.rstrip().rsplit("\n", 1)[-1].strip()
    if tail != TRAILER:
        shown = tail if len(tail) <= 40 else tail[:40] + "..."
        raise ListRejected(
            f"it does not end with the line '{TRAILER}' that closes the published list "
            f"(its last line is {shown!r}): it looks cut short"
        )
    total = len(parsed.entries)
    # Entries without a word of description identify nothing: they count as invalid here.
    undescribed = sum(1 for entry in parsed.entries if not any(d.strip() for d in entry[1]))
    invalid = min(total, total - usable + undescribed)
    if invalid > MAX_INVALID_SHARE * total:
        raise ListRejected(
            f"{invalid} of its {total} entries are invalid (no description, or a pattern that "
            "is not a regular expression): it looks damaged"
        )
