"""The lookup index of an ATR list: a lookup only tries the entries that can match.

Matching follows ATR_analysis: every entry is the regular expression ``^entry$``, case-insensitive,
tried against the ATR written ``XX XX XX``; all matches count, in file order. The index only
narrows and speeds up that test:

- a literal entry (hex digits and spaces) matches exactly one text: a binary search;
- a pattern made of single-character atoms (a literal character, ``.``, a class ``[..]``)
  matches only texts of its own length that start with its literal prefix. It is filed under
  (length, first characters of that prefix) and checked position by position, with the set of
  characters each atom accepts worked out by :mod:`re` itself when the index is built; a bucket
  of many such patterns is split again by the byte that best tells them apart;
- anything else (``.*``, quantifiers, groups) is a regular expression compiled when first tried,
  skipped at once when the text does not start with the prefix it requires.

The index is made of plain tuples, dicts, strings and ints so that :mod:`marshal` can store
and load it in about a millisecond (see :mod:`cardcheck.db.cache`).
"""

from __future__ import annotations

from bisect import bisect_left

from cardcheck.db.parse import ParsedList

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up

if TYPE_CHECKING:
    import re
    from typing import Any

    from cardcheck.db.records import InvalidEntry

FORMAT_VERSION = 7
"""Bumped whenever the layout of :meth:`ListIndex.to_data` changes (old caches are rebuilt)."""

PREFIX_CHARS = 8
"""Characters of literal prefix a pattern is filed under (``3B 8F 80``: three bytes)."""

ALPHABET = "0123456789ABCDEF "
"""Every character an ATR text (:func:`atr_text`) can hold."""

# Regular expressions are kept as text and compiled (by re's cache) when a list is indexed:
# compiling them at import would cost start-up time on every identification. For the same
# reason :mod:`re` itself is imported only where a list is indexed or a generic pattern is
# tried: a lookup in a cached index needs no regular expression for most ATRs.
_LITERAL_CHAR = "[0-9A-Za-z ]"
_LITERAL = f"{_LITERAL_CHAR}*"
_SIMPLE_ATOM = rf"(?:{_LITERAL_CHAR}|\.|\[[0-9A-Za-z ,|\-]+\])"
_SIMPLE = f"{_SIMPLE_ATOM}+"
# A generic pattern whose leading literal characters are all required: no alternation, no groups,
# no escapes; the last literal character is dropped when a quantifier follows it.
_PLAIN_GENERIC = r"[0-9A-Za-z .\[\],\-*]*"

_BISECT_LOOKUPS = 16
"""Literal entries are found by binary search for the first lookups of an index; after that
(a ``--file`` of many ATRs) a dict of them is built once (about 2 ms) and used instead."""

BucketKey = tuple[int, str]
Checks = tuple[tuple[tuple[int, str], ...], tuple[tuple[int, str], ...]]
"""How a single-atom pattern is checked: (literal runs (start, text), classes (position, set))."""
Split = tuple[int, dict[str, tuple[int, ...]], tuple[int, ...]]
"""A big bucket split by the byte at one text position: (position, byte text -> the patterns to
try for it, the patterns to try for any other byte: those with no literal byte there)."""

SPLIT_MIN = 8
"""Buckets with at least this many patterns are split by one of their bytes (the 81 PC/SC
Part 3 storage-card patterns share ``3B 8F 80``; their card-name byte tells them apart)."""


def _literal_at(checks: Checks, position: int) -> str | None:
    """The two literal characters a pattern requires at ``position``, or None."""
    for start, run in checks[0]:
        if start <= position and position + 2 <= start + len(run):
            return run[position - start : position - start + 2]
    return None


def _split(numbers: list[int], length: int, checks: dict[int, Checks]) -> Split | None:
    """The byte position that best tells the patterns of one bucket apart (the fewest patterns
    left to try in the worst case), or None when no byte helps."""
    best: Split | None = None
    best_worst = len(numbers)
    for position in range(0, length - 1, 3):
        by_value: dict[str, list[int]] = {}
        anywhere: list[int] = []
        for number in numbers:
            value = _literal_at(checks[number], position)
            if value is None:
                anywhere.append(number)
            else:
                by_value.setdefault(value, []).append(number)
        if not by_value:
            continue
        worst = len(anywhere) + max(len(group) for group in by_value.values())
        if worst < best_worst:
            best_worst = worst
            best = (
                position,
                {value: tuple(sorted(group + anywhere)) for value, group in by_value.items()},
                tuple(anywhere),
            )
    return best


