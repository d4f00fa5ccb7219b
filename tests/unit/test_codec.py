"""The store's codec (store/codec.py, through table.ser/val/de) against boto3's TypeSerializer and
TypeDeserializer plus the old `_plain`: the same attribute values, the same Python values back, the same
refusals (same exception type), on generated values."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb import types as boto
from hypothesis import given, settings
from hypothesis import strategies as st

from lending.store import codec, table

_ser, _de = boto.TypeSerializer(), boto.TypeDeserializer()


def _boto_plain(value: Any) -> Any:
    """What table.de did after boto3's deserializer (Decimals back to ints)."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, list):
        return [_boto_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _boto_plain(v) for k, v in value.items()}
    if isinstance(value, set):
        return {_boto_plain(v) for v in value}
    return value


def _outcome(f: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "ok", f()
    except Exception as e:  # the type is what must match
        return "refused", type(e)


def _same(ours: Callable[[], Any], theirs: Callable[[], Any]) -> None:
    mine, boto3s = _outcome(ours), _outcome(theirs)
    assert mine == boto3s
    if mine[0] == "ok":  # equal values of the same types all the way down (True == 1, 1 == Decimal(1))
        assert _shape(mine[1]) == _shape(boto3s[1])


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return ("dict", {k: _shape(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return (type(value).__name__, [_shape(v) for v in value])
    if isinstance(value, set | frozenset):
        return (type(value).__name__, sorted(repr(_shape(v)) for v in value))
    if isinstance(value, codec.Binary | boto.Binary):
        return ("Binary", bytes(value.value))
    if isinstance(value, Decimal):
        return ("Decimal", str(value))
    return (type(value).__name__, value)


# Numbers at and past DynamoDB's limits: 38 digits, exponents -130..126, NaN and infinities, signed zeros.
decimals = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.builds(lambda d, e: Decimal(f"{d}E{e}"), st.integers(-(10**40), 10**40), st.integers(-170, 140)),
    st.sampled_from([Decimal("-0"), Decimal("sNaN"), Decimal("-NaN"), Decimal("-Infinity"), Decimal("1E-130")]),
)
hashable_decimals = decimals.filter(lambda d: not d.is_snan())  # a set cannot hold a signalling NaN
ints = st.one_of(st.integers(), st.integers(-(10**39), 10**39), st.sampled_from([10**38 - 1, 10**38, -(10**38)]))
scalars = st.one_of(st.none(), st.booleans(), ints, decimals, st.floats(), st.text(max_size=8),
                    st.binary(max_size=8), st.builds(bytearray, st.binary(max_size=4)))
sets = st.one_of(st.frozensets(ints, max_size=4), st.frozensets(hashable_decimals, max_size=4),
                 st.frozensets(st.text(max_size=4), max_size=4), st.frozensets(st.binary(max_size=4), max_size=4),
                 st.frozensets(st.one_of(st.text(max_size=3), ints, st.binary(max_size=2), st.floats()), max_size=4))
values = st.recursive(st.one_of(scalars, sets, sets.map(set)), lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.lists(inner, max_size=3).map(tuple),
    st.dictionaries(st.text(max_size=4), inner, max_size=4)), max_leaves=12)


@settings(max_examples=400, deadline=None)
@given(values)
def test_a_value_serialises_as_boto3_serialises_it(value: Any) -> None:
    _same(lambda: table.val(value), lambda: _ser.serialize(value))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(max_size=4), values, max_size=5))
def test_an_item_serialises_and_reads_back_as_with_boto3(item: dict[str, Any]) -> None:
    _same(lambda: table.ser(item), lambda: {k: _ser.serialize(v) for k, v in item.items() if v is not None})
    try:
        wire = {k: _ser.serialize(v) for k, v in item.items() if v is not None}
    except Exception:
        return
    _same(lambda: table.de(wire), lambda: {k: _boto_plain(_de.deserialize(v)) for k, v in wire.items()})


# What may come back from DynamoDB (or a caller's hand-made value): types in any case, numbers of any text.
number_texts = st.one_of(ints.map(str), decimals.map(str), st.text(max_size=6),
                         st.sampled_from(["1e200", "1E-200", "1.5", "-0", "NaN", "Infinity", "0.1e-127"]))
wire_scalars = st.one_of(
    st.builds(lambda k, v: {k: v}, st.sampled_from(["N", "n"]), number_texts),
    st.builds(lambda k, v: {k: v}, st.sampled_from(["S", "s"]), st.text(max_size=5)),
    st.builds(lambda k, v: {k: v}, st.sampled_from(["B", "b"]), st.one_of(st.binary(max_size=4), st.text(max_size=2))),
    st.builds(lambda k, v: {k: v}, st.sampled_from(["BOOL", "Bool"]), st.booleans()),
    st.builds(lambda k, v: {k: v}, st.sampled_from(["NULL", "null"]), st.booleans()),
    st.builds(lambda v: {"NS": v}, st.lists(number_texts, max_size=3)),
    st.builds(lambda v: {"SS": v}, st.lists(st.text(max_size=3), max_size=3)),
    st.builds(lambda v: {"BS": v}, st.lists(st.binary(max_size=3), max_size=3)),
    st.builds(lambda k, v: {k: v}, st.sampled_from(["X", "", "SSS", "Ns"]), st.integers()),
    st.just({}),
)
wire = st.recursive(wire_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3).map(lambda v: {"L": v}),
    st.dictionaries(st.text(max_size=3), inner, max_size=3).map(lambda v: {"M": v})), max_leaves=10)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=4), wire, max_size=4))
def test_an_item_read_back_is_what_boto3_read_back(item: dict[str, Any]) -> None:
    _same(lambda: table.de(item), lambda: {k: _boto_plain(_de.deserialize(v)) for k, v in item.items()})


@pytest.mark.parametrize("value", [1.5, float("nan"), Decimal("NaN"), Decimal("Infinity"), Decimal(10) ** 127,
                                   Decimal("1.000000000000000000000000000000000000001"), Decimal("1E-170"),
                                   {"a": [1, 2.0]}, object(), {1, "a"}])
def test_what_boto3_refuses_is_refused_alike(value: Any) -> None:
    mine, theirs = _outcome(lambda: codec.serialize(value)), _outcome(lambda: _ser.serialize(value))
    assert mine[0] == "refused"
    assert mine == theirs


def test_a_number_dynamodb_cannot_hold_raises_a_decimal_exception() -> None:
    """catalogue.ingest counts a refused offer by it (DecimalException, before anything is sent)."""
    from decimal import DecimalException

    with pytest.raises(DecimalException):
        table.val(10**40 + 1)


def test_binary_reads_back_equal_to_its_bytes() -> None:
    back = table.de({"b": {"B": b"\x00\x01"}}) or {}
    assert back["b"] == b"\x00\x01" and bytes(back["b"]) == b"\x00\x01" and back["b"] == boto.Binary(b"\x00\x01")
    assert table.val(back["b"]) == {"B": b"\x00\x01"}
