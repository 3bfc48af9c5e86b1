"""The list parser and the lookup index: the index gives exactly what a naive scan gives."""

from __future__ import annotations

import random
import re
from functools import cache

import pytest
from db_atrs import LIST_PATH, atr_from_pattern, read_entries
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cardcheck.db.index import ListIndex, atr_text
from cardcheck.db.parse import (
    MIN_ENTRIES,
    ListRejected,
    check_plausible,
    decode_list,
    parse_list,
)


@cache
def real_index() -> ListIndex:
    return ListIndex.build(parse_list(decode_list(LIST_PATH.read_bytes())))


@cache
def naive_regexes() -> tuple[tuple[str, re.Pattern[str]], ...]:
    """The test's own naive scan: every ATR line as ^line$, case-insensitive, in file order."""
    return tuple((line, re.compile(f"^{line}$", re.IGNORECASE)) for line in read_entries())


def naive(atr: bytes) -> list[str]:
    text = " ".join(f"{b:02X}" for b in atr)
    return [line for line, regex in naive_regexes() if regex.match(text)]


def indexed(atr: bytes) -> list[str]:
    index = real_index()
    return [index.pattern(n) for n in index.lookup(atr_text(atr))]


# -- parsing -------------------------------------------------------------------------------


def test_real_list_counts() -> None:
    # REFERENCE §3: the 2026-05-26 list holds 5,070 entries, 238 of them patterns.
    index = real_index()
    assert len(index) == 5070
    assert index.pattern_count == 238
    assert index.invalid == ()
    assert index.list_date == "2023"  # its copyright line; it has no other date comment


def test_parse_format_details() -> None:
    text = (
        "# comment 2024-05-01\n"
        "\n"
        "3B 00\r\n"
        "\tfirst card\r\n"
        "\t\tindented twice\n"
        "\n"
        "\torphan description\n"
        "3B 01 .. 0[12]\n"
        "# a comment ends the entry\n"
        "\tnot a description of 3B 01\n"
        "3B 02"
    )
    parsed = parse_list(text)
    assert parsed.list_date == "2024-05-01"
    assert [(p, d) for p, d, _ in parsed.entries] == [
        ("3B 00", ("first card", "\tindented twice")),
        ("3B 01 .. 0[12]", ()),
        ("3B 02", ()),
    ]
    assert [line for _, _, line in parsed.entries] == [3, 8, 11]


def test_invalid_patterns_are_counted_and_skipped() -> None:
    parsed = parse_list("3B [12\n\tbroken\n\n3B (\n\n3B 00\n\tgood\n")
    index = ListIndex.build(parsed)
    assert len(index) == 1
    assert [(line, text) for line, text, _ in index.invalid] == [(1, "3B [12"), (4, "3B (")]
    assert [e.line for e in index.invalid_entries()] == [1, 4]
    assert index.lookup("3B 00") == [0]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"3B 00\n\x00\x01\x02", "binary"),
        (b"<!DOCTYPE html><html><body>404</body></html>", "HTML"),
        (b"\n  <html>\n<head><title>Error</title>", "HTML"),
    ],
)
def test_decode_rejects_non_lists(data: bytes, reason: str) -> None:
    with pytest.raises(ListRejected, match=reason):
        decode_list(data)


def test_decode_falls_back_to_latin1() -> None:
    assert decode_list(b"3B 00\n\tCarte \xe9tudiant\n") == "3B 00\n\tCarte \u00e9tudiant\n"


def test_plausibility() -> None:
    full = parse_list(decode_list(LIST_PATH.read_bytes()))
    check_plausible(full, 5070, min_entries=MIN_ENTRIES)
    cut = parse_list(decode_list(LIST_PATH.read_bytes()[:20000]))
    with pytest.raises(ListRejected, match="truncated"):
        check_plausible(cut, len(cut.entries), min_entries=MIN_ENTRIES)
    prose = parse_list("Hello there\nthis is not\na list of ATRs\n" * 500)
    with pytest.raises(ListRejected, match="not an ATR list"):
        check_plausible(prose, len(prose.entries), min_entries=MIN_ENTRIES)
    with pytest.raises(ListRejected, match="no ATR entries"):
        check_plausible(parse_list("# only comments\n"), 0, min_entries=1)


# -- matching ------------------------------------------------------------------------------


def test_case_insensitive_and_all_matches_in_file_order() -> None:
    text = "3b 8f 80\n\tlower literal\n\n3B .. 80\n\tpattern\n\n3B 8F 80\n\tupper literal\n"
    index = ListIndex.build(parse_list(text))
    assert index.lookup("3B 8F 80") == [0, 1, 2]
    assert [index.is_pattern(n) for n in range(3)] == [False, True, False]
    assert index.lookup("3B 8F 81") == []


def test_class_syntax_of_the_list() -> None:
    # REFERENCE §3: [13], [1-5] and [1,3] (the comma is then a literal member), and .*
    text = "3B 0[1,3]\n\n3B 1[1-5]\n\n3B 2.*\n\n3B 3[a-f]\n"
    index = ListIndex.build(parse_list(text))
    assert index.lookup("3B 01") == [0]
    assert index.lookup("3B 02") == []
    assert index.lookup("3B 15") == [1]
    assert index.lookup("3B 16") == []
    assert index.lookup("3B 2F 00 11") == [2]
    assert index.lookup("3B 3C") == [3]


