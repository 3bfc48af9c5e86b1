"""quick_init keeps the frozen dataclasses of the decoder what they were, only quicker to make."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from cardcheck.atr import historical, model
from cardcheck.atr.decode import decode_atr
from cardcheck.findings import Finding, Severity
from cardcheck.values import install_quick_inits, quick_init

QUICK = [
    cls
    for module in (model, historical)
    for cls in vars(module).values()
    if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__module__ == module.__name__
] + [Finding]


def _plain_twin(cls: type) -> type:
    """The same fields as a frozen dataclass with the generated __init__."""
    spec = [(f.name, f.type, f) for f in dataclasses.fields(cls)]
    return dataclasses.make_dataclass(cls.__name__, spec, frozen=True, slots=True)


def test_every_value_class_of_the_decoder_has_the_quick_init() -> None:
    install_quick_inits()
    assert len(QUICK) >= 15
    for cls in QUICK:
        assert cls.__init__.__qualname__ == f"{cls.__qualname__}.__init__"
        assert "_set_" in cls.__init__.__code__.co_names[0]


@pytest.mark.parametrize("cls", QUICK, ids=lambda c: c.__name__)
def test_same_signature_as_the_generated_init(cls: type) -> None:
    install_quick_inits()
    assert inspect.signature(cls.__init__) == inspect.signature(_plain_twin(cls).__init__)


def test_values_stay_frozen_and_compare_by_meaning() -> None:
    install_quick_inits()
    a = Finding(Severity.ERROR, "x", "message", 3)
    b = Finding(Severity.ERROR, "x", "message", offset=9)
    assert a == b  # offset is compare=False
    assert hash(a) == hash(b)
    assert a.advice is None  # the default is applied
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.code = "y"  # type: ignore[misc]
    with pytest.raises(TypeError):
        Finding(Severity.ERROR, "x")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Finding(Severity.ERROR, "x", "m", 1, None, "extra")  # type: ignore[call-arg]
    assert dataclasses.replace(a, code="z").code == "z"


def test_decoded_atr_equals_one_made_by_the_generated_inits() -> None:
    install_quick_inits()
    info = decode_atr(bytes.fromhex("3B8F8001804F0CA000000306030001000000006A"))
    twin = _plain_twin(model.AtrInfo)
    values = {f.name: getattr(info, f.name) for f in dataclasses.fields(info)}
    assert dataclasses.astuple(twin(**values)) == dataclasses.astuple(info)
    assert repr(info).startswith("AtrInfo(raw=b';")


def test_refuses_classes_it_cannot_serve() -> None:
    @dataclasses.dataclass(slots=True)
    class Mutable:
        x: int

    @dataclasses.dataclass(frozen=True, slots=True)
    class Post:
        x: int

        def __post_init__(self) -> None:
            pass

    for cls in (Mutable, Post):
        with pytest.raises(TypeError):
            quick_init(cls)

    @quick_init
    @dataclasses.dataclass(frozen=True, slots=True)
    class Factory:
        x: list[int] = dataclasses.field(default_factory=list)

    with pytest.raises(TypeError, match="default factory"):
        install_quick_inits()
    assert Factory().x == []  # left with its generated __init__


def test_keyword_only_fields() -> None:
    @quick_init
    @dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
    class Pair:
        a: int
        b: int = 2

    install_quick_inits()
    assert "_set_a" in Pair.__init__.__code__.co_names
    assert Pair(a=1) == Pair(a=1, b=2)
    with pytest.raises(TypeError):
        Pair(1)  # type: ignore[call-arg]
