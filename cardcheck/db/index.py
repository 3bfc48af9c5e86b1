"""The lookup index of an ATR list: a lookup only tries the entries that can match.

Matching follows ATR_analysis: every entry is the regular expression ``^entry$``, case-insensitive,
tried against the ATR written ``XX XX XX``; all matches count, in file order. The index only
narrows and speeds up that test:

- a literal entry (hex digits and spaces) matches exactly one text: a binary search;
- a pattern made of single-character atoms (a literal character, ``.``, a class ``[..]``)
  matches only texts of its own length that start with its literal prefix. It is filed under
  (length, first characters of that prefix) and checked position by position, with the set of
  characters each atom accepts worked out by :mod:`re` itself when the index is built;
- anything else (``.*``, quantifiers, groups) is a regular expression compiled when first tried,
  skipped at once when the text does not start with the prefix it requires.

The index is made of plain tuples, dicts, strings and ints so that :mod:`marshal` can store
and load it in about a millisecond (see :mod:`cardcheck.db.cache`).
"""

from __future__ import annotations

import re
import warnings
from bisect import bisect_left
from typing import Any

from cardcheck.db.model import InvalidEntry
from cardcheck.db.parse import ParsedList, invalid_entry

FORMAT_VERSION = 3
"""Bumped whenever the layout of :meth:`ListIndex.to_data` changes (old caches are rebuilt)."""

PREFIX_CHARS = 8
"""Characters of literal prefix a pattern is filed under (``3B 8F 80``: three bytes)."""

ALPHABET = "0123456789ABCDEF "
"""Every character an ATR text (:func:`atr_text`) can hold."""

_LITERAL_CHAR = "[0-9A-Za-z ]"
_LITERAL = re.compile(f"{_LITERAL_CHAR}*")
_SIMPLE_ATOM = rf"(?:{_LITERAL_CHAR}|\.|\[[0-9A-Za-z ,|\-]+\])"
_SIMPLE = re.compile(f"{_SIMPLE_ATOM}+")
_ATOMS = re.compile(_SIMPLE_ATOM)
# A generic pattern whose leading literal characters are all required: no alternation, no groups,
# no escapes; the last literal character is dropped when a quantifier follows it.
_PLAIN_GENERIC = re.compile(r"[0-9A-Za-z .\[\],\-*]*")
_LEADING_LITERAL = re.compile(f"{_LITERAL_CHAR}*")

BucketKey = tuple[int, str]
Checks = tuple[tuple[tuple[int, str], ...], tuple[tuple[int, str], ...]]
"""How a single-atom pattern is checked: (literal runs (start, text), classes (position, accepted))."""


def compile_entry(pattern: str) -> re.Pattern[str]:
    """The regular expression ATR_analysis uses for an entry: ``^entry$``, case-insensitive.

    Raises :class:`re.error` for a line that is not a valid regular expression.
    """
    with warnings.catch_warnings():
        # Classes such as [NDS||V14] make re warn about future set syntax: not our concern.
        warnings.simplefilter("ignore", FutureWarning)
        return re.compile(f"^{pattern}$", re.IGNORECASE)


def atr_text(atr: bytes) -> str:
    """An ATR written the way the list matches it: upper-case hex pairs separated by spaces."""
    return atr.hex(" ").upper()


def _accepted(atom: str) -> str:
    """The characters of :data:`ALPHABET` one atom matches, as :mod:`re` decides it."""
    regex = compile_entry(atom)
    return "".join(char for char in ALPHABET if regex.match(char))


def _simple_checks(pattern: str) -> tuple[BucketKey, Checks] | None:
    """Bucket and checks of a pattern of single-character atoms, or None for any other pattern."""
    if not _SIMPLE.fullmatch(pattern):
        return None
    runs: list[tuple[int, str]] = []
    classes: list[tuple[int, str]] = []
    prefix: str | None = None
    run_start, run = 0, ""
    for position, atom in enumerate(_ATOMS.findall(pattern)):
        if len(atom) == 1 and atom != ".":
            if not run:
                run_start = position
            run += atom.upper()
            continue
        if run:
            runs.append((run_start, run))
        if prefix is None:
            prefix = run if run_start == 0 else ""
        run = ""
        if atom != ".":
            accepted = _accepted(atom)
            if accepted != ALPHABET:
                classes.append((position, accepted))
    length = len(_ATOMS.findall(pattern))
    if run:
        runs.append((run_start, run))
    if prefix is None:
        prefix = run if run_start == 0 else ""
    return (length, prefix[:PREFIX_CHARS]), (tuple(runs), tuple(classes))


