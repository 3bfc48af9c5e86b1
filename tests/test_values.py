"""The decoder's value classes behave like frozen, slotted dataclasses with the same fields."""

from __future__ import annotations

import copy
import dataclasses
import inspect
import pickle

import pytest

from cardcheck.atr import historical, model, timing
from cardcheck.atr.decode import decode_atr
from cardcheck.compat import ccid, clock, driver, quirks, rules, speed, sysfs
from cardcheck.db import records
from cardcheck.findings import Finding, Severity
from cardcheck.pcsc import errors as pcsc_errors
from cardcheck.pcsc import model as pcsc_model
from cardcheck.values import FrozenInstanceError, Value, field, fields

VALUES = [
    cls
    for module in (
        model,
        historical,
        timing,
        ccid,
        clock,
        driver,
        quirks,
        rules,
        speed,
        sysfs,
        records,
        pcsc_model,
        pcsc_errors,
    )
    for cls in vars(module).values()
    if isinstance(cls, type) and issubclass(cls, Value) and cls.__module__ == module.__name__
] + [Finding]


def _dataclass_twin(cls: type) -> type:
    """A frozen, slotted dataclass with the same fields, defaults and compare options."""
    sig = inspect.signature(cls)
    items = []
    for name, parameter in sig.parameters.items():
        options: dict[str, object] = {"compare": name not in _NOT_COMPARED.get(cls.__name__, ())}
        if parameter.default is not inspect.Parameter.empty:
            options["default"] = parameter.default
        items.append((name, object, dataclasses.field(**options)))  # type: ignore[call-overload]
    return dataclasses.make_dataclass(cls.__name__, items, frozen=True, slots=True)


_NOT_COMPARED = {
    "InterfaceByte": ("offset",),
    "AtrInfo": ("historical_offset",),
    "StatusIndicator": ("offset",),
    "StorageCard": ("offset",),
    "TlvObject": ("offset",),
    "HistoricalInfo": ("offset",),
    "Finding": ("offset",),
    "CcidDescriptor": ("findings",),
    "Entry": ("line",),
    "ReaderInfo": ("event_state",),
}


def test_the_decoder_has_its_value_classes() -> None:
    names = {cls.__name__ for cls in VALUES}
    assert {"AtrInfo", "InterfaceByte", "HistoricalInfo", "TlvObject", "Finding"} <= names
    assert len(VALUES) >= 15


@pytest.mark.parametrize("cls", VALUES, ids=lambda c: c.__name__)
def test_same_signature_slots_and_repr_as_a_dataclass(cls: type) -> None:
    twin = _dataclass_twin(cls)
    assert list(inspect.signature(cls).parameters) == list(fields(cls))
    assert [p.default for p in inspect.signature(cls).parameters.values()] == [
        p.default for p in inspect.signature(twin).parameters.values()
    ]
    assert cls.__slots__ == fields(cls)
    assert not hasattr(cls(*range(len(fields(cls)))), "__dict__")
    values = list(range(len(fields(cls))))
    assert repr(cls(*values)) == repr(twin(*values))


@pytest.mark.parametrize("cls", VALUES, ids=lambda c: c.__name__)
def test_compares_and_hashes_like_the_dataclass(cls: type) -> None:
    twin = _dataclass_twin(cls)
    count = len(fields(cls))
    base = list(range(count))
    for index in range(count):
        changed = list(base)
        changed[index] = 100 + index
        assert (cls(*base) == cls(*changed)) is (twin(*base) == twin(*changed))
        if cls(*base) == cls(*changed):
            assert hash(cls(*base)) == hash(cls(*changed))
    assert cls(*base) != twin(*base)  # another class is never equal
    assert cls(*base) != tuple(base)


def test_values_stay_frozen() -> None:
    a = Finding(Severity.ERROR, "x", "message", 3)
    b = Finding(Severity.ERROR, "x", "message", offset=9)
    assert a == b  # offset is compare=False
    assert hash(a) == hash(b)
    assert a.advice is None  # the default is applied
    with pytest.raises(FrozenInstanceError):
        a.code = "y"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del a.code  # type: ignore[misc]
    with pytest.raises(AttributeError):  # FrozenInstanceError is an AttributeError
        a.other = 1  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        Finding(Severity.ERROR, "x")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Finding(Severity.ERROR, "x", "m", 1, None, "extra")  # type: ignore[call-arg]


def test_a_decoded_atr_pickles_and_copies() -> None:
    info = decode_atr(bytes.fromhex("3B8F8001804F0CA000000306030001000000006A"))
    assert pickle.loads(pickle.dumps(info)) == info
    assert copy.copy(info) == info
    assert copy.deepcopy(info) == info
    assert repr(info).startswith("AtrInfo(raw=b';")
    assert info.__match_args__[0] == "raw"


def test_declaration_errors() -> None:
    with pytest.raises(TypeError, match="without a default"):

        class Bad(Value):
            a: int = 1
            b: int

    class Base(Value):
        a: int

    with pytest.raises(TypeError, match="directly"):

        class Sub(Base):  # type: ignore[misc]
            b: int

    class Options(Value):
        a: int
        b: int = field(default=2, compare=False)

    assert Options(1) == Options(1, 3)
    assert Options(1).b == 2
    assert Options(1) != Options(2)
