"""domain/values.py: the hand-written records behave as the dataclasses they replace (equality, hash,
frozen-ness, repr, replace, copy), and every one takes its fields, in order, in its constructor (what
`_init`, `replace` and copying rely on)."""

from __future__ import annotations

import copy
import importlib
import inspect
import pickle
import pkgutil
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta

import pytest

import lending
from lending.domain.licences import Pool, Seat
from lending.domain.loans import Loan, LoanState
from lending.domain.values import Record, Value, replace

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _records() -> list[type[Record]]:
    out = []
    for info in pkgutil.walk_packages(lending.__path__, "lending."):
        if info.name.startswith(("lending.local", "lending.lcp.testca")):
            continue
        module = importlib.import_module(info.name)
        out += [c for c in vars(module).values()
                if isinstance(c, type) and issubclass(c, Record) and c.__module__ == info.name
                and c not in (Record, Value)]
    return out


def test_every_record_takes_its_fields_in_order() -> None:
    records = _records()
    assert len(records) >= 15
    for cls in records:
        params = list(inspect.signature(cls.__init__).parameters)[1:]
        assert params == list(cls._fields), cls.__qualname__


def test_a_value_is_frozen_hashable_and_equal_by_fields() -> None:
    seat = Seat(Pool.DOWNLOAD, T0, T0 - timedelta(days=1), "abc")
    same = Seat(pool=Pool.DOWNLOAD, end=T0, created=T0 - timedelta(days=1), mark="abc")
    assert seat == same and hash(seat) == hash(same) and len({seat, same}) == 1
    assert seat != replace(seat, mark="abd") and seat != ("dl", T0, T0 - timedelta(days=1), "abc")
    with pytest.raises(FrozenInstanceError):
        seat.mark = "x"  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del seat.mark
    assert repr(seat) == f"Seat(pool={Pool.DOWNLOAD!r}, end={T0!r}, created={T0 - timedelta(days=1)!r}, mark='abc')"
    assert copy.deepcopy(seat) == seat and pickle.loads(pickle.dumps(seat)) == seat


def test_a_record_is_mutable_unhashable_and_keeps_its_own_defaults() -> None:
    loan = Loan("C", "L1", "OL", "9780000000001", "D", Pool.DOWNLOAD, T0, T0 + timedelta(days=7))
    other = Loan("C", "L1", "OL", "9780000000001", "D", Pool.DOWNLOAD, T0, T0 + timedelta(days=7))
    assert loan == other and loan.extra == {} and loan.extra is not other.extra  # a fresh dict each, as default_factory
    loan.state = LoanState.RETURNED
    assert loan != other
    with pytest.raises(TypeError):
        hash(loan)
    returned = replace(other, state=LoanState.RETURNED)
    assert returned == loan and other.state is LoanState.ACTIVE
    assert copy.deepcopy(loan) == loan and copy.deepcopy(loan) is not loan
    with pytest.raises(TypeError):
        replace(other, nothing=1)