def _required_prefix(pattern: str) -> str:
    """Literal characters every text matching a generic pattern starts with ("" when unsure)."""
    if not _PLAIN_GENERIC.fullmatch(pattern):
        return ""
    leading = _LEADING_LITERAL.match(pattern)
    prefix = leading.group(0) if leading else ""
    if pattern[len(prefix) : len(prefix) + 1] == "*":
        prefix = prefix[:-1]
    return prefix.upper()


class ListIndex:
    """One list (or the local additions), indexed for lookups by ATR text."""

    __slots__ = (
        "_compiled",
        "buckets",
        "checks",
        "desc_blob",
        "desc_offsets",
        "exact_keys",
        "exact_numbers",
        "generic",
        "invalid",
        "is_pattern",
        "lines",
        "list_date",
        "patterns",
        "prefix_lengths",
    )

    def __init__(
        self,
        *,
        patterns: tuple[str, ...],
        lines: tuple[int, ...],
        is_pattern: tuple[bool, ...],
        desc_blob: str,
        desc_offsets: tuple[int, ...],
        exact_keys: tuple[str, ...],
        exact_numbers: tuple[int, ...],
        buckets: dict[BucketKey, tuple[int, ...]],
        checks: dict[int, Checks],
        prefix_lengths: tuple[int, ...],
        generic: tuple[tuple[int, str], ...],
        invalid: tuple[InvalidEntry, ...],
        list_date: str | None,
    ) -> None:
        self.patterns = patterns
        """ATR line of each usable entry, in file order (entries are numbered from 0)."""
        self.lines = lines
        """1-based line number of each entry."""
        self.is_pattern = is_pattern
        """Whether each entry is a regular expression rather than a literal ATR."""
        self.desc_blob = desc_blob
        """Every description line, each ended by a newline, entry after entry."""
        self.desc_offsets = desc_offsets
        """Where each entry's descriptions start in :attr:`desc_blob` (one more than entries)."""
        self.exact_keys = exact_keys
        """Upper-case text of every literal entry, sorted (a sorted tuple loads faster than a dict)."""
        self.exact_numbers = exact_numbers
        """The entry of each of :attr:`exact_keys`."""
        self.buckets = buckets
        """(ATR text length, literal prefix) -> single-character-atom patterns filed there."""
        self.checks = checks
        """Entry -> how that single-character-atom pattern is checked."""
        self.prefix_lengths = prefix_lengths
        """Distinct prefix lengths used by the bucket keys."""
        self.generic = generic
        """(entry, required prefix) of the patterns matched with a regular expression."""
        self.invalid = invalid
        """ATR lines that are not valid regular expressions (left out of the numbering)."""
        self.list_date = list_date
        """The date the list gives itself, or None."""
        self._compiled: dict[int, re.Pattern[str]] = {}

    @classmethod
    def build(cls, parsed: ParsedList) -> ListIndex:
        """Index a parsed list; invalid patterns are recorded in :attr:`invalid` and skipped."""
        patterns: list[str] = []
        lines: list[int] = []
        is_pattern: list[bool] = []
        blob: list[str] = []
        offsets = [0]
        exact: list[tuple[str, int]] = []
        buckets: dict[BucketKey, list[int]] = {}
        checks: dict[int, Checks] = {}
        generic: list[tuple[int, str]] = []
        invalid: list[InvalidEntry] = []
        for entry in parsed.entries:
            pattern = entry[0]
            literal = _LITERAL.fullmatch(pattern) is not None
            if not literal:
                try:
                    compile_entry(pattern)
                except re.error as exc:
                    invalid.append(invalid_entry(entry, exc))
                    continue
            number = len(patterns)
            patterns.append(pattern)
            lines.append(entry[2])
            is_pattern.append(not literal)
            text = "".join(f"{line}\n" for line in entry[1])
            blob.append(text)
            offsets.append(offsets[-1] + len(text))
            if literal:
                # The same string object as the pattern when possible: marshal then stores it once.
                key = pattern.upper()
                key = pattern if key == pattern else key
                exact.append((key, number))
                continue
            simple = _simple_checks(pattern)
            if simple is None:
                generic.append((number, _required_prefix(pattern)))
            else:
                buckets.setdefault(simple[0], []).append(number)
                checks[number] = simple[1]
        return cls(
            patterns=tuple(patterns),
            lines=tuple(lines),
            is_pattern=tuple(is_pattern),
            desc_blob="".join(blob),
            desc_offsets=tuple(offsets),
            exact_keys=tuple(key for key, _ in sorted(exact)),
            exact_numbers=tuple(number for _, number in sorted(exact)),
            buckets={key: tuple(numbers) for key, numbers in buckets.items()},
            checks=checks,
            prefix_lengths=tuple(sorted({len(key[1]) for key in buckets})),
            generic=tuple(generic),
            invalid=tuple(invalid),
            list_date=parsed.list_date,
        )

    def __len__(self) -> int:
        return len(self.patterns)

    @property
    def pattern_count(self) -> int:
        """How many usable entries are regular expressions."""
        return sum(self.is_pattern)

    def descriptions(self, number: int) -> tuple[str, ...]:
        """The description lines of one entry."""
        text = self.desc_blob[self.desc_offsets[number] : self.desc_offsets[number + 1]]
        return tuple(text.split("\n")[:-1])

    def regex(self, number: int) -> re.Pattern[str]:
        """The compiled ``^entry$`` of one entry (compiled once, when first asked for)."""
        compiled = self._compiled.get(number)
        if compiled is None:
            compiled = compile_entry(self.patterns[number])
            self._compiled[number] = compiled
        return compiled

    def lookup(self, text: str) -> list[int]:
        """Entries matching the ATR text ``text`` (:func:`atr_text`), in file order."""
        matched = []
        keys = self.exact_keys
        at = bisect_left(keys, text)
        while at < len(keys) and keys[at] == text:
            matched.append(self.exact_numbers[at])
            at += 1
        size = len(text)
        for length in self.prefix_lengths:
            numbers = self.buckets.get((size, text[:length]))
            if not numbers:
                continue
            for number in numbers:
                runs, classes = self.checks[number]
                if all(text.startswith(run, start) for start, run in runs) and all(
                    text[position] in accepted for position, accepted in classes
                ):
                    matched.append(number)
        for number, prefix in self.generic:
            if text.startswith(prefix) and self.regex(number).match(text):
                matched.append(number)
        matched.sort()
        return matched

    def naive_lookup(self, text: str) -> list[int]:
        """The answer of ATR_analysis: try every entry's regular expression (tests, benchmarks)."""
        return [n for n in range(len(self.patterns)) if self.regex(n).match(text)]

    def search(self, needle: str) -> list[int]:
        """Entries with ``needle`` in a description (case-insensitive), in file order."""
        folded = needle.casefold()
        blob = self.desc_blob.casefold()
        if len(blob) != len(self.desc_blob):
            # casefold() changed some lengths (e.g. "ß"): fall back to entry by entry.
            return [
                n
                for n in range(len(self.patterns))
                if any(folded in line.casefold() for line in self.descriptions(n))
            ]
        if not folded:
            return list(range(len(self.patterns)))
        if "\n" in folded:
            return []
        found: list[int] = []
        offsets = self.desc_offsets
        number = 0
        start = blob.find(folded)
        while start >= 0:
            while offsets[number + 1] <= start:
                number += 1
            found.append(number)
            start = blob.find(folded, offsets[number + 1])
        return found

    def to_data(self) -> tuple[Any, ...]:
        """The index as plain values for :mod:`marshal` (layout version :data:`FORMAT_VERSION`)."""
        return (
            self.patterns,
            self.lines,
            self.is_pattern,
            self.desc_blob,
            self.desc_offsets,
            self.exact_keys,
            self.exact_numbers,
            self.buckets,
            self.checks,
            self.prefix_lengths,
            self.generic,
            tuple((item.line, item.pattern, item.reason) for item in self.invalid),
            self.list_date,
        )

    @classmethod
    def from_data(cls, data: tuple[Any, ...]) -> ListIndex:
        """Rebuild an index from :meth:`to_data`'s values (raises ValueError/TypeError if malformed)."""
        (
            patterns,
            lines,
            is_pattern,
            desc_blob,
            desc_offsets,
            exact_keys,
            exact_numbers,
            buckets,
            checks,
            prefix_lengths,
            generic,
            invalid,
            list_date,
        ) = data
        count = len(patterns)
        if not (
            isinstance(patterns, tuple)
            and len(lines) == count
            and len(is_pattern) == count
            and isinstance(desc_blob, str)
            and len(desc_offsets) == count + 1
            and isinstance(exact_keys, tuple)
            and len(exact_numbers) == len(exact_keys)
            and isinstance(buckets, dict)
            and isinstance(checks, dict)
            and isinstance(generic, tuple)
        ):
            raise ValueError("malformed index data")
        return cls(
            patterns=patterns,
            lines=lines,
            is_pattern=is_pattern,
            desc_blob=desc_blob,
            desc_offsets=desc_offsets,
            exact_keys=exact_keys,
            exact_numbers=exact_numbers,
            buckets=buckets,
            checks=checks,
            prefix_lengths=prefix_lengths,
            generic=generic,
            invalid=tuple(InvalidEntry(line, pattern, reason) for line, pattern, reason in invalid),
            list_date=list_date,
        )
