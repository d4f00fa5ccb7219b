"""A base for the small immutable values that every function's init path loads, written by hand rather
than as frozen dataclasses: `@dataclass` writes the source of its methods and compiles it when the module
is imported, 0.4-0.8 ms a class on Python 3.13, paid by every cold start (docs/cost.md); a `Value` class
costs a few microseconds.

A subclass annotates its fields, in constructor order, and sets them in `__init__` through `_init`;
equality (same class, same fields), hash, repr, copy and pickle come from those fields, and an assignment
raises FrozenInstanceError, as with a frozen dataclass."""

from __future__ import annotations

import inspect
from dataclasses import FrozenInstanceError
from typing import Any, ClassVar, NoReturn


class Value:
    _fields: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls) -> None:
        cls._fields = tuple(inspect.get_annotations(cls))  # in the order written

    def _init(self, *values: object) -> None:
        for name, value in zip(self._fields, values, strict=True):
            object.__setattr__(self, name, value)

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self._fields)

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._fields}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Value) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        return f"{type(self).__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in self._fields)})"

    def __reduce__(self) -> tuple[Any, ...]:
        return type(self), self._values()

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise FrozenInstanceError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise FrozenInstanceError(f"cannot delete field {name!r}")
