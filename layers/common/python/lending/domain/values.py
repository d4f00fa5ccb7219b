"""Bases for the domain's records that every function's init path loads, written by hand rather than as
dataclasses: `@dataclass` writes the source of its methods and compiles it when the module is imported,
0.3-0.8 ms a class on Python 3.13, paid by every cold start (docs/cost.md); these classes cost a few
microseconds.

A subclass annotates its fields, in constructor order, and sets them in `__init__` through `_init` (the
parameters named as the fields); equality (same class, same fields), repr, copy and pickle come from those
fields, and `replace` makes a changed copy, as for a dataclass. A `Value` is frozen (an assignment raises
FrozenInstanceError) and hashable; a `Record` is mutable and unhashable (a dataclass's defaults)."""

from __future__ import annotations

import inspect
from dataclasses import FrozenInstanceError
from typing import Any, ClassVar, NoReturn, TypeVar

R = TypeVar("R", bound="Record")


def replace(obj: R, **changes: Any) -> R:
    """A copy of `obj` with `changes` (dataclasses.replace)."""
    return type(obj)(**{**obj.as_dict(), **changes})


class Record:
    _fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls) -> None:
        cls._fields = tuple(inspect.get_annotations(cls))  # in the order written

    def _init(self, *values: object) -> None:
        self.__dict__.update(zip(self._fields, values, strict=True))  # past a Value's __setattr__

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._fields}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Record) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    __hash__: ClassVar[None] = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in self._fields)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), self._values()


class Value(Record):
    def __hash__(self) -> int:  # type: ignore[override]
        return hash(self._values())

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise FrozenInstanceError(f"cannot delete field {name!r}")