def test_generic_patterns_need_their_prefix() -> None:
    index = ListIndex.build(parse_list("3B EF 00 FF 81 31 42 45 .* 38\n\n(3B|3F) 00\n"))
    assert [prefix for _, prefix in index.generic] == ["3B EF 00 FF 81 31 42 45 ", ""]
    assert index.lookup("3B EF 00 FF 81 31 42 45 01 02 38") == [0]
    assert index.lookup("3F 00") == [1]
    assert index.lookup("3C EF 00 FF 81 31 42 45 01 02 38") == []


def test_big_buckets_are_split_by_a_byte() -> None:
    # A made-up family: 10 patterns that differ only in their fifth byte, and one that has
    # no literal byte there; each ATR must still find its own entries, in file order.
    lines = [f"3B 05 11 22 {n:02X} ..\n\tcard {n}\n" for n in range(10)]
    lines.insert(4, "3B 05 11 22 .. 4.\n\tany fifth byte\n")
    index = ListIndex.build(parse_list("\n".join(lines)))
    assert list(index.splits) == [(17, "3B 05 11")]
    position, by_value, anywhere = index.splits[(17, "3B 05 11")]
    assert position == 12 and anywhere == (4,)
    assert by_value["07"] == (4, 8)
    assert index.lookup("3B 05 11 22 07 41") == [4, 8]
    assert index.lookup("3B 05 11 22 07 51") == [8]
    assert index.lookup("3B 05 11 22 AA 41") == [4]
    assert index.lookup("3B 05 11 22 AA 51") == []
    # The real list: the 81 PC/SC Part 3 patterns under 3B 8F 80 are split.
    real = real_index()
    bucket = real.buckets[(59, "3B 8F 80")]
    _, groups, rest = real.splits[(59, "3B 8F 80")]
    assert len(bucket) == 81
    assert set().union(*groups.values()) == set(bucket)
    assert max(len(group) for group in groups.values()) < len(bucket) // 3
    assert set(rest) <= set(bucket)


def test_every_concrete_entry_matches_as_a_naive_scan_says() -> None:
    index = real_index()
    concrete = [line for line in read_entries() if re.fullmatch(r"[0-9A-F ]+", line)]
    assert len(concrete) == 5070 - 238
    for line in concrete:
        atr = bytes.fromhex(line)
        assert indexed(atr) == naive(atr), line
    assert index.lookup("3B") == []


def test_every_pattern_entry_generates_matching_atrs() -> None:
    rnd = random.Random(7)
    patterns = [line for line in read_entries() if not re.fullmatch(r"[0-9A-F ]+", line)]
    unmatchable = []
    for pattern in patterns:
        for _ in range(5):
            atr = atr_from_pattern(pattern, rnd)
            if atr is None:
                unmatchable.append(pattern)
                break
            found = indexed(atr)
            assert pattern in found
            assert found == naive(atr), pattern
    assert unmatchable == []


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_property_pattern_atrs(data: st.DataObject) -> None:
    patterns = [line for line in read_entries() if not re.fullmatch(r"[0-9A-F ]+", line)]
    pattern = data.draw(st.sampled_from(patterns))
    atr = atr_from_pattern(pattern, data.draw(st.randoms(use_true_random=False)))
    assert atr is not None
    assert indexed(atr) == naive(atr)


@settings(max_examples=300, deadline=None)
@given(
    atr=st.one_of(
        st.binary(min_size=0, max_size=33),
        st.builds(lambda tail: b"\x3b" + tail, st.binary(min_size=1, max_size=32)),
        # near misses: a real entry with one byte changed or one byte cut
        st.builds(
            lambda line, at, value, cut: (
                bytes.fromhex(line)[: len(bytes.fromhex(line)) - cut][:at]
                + bytes([value])
                + bytes.fromhex(line)[at + 1 :]
            ),
            st.sampled_from([e for e in read_entries() if "." not in e and "[" not in e]),
            st.integers(0, 32),
            st.integers(0, 255),
            st.integers(0, 1),
        ),
    )
)
def test_property_random_atrs(atr: bytes) -> None:
    assert indexed(atr) == naive(atr)


def test_naive_lookup_agrees_with_the_test_scan() -> None:
    index = real_index()
    atr = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")
    assert [index.pattern(n) for n in index.naive_lookup(atr_text(atr))] == naive(atr)
    assert len(naive(atr)) == 3


# -- search and storage --------------------------------------------------------------------


def test_search_is_case_insensitive_in_file_order() -> None:
    index = real_index()
    found = index.search("YubiKey")
    assert found == sorted(found)
    assert len(found) >= 10
    for number in found:
        assert any("yubikey" in line.lower() for line in index.descriptions(number))
    expected = [
        n
        for n in range(len(index))
        if any("yubikey" in line.lower() for line in index.descriptions(n))
    ]
    assert found == expected
    assert index.search("no such card anywhere") == []


def test_search_with_non_ascii_folding() -> None:
    index = ListIndex.build(parse_list("3B 00\n\tStraße card\n\n3B 01\n\tother\n"))
    assert index.search("STRASSE") == [0]
    assert index.search("straße") == [0]


def test_data_round_trip() -> None:
    index = real_index()
    again = ListIndex.from_data(index.to_data())
    atr = bytes.fromhex("3B8F8001804F0CA000000306030001000000006A")
    assert again.lookup(atr_text(atr)) == index.lookup(atr_text(atr))
    assert again.descriptions(5) == index.descriptions(5)
    assert len(again) == len(index)
    with pytest.raises((ValueError, TypeError)):
        ListIndex.from_data(index.to_data()[:-1])