def compile_entry(pattern: str) -> re.Pattern[str]:
    """The regular expression ATR_analysis uses for an entry: ``^entry$``, case-insensitive.

    Raises :class:`re.error` for a line that is not a valid regular expression.
    """
    import re
    import warnings

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
    import re

    if not re.fullmatch(_SIMPLE, pattern):
        return None
    atoms = re.findall(_SIMPLE_ATOM, pattern)
    runs: list[tuple[int, str]] = []
    classes: list[tuple[int, str]] = []
    prefix: str | None = None
    run_start, run = 0, ""
    for position, atom in enumerate(atoms):
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
    length = len(atoms)
    if run:
        runs.append((run_start, run))
    if prefix is None:
        prefix = run if run_start == 0 else ""
    return (length, prefix[:PREFIX_CHARS]), (tuple(runs), tuple(classes))


def _required_prefix(pattern: str) -> str:
    """Literal characters every text matching a generic pattern starts with ("" when unsure)."""
    import re

    if not re.fullmatch(_PLAIN_GENERIC, pattern):
        return ""
    leading = re.match(_LITERAL, pattern)
    prefix = leading.group(0) if leading else ""
    if pattern[len(prefix) : len(prefix) + 1] == "*":
        prefix = prefix[:-1]
    return prefix.upper()


def _packed(values: list[int]) -> bytes:
    """Unsigned ints packed in native order: loaded back as a memoryview, with no int objects."""
    from array import array

    return array("I", values).tobytes()


