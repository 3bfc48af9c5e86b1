"""Frozen, slotted value classes that cost next to nothing to define: the decoder's results.

Every ``cardcheck atr`` call defines the decoder's classes before it decodes one ATR. Made with
``@dataclass(frozen=True, slots=True)``, each class costs about 0.3-0.5 ms on Python 3.11 (its
``__init__``, ``__repr__``, ``__eq__``, ``__hash__``, ``__setattr__`` and ``__delattr__`` are
each compiled from source text, and the class is made twice for its slots), a third of a
one-ATR call for the sixteen of them; and :mod:`dataclasses` itself imports :mod:`inspect`
(with :mod:`ast`, :mod:`dis` and :mod:`tokenize`) which nothing here uses.

A :class:`Value` subclass is declared like such a dataclass (annotated fields in order, optional
defaults, :func:`field` for ``compare=False``) and behaves like one: keyword or positional
construction with the same signature, assignment and deletion raise
:class:`FrozenInstanceError`, ``==`` and ``hash`` over the compared fields of the same class,
the dataclass ``repr``, pickling and copying. What it does differently is cheap to define: the
class is made once with its slots, only its ``__init__`` is compiled (it stores each argument
through its slot descriptor, the quickest way to fill a frozen instance), and the other methods
are shared by every value class. Type checkers see it as a frozen dataclass
(``dataclass_transform``). ``tests/test_values.py`` checks all of this against a real frozen
dataclass with the same fields.
"""

from __future__ import annotations

from operator import attrgetter

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing at start-up

if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar, dataclass_transform

    _V = TypeVar("_V", bound="Value")
else:

    def dataclass_transform(**_options: object) -> Callable[[type], type]:
        return lambda cls: cls


class FrozenInstanceError(AttributeError):
    """An attempt to assign to or delete a field of a value (like dataclasses')."""


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""No default: the field is a required argument."""


class Field:
    """A field's options beyond its annotation, made by :func:`field`."""

    __slots__ = ("compare", "default")

    def __init__(self, default: object, compare: bool) -> None:
        self.default = default
        self.compare = compare


def field(*, default: Any = MISSING, compare: bool = True) -> Any:
    """A field with options: ``offset: int = field(compare=False)`` leaves it out of ``==``
    and ``hash`` (as :func:`dataclasses.field`); ``default`` makes it optional."""
    return Field(default, compare)


def fields(cls: type) -> tuple[str, ...]:
    """The field names of a value class, in order."""
    names: tuple[str, ...] = cls.__dict__["__value_fields__"]
    return names


def replace(value: _V, **changes: object) -> _V:
    """A copy of ``value`` with ``changes`` to its fields (as :func:`dataclasses.replace`)."""
    cls = type(value)
    unknown = set(changes) - set(cls.__value_fields__)
    if unknown:
        raise TypeError(f"{cls.__qualname__} has no field {sorted(unknown)[0]!r}")
    return cls(**{item: changes.get(item, getattr(value, item)) for item in cls.__value_fields__})


class _ValueType(type):
    """Makes each :class:`Value` subclass: its slots from the annotations, its ``__init__``."""

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> _ValueType:
        if not bases:  # Value itself
            return super().__new__(mcs, name, bases, namespace)
        if bases != (Value,):
            raise TypeError(f"{name}: a value class derives from Value directly")
        names = tuple(namespace.get("__annotations__", {}))
        defaults: dict[str, object] = {}
        compared: list[str] = []
        for item in names:
            spec = namespace.pop(item, MISSING)
            if isinstance(spec, Field):
                if spec.compare:
                    compared.append(item)
                spec = spec.default
            else:
                compared.append(item)
            if spec is not MISSING:
                defaults[item] = spec
            elif defaults:
                raise TypeError(f"{name}: field {item!r} without a default follows one with")
        namespace["__slots__"] = names
        namespace["__value_fields__"] = names
        namespace["__match_args__"] = names
        cls = super().__new__(mcs, name, bases, namespace)
        key = attrgetter(*compared) if compared else (lambda _value: ())
        type.__setattr__(cls, "_value_key", staticmethod(key))
        type.__setattr__(cls, "__init__", _make_init(cls, names, defaults))
        return cls


def _make_init(cls: type, names: tuple[str, ...], defaults: dict[str, object]) -> object:
    namespace: dict[str, object] = {}
    arguments = []
    for item in names:
        namespace[f"_set_{item}"] = cls.__dict__[item].__set__
        if item in defaults:
            namespace[f"_default_{item}"] = defaults[item]
            arguments.append(f"{item}=_default_{item}")
        else:
            arguments.append(item)
    body = "".join(f"    _set_{item}(self, {item})\n" for item in names) or "    pass\n"
    exec(f"def __init__(self, {', '.join(arguments)}):\n{body}", namespace)  # field names only
    init = namespace["__init__"]
    setattr(init, "__qualname__", f"{cls.__qualname__}.__init__")  # noqa: B010
    setattr(init, "__module__", cls.__module__)  # noqa: B010
    return init


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
class Value(metaclass=_ValueType):
    """Base of the frozen, slotted value classes (see the module's documentation)."""

    __slots__ = ()
    __value_fields__: tuple[str, ...] = ()
    _value_key: Callable[[Any], object]

    def __setattr__(self, name: str, value: object) -> None:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise FrozenInstanceError(f"cannot delete field {name!r}")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return bool(self._value_key(self) == self._value_key(other))

    def __hash__(self) -> int:
        return hash(self._value_key(self))

    def __repr__(self) -> str:
        shown = ", ".join(f"{item}={getattr(self, item)!r}" for item in self.__value_fields__)
        return f"{self.__class__.__qualname__}({shown})"

    def __getstate__(self) -> tuple[object, ...]:
        return tuple(getattr(self, item) for item in self.__value_fields__)

    def __setstate__(self, state: tuple[object, ...]) -> None:
        cls = type(self)
        for item, value in zip(cls.__value_fields__, state, strict=True):
            cls.__dict__[item].__set__(self, value)
