"""DynamoDB attribute values to and from Python: what `boto3.dynamodb.types`' TypeSerializer and
TypeDeserializer give (then numbers back to ints, as the table holds only integer counters and cents).

Why our own: `from boto3.dynamodb.types import ...` imports the whole boto3 package (boto3.compat ->
s3transfer, multiprocessing...), about 17 ms of every cold start that the hot path never uses
(docs/cold-start.md). The rules are boto3's, kept decision for decision (tests/unit/test_codec.py
compares the two on generated values, refusals included):

- None -> NULL; bool before int (True is an int); int and Decimal -> N through DynamoDB's decimal
  context (38 digits, exponent -128..126: an inexact, rounded, overflowing or underflowing number raises
  that context's decimal exception, which catalogue.ingest counts on); a float raises TypeError, so does
  "Infinity" or "NaN" ("-Infinity" and "-NaN" pass, as in boto3: DynamoDB refuses them);
- str -> S; bytes, bytearray and Binary -> B; a set of numbers, strings or binaries -> NS, SS, BS (an
  empty set is an NS, as in boto3: DynamoDB refuses it); a Mapping -> M; a list or a tuple -> L; anything
  else raises TypeError;
- read back: N -> Decimal in the same context, B -> Binary, NS/SS/BS -> sets, the type key taken
  case-insensitively, an empty or unknown one raising TypeError."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from decimal import Clamped, Context, Decimal, Inexact, Overflow, Rounded, Underflow
from typing import Any

DYNAMODB_CONTEXT = Context(Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow])
_BOUND = 10**38  # an int below it in magnitude holds in 38 digits: its text is str(int)


class Binary:
    """A B value read back (as boto3's Binary: equal to its bytes, hashable, bytes() gives them)."""

    __slots__ = ("value",)

    def __init__(self, value: bytes | bytearray) -> None:
        if not isinstance(value, bytes | bytearray):
            raise TypeError("Value must be of the following types: <class 'bytearray'>, <class 'bytes'>")
        self.value = value

    def __eq__(self, other: object) -> bool:
        return self.value == (other.value if isinstance(other, Binary) else other)

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)

    def __hash__(self) -> int:
        return hash(self.value)

    def __repr__(self) -> str:
        return f"Binary({self.value!r})"

    def __bytes__(self) -> bytes:
        return bytes(self.value)


def _number(value: int | Decimal) -> str:
    if type(value) is int and -_BOUND < value < _BOUND:  # the common case, the same text
        return str(value)
    text = str(DYNAMODB_CONTEXT.create_decimal(value))
    if text in ("Infinity", "NaN"):
        raise TypeError("Infinity and NaN not supported")
    return text


def _is_number(value: Any) -> bool:
    if isinstance(value, int | Decimal):
        return True
    if isinstance(value, float):
        raise TypeError("Float types are not supported. Use Decimal types instead.")
    return False


def _is_string(value: Any) -> bool:
    return isinstance(value, str)


def _is_binary(value: Any) -> bool:
    return isinstance(value, Binary | bytes | bytearray)


def _all(value: Set[Any], test: Callable[[Any], bool]) -> bool:
    return all(test(v) for v in value)  # stops at the first miss, as boto3's `False not in map(...)`


def _binary(value: Any) -> Any:
    return value.value if isinstance(value, Binary) else value


def serialize(value: Any) -> dict[str, Any]:
    """One Python value as a DynamoDB attribute value."""
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if _is_number(value):
        return {"N": _number(value)}
    if isinstance(value, str):
        return {"S": value}
    if _is_binary(value):
        return {"B": _binary(value)}
    if isinstance(value, Set):
        if _all(value, _is_number):
            return {"NS": [_number(v) for v in value]}
        if _all(value, _is_string):
            return {"SS": list(value)}
        if _all(value, _is_binary):
            return {"BS": [_binary(v) for v in value]}
    if isinstance(value, Mapping):
        return {"M": {k: serialize(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [serialize(v) for v in value]}
    raise TypeError(f'Unsupported type "{type(value)}" for value "{value}"')


def _decimal(value: Any) -> Decimal:
    return DYNAMODB_CONTEXT.create_decimal(value)


_READERS: dict[str, Callable[[Any], Any]] = {
    "null": lambda v: None,
    "bool": lambda v: v,
    "n": _decimal,
    "s": lambda v: v,
    "b": Binary,
    "ns": lambda v: set(map(_decimal, v)),
    "ss": set,
    "bs": lambda v: set(map(Binary, v)),
    "l": lambda v: [deserialize(x) for x in v],
    "m": lambda v: {k: deserialize(x) for k, x in v.items()},
}


def deserialize(value: Mapping[str, Any]) -> Any:
    """One DynamoDB attribute value as Python (numbers as Decimal)."""
    if not value:
        raise TypeError("Value must be a nonempty dictionary whose key is a valid dynamodb type.")
    kind = next(iter(value))
    reader = _READERS.get(kind.lower()) if isinstance(kind, str) else None
    if reader is None:
        raise TypeError(f"Dynamodb type {kind} is not supported")
    return reader(value[kind])


def plain(value: Any) -> Any:
    """Decimals back to ints, through lists, maps and sets."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, set):
        return {plain(v) for v in value}
    return value