class ListIndex:
    """One list (or the local additions), indexed for lookups by ATR text.

    Entries are numbered from 0 in file order. Their texts live in two big strings and their
    numbers in packed byte strings: :mod:`marshal` loads those far faster than thousands of small
    objects, and start-up time is what a one-ATR identification costs.
    """

    __slots__ = (
        "_compiled",
        "_desc_offsets",
        "_exact_map",
        "_exact_order",
        "_lines",
        "_lookups",
        "_pattern_offsets",
        "buckets",
        "checks",
        "desc_blob",
        "generic",
        "invalid",
        "kinds",
        "list_date",
        "pattern_blob",
        "prefix_lengths",
        "splits",
    )

    def __init__(
        self,
        *,
        pattern_blob: str,
        pattern_offsets: bytes,
        desc_blob: str,
        desc_offsets: bytes,
        lines: bytes,
        kinds: bytes,
        exact_order: bytes,
        buckets: dict[BucketKey, tuple[int, ...]],
        splits: dict[BucketKey, Split],
        checks: dict[int, Checks],
        prefix_lengths: tuple[int, ...],
        generic: tuple[tuple[int, str], ...],
        invalid: tuple[tuple[int, str, str], ...],
        list_date: str | None,
    ) -> None:
        self.pattern_blob = pattern_blob
        """Every entry's ATR line, one after the other."""
        self._pattern_offsets = memoryview(pattern_offsets).cast("I")
        self.desc_blob = desc_blob
        """Every description line, each ended by a newline, entry after entry."""
        self._desc_offsets = memoryview(desc_offsets).cast("I")
        self._lines = memoryview(lines).cast("I")
        self.kinds = kinds
        """One byte per entry: 0 for a literal ATR, 1 for a regular expression."""
        self._exact_order = memoryview(exact_order).cast("I")
        self.buckets = buckets
        """(ATR text length, literal prefix) -> single-character-atom patterns filed there."""
        self.splits = splits
        """Bucket key -> the same patterns by the byte at one position (big buckets only)."""
        self.checks = checks
        """Entry -> how that single-character-atom pattern is checked."""
        self.prefix_lengths = prefix_lengths
        """Distinct prefix lengths used by the bucket keys."""
        self.generic = generic
        """(entry, required prefix) of the patterns matched with a regular expression."""
        self.invalid = invalid
        """(line, text, error) of the ATR lines that are not valid regular expressions (left out
        of the numbering)."""
        self.list_date = list_date
        """The date the list gives itself, or None."""
        self._compiled: dict[int, re.Pattern[str]] = {}
        self._exact_map: dict[str, list[int]] | None = None
        self._lookups = 0
        count = len(kinds)
        if not (
            len(self._pattern_offsets) == count + 1
            and len(self._desc_offsets) == count + 1
            and len(self._lines) == count
            and self._pattern_offsets[count] == len(pattern_blob)
            and self._desc_offsets[count] == len(desc_blob)
        ):
            raise ValueError("inconsistent index data")

    @classmethod
    def build(cls, parsed: ParsedList) -> ListIndex:
        """Index a parsed list; invalid patterns are recorded in :attr:`invalid` and skipped."""
        import re

        patterns: list[str] = []
        pattern_offsets = [0]
        lines: list[int] = []
        kinds = bytearray()
        blob: list[str] = []
        desc_offsets = [0]
        exact: list[tuple[str, int]] = []
        buckets: dict[BucketKey, list[int]] = {}
        checks: dict[int, Checks] = {}
        generic: list[tuple[int, str]] = []
        invalid: list[tuple[int, str, str]] = []
        for entry in parsed.entries:
            pattern = entry[0]
            literal = re.fullmatch(_LITERAL, pattern) is not None
            if not literal:
                try:
                    compile_entry(pattern)
                except re.error as exc:
                    invalid.append((entry[2], pattern, str(exc)))
                    continue
            number = len(patterns)
            patterns.append(pattern)
            pattern_offsets.append(pattern_offsets[-1] + len(pattern))
            lines.append(entry[2])
            kinds.append(0 if literal else 1)
            text = "".join(f"{line}\n" for line in entry[1])
            blob.append(text)
            desc_offsets.append(desc_offsets[-1] + len(text))
            if literal:
                exact.append((pattern.upper(), number))
                continue
            simple = _simple_checks(pattern)
            if simple is None:
                generic.append((number, _required_prefix(pattern)))
            else:
                buckets.setdefault(simple[0], []).append(number)
                checks[number] = simple[1]
        return cls(
            pattern_blob="".join(patterns),
            pattern_offsets=_packed(pattern_offsets),
            desc_blob="".join(blob),
            desc_offsets=_packed(desc_offsets),
            lines=_packed(lines),
            kinds=bytes(kinds),
            exact_order=_packed([number for _, number in sorted(exact)]),
            buckets={key: tuple(numbers) for key, numbers in buckets.items()},
            splits={
                key: split
                for key, numbers in buckets.items()
                if len(numbers) >= SPLIT_MIN
                and (split := _split(numbers, key[0], checks)) is not None
            },
            checks=checks,
            prefix_lengths=tuple(sorted({len(key[1]) for key in buckets})),
            generic=tuple(generic),
            invalid=tuple(invalid),
            list_date=parsed.list_date,
        )

    def __len__(self) -> int:
        return len(self.kinds)

    def pattern(self, number: int) -> str:
        """The ATR line of one entry, as written."""
        offsets = self._pattern_offsets
        return self.pattern_blob[offsets[number] : offsets[number + 1]]

    def is_pattern(self, number: int) -> bool:
        """Whether one entry is a regular expression rather than a literal ATR."""
        return self.kinds[number] == 1

    def line(self, number: int) -> int:
        """The 1-based line number of one entry."""
        return self._lines[number]

    def descriptions(self, number: int) -> tuple[str, ...]:
        """The description lines of one entry."""
        text = self.desc_blob[self._desc_offsets[number] : self._desc_offsets[number + 1]]
        return tuple(text.split("\n")[:-1])

    @property
    def pattern_count(self) -> int:
        """How many usable entries are regular expressions."""
        return self.kinds.count(1)

    def invalid_entries(self) -> tuple[InvalidEntry, ...]:
        """The invalid ATR lines as records."""
        from cardcheck.db.records import InvalidEntry

        return tuple(InvalidEntry(line, text, error) for line, text, error in self.invalid)

    def regex(self, number: int) -> re.Pattern[str]:
        """The compiled ``^entry$`` of one entry (compiled once, when first asked for)."""
        compiled = self._compiled.get(number)
        if compiled is None:
            compiled = compile_entry(self.pattern(number))
            self._compiled[number] = compiled
        return compiled

    def _exact(self, text: str) -> list[int]:
        exact_map = self._exact_map
        if exact_map is not None:
            found = exact_map.get(text)
            return [] if found is None else found.copy()
        self._lookups += 1
        if self._lookups > _BISECT_LOOKUPS:
            self._exact_map = exact_map = {}
            for number in self._exact_order:
                exact_map.setdefault(self.pattern(number).upper(), []).append(number)
            return self._exact(text)
        order = self._exact_order
        at = bisect_left(order, text, key=lambda number: self.pattern(number).upper())
        found = []
        while at < len(order) and self.pattern(order[at]).upper() == text:
            found.append(order[at])
            at += 1
        return found

    def lookup(self, text: str) -> list[int]:
        """Entries matching the ATR text ``text`` (:func:`atr_text`), in file order."""
        matched = self._exact(text)
        size = len(text)
        buckets = self.buckets
        checks = self.checks
        splits = self.splits
        for length in self.prefix_lengths:
            key = (size, text[:length])
            numbers = buckets.get(key)
            if not numbers:
                continue
            split = splits.get(key)
            if split is not None:
                position, by_value, anywhere = split
                numbers = by_value.get(text[position : position + 2], anywhere)
            for number in numbers:
                runs, classes = checks[number]
                for start, run in runs:
                    if not text.startswith(run, start):
                        break
                else:
                    for position, accepted in classes:
                        if text[position] not in accepted:
                            break
                    else:
                        matched.append(number)
        for number, prefix in self.generic:
            if text.startswith(prefix) and self.regex(number).match(text):
                matched.append(number)
        if len(matched) > 1:
            matched.sort()
        return matched

    def naive_lookup(self, text: str) -> list[int]:
        """The answer of ATR_analysis: try every entry's regular expression (tests, benchmarks)."""
        return [n for n in range(len(self)) if self.regex(n).match(text)]

    def search(self, needle: str) -> list[int]:
        """Entries with ``needle`` in a description (case-insensitive), in file order."""
        folded = needle.casefold()
        if not folded:
            return list(range(len(self)))
        if "\n" in folded:
            return []
        blob = self.desc_blob.casefold()
        if len(blob) != len(self.desc_blob):
            # casefold() changed some lengths (e.g. "ß"): go entry by entry.
            return [
                n
                for n in range(len(self))
                if any(folded in line.casefold() for line in self.descriptions(n))
            ]
        found: list[int] = []
        offsets = self._desc_offsets
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
            self.pattern_blob,
            self._pattern_offsets.tobytes(),
            self.desc_blob,
            self._desc_offsets.tobytes(),
            self._lines.tobytes(),
            self.kinds,
            self._exact_order.tobytes(),
            self.buckets,
            self.splits,
            self.checks,
            self.prefix_lengths,
            self.generic,
            self.invalid,
            self.list_date,
        )

    @classmethod
    def from_data(cls, data: tuple[Any, ...]) -> ListIndex:
        """Rebuild an index from :meth:`to_data`'s values (ValueError/TypeError if malformed)."""
        (
            pattern_blob,
            pattern_offsets,
            desc_blob,
            desc_offsets,
            lines,
            kinds,
            exact_order,
            buckets,
            splits,
            checks,
            prefix_lengths,
            generic,
            invalid,
            list_date,
        ) = data
        if not (
            isinstance(pattern_blob, str)
            and isinstance(desc_blob, str)
            and isinstance(kinds, bytes)
            and isinstance(buckets, dict)
            and isinstance(splits, dict)
            and isinstance(checks, dict)
            and isinstance(generic, tuple)
        ):
            raise ValueError("malformed index data")
        return cls(
            pattern_blob=pattern_blob,
            pattern_offsets=pattern_offsets,
            desc_blob=desc_blob,
            desc_offsets=desc_offsets,
            lines=lines,
            kinds=kinds,
            exact_order=exact_order,
            buckets=buckets,
            splits=splits,
            checks=checks,
            prefix_lengths=prefix_lengths,
            generic=generic,
            invalid=invalid,
            list_date=list_date,
        )
