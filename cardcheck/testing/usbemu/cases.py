"""The ATRs of the differential validation: each a case of libccid's negotiation that matters.

Built here byte by byte (TS 3B, T0, the interface bytes, historical bytes, TCK when a protocol
other than T=0 is offered) so that each case changes one thing: TA1, TA2, the protocols, the
voltage classes (TA after a T=15 TD), or an fmax below a reader's clock.
"""

from __future__ import annotations

from dataclasses import dataclass

HISTORICAL = bytes.fromhex("8073C82113")
"""Neutral historical bytes: category 80, card capabilities (tag 7) C8 21 13."""


@dataclass(frozen=True, slots=True)
class AtrCase:
    """One ATR of the sweep and what it is about."""

    name: str
    """Short name (``ta1-96``)."""
    atr: bytes
    """The ATR."""
    about: str
    """What the case checks, in a few words."""


def build_atr(
    *,
    ta1: int | None = None,
    ta2: int | None = None,
    protocols: tuple[int, ...] = (0,),
    classes: int | None = None,
    historical: bytes = HISTORICAL,
) -> bytes:
    """An ATR with these interface bytes (TA1, TA2, TD chain of ``protocols``, class byte)."""
    groups: list[dict[str, int]] = [{}]
    if ta1 is not None:
        groups[0]["TA"] = ta1
    chain = list(protocols)
    if chain == [0] and ta2 is None and classes is None:
        chain = []
    if classes is not None:
        chain.append(15)
    for index, protocol in enumerate(chain):
        groups[-1]["TD"] = protocol
        groups.append({})
        if index == 0 and ta2 is not None:
            groups[-1]["TA"] = ta2
        if protocol == 15 and classes is not None:
            groups[-1]["TA"] = classes
    if ta2 is not None and not chain:
        raise ValueError("TA2 needs a TD1")
    body = b""
    first = True
    t0 = len(historical)
    for group in groups:
        mask = 0
        data = b""
        for bit, key in ((0x10, "TA"), (0x20, "TB"), (0x40, "TC")):
            if key in group:
                mask |= bit
                data += bytes([group[key]])
        td = group.get("TD")
        if td is not None:
            mask |= 0x80
        if first:
            t0 |= mask
            first = False
        else:
            body = body[:-1] + bytes([body[-1] | mask])
        body += data
        if td is not None:
            body += bytes([td])
    atr = bytes([0x3B, t0]) + body + historical
    if any(p != 0 for p in chain):
        check = 0
        for byte in atr[1:]:
            check ^= byte
        atr += bytes([check])
    return atr


def _case(name: str, about: str, **kw: object) -> AtrCase:
    return AtrCase(name, build_atr(**kw), about)  # type: ignore[arg-type]


CASES: tuple[AtrCase, ...] = (
    _case("no-ta1", "no TA1, T=0"),
    _case("ta1-11", "TA1 11 (the default speed), T=0", ta1=0x11),
    _case("ta1-13", "TA1 13 (372/4), T=0", ta1=0x13),
    _case("ta1-18", "TA1 18 (372/12), T=0 and T=1", ta1=0x18, protocols=(0, 1)),
    _case("ta1-94", "TA1 94 (512/8), T=1", ta1=0x94, protocols=(1,)),
    _case("ta1-95", "TA1 95 (512/16), T=1", ta1=0x95, protocols=(1,)),
    _case("ta1-96", "TA1 96 (512/32), T=1", ta1=0x96, protocols=(1,)),
    _case("ta1-97", "TA1 97 (512/64), T=0 and T=1", ta1=0x97, protocols=(0, 1)),
    _case("ta1-17", "TA1 17 (372/64), faster than 97 in bit/s, T=1", ta1=0x17, protocols=(1,)),
    _case("ta1-01", "TA1 01 (fmax 4 MHz, below some readers' clocks), T=0", ta1=0x01),
    _case(
        "ta2-neg",
        "TA1 96, TA2 01: specific mode T=1, may change",
        ta1=0x96,
        ta2=0x01,
        protocols=(1,),
    ),
    _case(
        "ta2-fixed",
        "TA1 13, TA2 80: specific mode T=0, unable to change",
        ta1=0x13,
        ta2=0x80,
        protocols=(0,),
    ),
    _case(
        "ta2-implicit",
        "TA1 13, TA2 11: specific mode, implicit parameters",
        ta1=0x13,
        ta2=0x11,
        protocols=(1,),
    ),
    _case("t1-then-t0", "T=1 first, then T=0, no TA1", protocols=(1, 0)),
    _case("class-a", "class A only (5 V), T=1", protocols=(1,), classes=0x01),
    _case("class-b", "class B only (3 V), T=1", protocols=(1,), classes=0x02),
    _case("class-c", "class C only (1.8 V), T=1", protocols=(1,), classes=0x04),
    _case("class-ab", "classes A and B, T=0 and T=1", protocols=(0, 1), classes=0x03),
)
"""The sweep's ATRs, in the order of the agreement table."""

SAMPLE_CASES = ("no-ta1", "ta1-96", "ta1-18", "ta2-fixed")
"""The ATRs the CI sample runs on every reader of the sample."""


def case(name: str) -> AtrCase:
    """The case called ``name``. Raises KeyError."""
    for item in CASES:
        if item.name == name:
            return item
    raise KeyError(name)
