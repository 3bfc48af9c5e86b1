"""Properties of the ATR decoder, checked by hypothesis on arbitrary and on well-formed ATRs."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from cardcheck.atr.decode import decode_atr, encode_interface
from cardcheck.atr.jsonout import atr_to_json
from cardcheck.atr.parse_hex import parse_atr_text

any_bytes = st.binary(min_size=0, max_size=64)


def xor(data: bytes) -> int:
    out = 0
    for b in data:
        out ^= b
    return out


@st.composite
def well_formed(draw: st.DrawFn) -> bytes:
    """An ATR built from its structure (ISO/IEC 7816-3): levels, protocols, K, optional TCK."""
    ts = draw(st.sampled_from([0x3B, 0x3F]))
    levels = draw(st.integers(min_value=1, max_value=5))
    k = draw(st.integers(min_value=0, max_value=15))
    protocols = [draw(st.sampled_from([0, 1, 2, 14, 15])) for _ in range(levels - 1)]
    body = bytearray()
    ys: list[int] = []
    for level in range(levels):
        y = draw(st.integers(min_value=0, max_value=7)) << 4  # TA/TB/TC presence
        if level < levels - 1:
            y |= 0x80
        ys.append(y)
    t0 = ys[0] | k
    for level in range(levels):
        y = ys[level]
        for bit in (0x10, 0x20, 0x40):
            if y & bit:
                body.append(draw(st.integers(min_value=0, max_value=255)))
        if y & 0x80:
            body.append(ys[level + 1] | protocols[level])
    historical = draw(st.binary(min_size=k, max_size=k))
    atr = bytes([ts, t0]) + bytes(body) + historical
    if any(t != 0 for t in protocols):
        atr += bytes([xor(atr[1:])])
    return atr


@settings(max_examples=2000)
@given(any_bytes)
def test_any_bytes_decode_without_exception(data: bytes) -> None:
    info = decode_atr(data)
    assert info.raw == data
    assert info.valid == (not any(f.severity == "error" for f in info.findings))
    json.dumps(atr_to_json(info))  # the JSON form is always serialisable


@settings(max_examples=1000)
@given(any_bytes)
def test_tck_verdict_is_the_xor_rule(data: bytes) -> None:
    info = decode_atr(data)
    if not info.tck.present:
        assert info.tck.valid is None
        return
    tck_offset = info.historical_offset + len(info.historical)
    assert info.tck.value == data[tck_offset]
    assert info.tck.valid == (xor(data[1 : tck_offset + 1]) == 0)
    assert info.tck.expected == xor(data[1:tck_offset])
    # The TCK is there exactly when a TD announces something other than T=0.
    assert info.tck.required == any(t != 0 for t in info.td_protocols)


@settings(max_examples=1000)
@given(any_bytes)
def test_reencoding_interface_bytes_gives_the_input_back(data: bytes) -> None:
    info = decode_atr(data)
    if not info.interface_complete:
        return  # the ATR ends before an announced interface byte: nothing to re-encode
    assert encode_interface(info) == data[: info.historical_offset]


@settings(max_examples=1000)
@given(well_formed())
def test_well_formed_atrs_are_valid_and_round_trip(atr: bytes) -> None:
    info = decode_atr(atr)
    assert not [f for f in info.findings if f.code in ("truncated", "tck-mismatch", "extra-bytes")]
    assert encode_interface(info) == atr[: info.historical_offset]
    assert len(info.historical) == info.historical_declared
    if info.tck.required:
        assert info.tck.present and info.tck.valid


@settings(max_examples=500)
@given(any_bytes, st.sampled_from([" ", ":", ""]), st.booleans())
def test_hex_text_round_trip(data: bytes, sep: str, lower: bool) -> None:
    if not data:
        return
    text = sep.join(f"{b:02X}" for b in data)
    if lower:
        text = text.lower()
    assert parse_atr_text([text]) == data
