"""What a flow of the hub would be billed for on AWS, counted request by request in this process.

Every AWS call of any boto3 client is seen (botocore's `_make_api_call`, patched only while a Meter is
active). DynamoDB capacity is computed from the emulated table itself (moto, in this process), read
just before and after each write: the item's size before and after, and for each global secondary
index, whether the item enters, leaves, moves in or changes inside it (its projection: KEYS_ONLY,
INCLUDE or ALL), as DynamoDB bills them:
- a write: ceil(max(old, new) size / 1 KB) units, twice that in a transaction;
- an index: a put of the projected item (ceil(size / 1 KB)), a delete (1 unit), both when its key
  changes, one put when a projected attribute changes, nothing otherwise;
- a read: ceil(size / 4 KB) units per item (GetItem, BatchGetItem) or per request (Query, over the
  items returned), half that when eventually consistent.
Filters are not charged for what they drop (the hub's queries use none).
"""

from __future__ import annotations

import base64
import math
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

_local = threading.local()


def attr_size(value: dict[str, Any]) -> int:
    """Bytes of one attribute value in DynamoDB's accounting (its documented item-size rules)."""
    (kind, v), = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        digits = v.lstrip("-").replace(".", "").lstrip("0") or "0"
        return math.ceil(len(digits) / 2) + 1
    if kind == "B":
        return len(base64.b64decode(v)) if isinstance(v, str) else len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(attr_size({kind[0]: x}) for x in v)
    if kind == "L":
        return 3 + sum(1 + attr_size(x) for x in v)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + attr_size(x) for k, x in v.items())
    return 0


def item_size(item: dict[str, Any] | None) -> int:
    return sum(len(k.encode()) + attr_size(v) for k, v in (item or {}).items())


@dataclass
class Usage:
    """Counted while a Meter ran."""

    requests: Counter[str] = field(default_factory=Counter)  # "dynamodb.PutItem" -> n
    write_units: float = 0.0
    index_write_units: float = 0.0
    read_units: float = 0.0
    writes_by_op: dict[str, float] = field(default_factory=dict)  # base + index units per operation
    aws_seconds: float = 0.0  # time spent inside AWS calls (the emulator's, here)

    @property
    def total_write_units(self) -> float:
        return self.write_units + self.index_write_units


class Meter:
    """`with Meter() as usage:` counts every AWS call of this process into `usage` (one Meter at a time)."""

    _active: Meter | None = None

    def __init__(self) -> None:
        self.usage = Usage()
        self._lock = threading.Lock()

    def __enter__(self) -> Usage:
        from botocore.client import BaseClient

        if Meter._active is not None:
            raise RuntimeError("a Meter is already active")
        Meter._active = self
        self._original = BaseClient._make_api_call
        meter, original = self, self._original

        def metered(client: Any, operation: str, params: dict[str, Any]) -> Any:
            return meter._call(original, client, operation, params)

        BaseClient._make_api_call = metered
        return self.usage

    def __exit__(self, *_: Any) -> None:
        from botocore.client import BaseClient

        BaseClient._make_api_call = self._original
        Meter._active = None

    # -- one call -------------------------------------------------------------------------------
    def _call(self, original: Any, client: Any, operation: str, params: dict[str, Any]) -> Any:
        service = client.meta.service_model.service_name
        touched = _keys(operation, params) if service == "dynamodb" else []
        before = [_peek(t, k) for t, k in touched]
        start = time.perf_counter()
        out: dict[str, Any] | None = None
        try:
            out = original(client, operation, params)
            return out
        finally:
            spent = time.perf_counter() - start
            after = [_peek(t, k) for t, k in touched]
            with self._lock:
                u = self.usage
                u.requests[f"{service}.{operation}"] += 1
                u.aws_seconds += spent
                _local.aws_seconds = getattr(_local, "aws_seconds", 0.0) + spent
                calls = getattr(_local, "calls", None)
                if calls is not None:
                    calls.append(f"{service}.{operation}")
                    _local.params.append(params)
                if service == "dynamodb":
                    factor = 2 if operation == "TransactWriteItems" else 1
                    for (tname, _), old, new in zip(touched, before, after, strict=True):
                        base = factor * max(1, math.ceil(max(item_size(old), item_size(new)) / 1024))
                        idx = _index_units(tname, old, new)
                        u.write_units += base
                        u.index_write_units += idx
                        u.writes_by_op[operation] = u.writes_by_op.get(operation, 0.0) + base + idx
                    if out is not None:
                        u.read_units += _read_units(operation, params, out)


@contextmanager
def handler_clock() -> Iterator[dict[str, Any]]:
    """Time one handler invocation on this thread: wall time, how much of it went to AWS calls, and
    those calls (names and parameters)."""
    _local.aws_seconds = 0.0
    _local.calls, _local.params = [], []
    got: dict[str, Any] = {}
    start = time.perf_counter()
    try:
        yield got
    finally:
        got["wall_s"] = time.perf_counter() - start
        got["aws_s"] = _local.aws_seconds
        got["calls"], got["params"] = list(_local.calls), list(_local.params)
        _local.calls = None


# -- the emulated table, read in place ------------------------------------------------------------
def _table(name: str) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    for regions in dynamodb_backends.values():
        for backend in regions.values():
            table = backend.tables.get(name)
            if table is not None:
                return table
    return None


def _keys(operation: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    if operation in ("PutItem",):
        return [(params["TableName"], params["Item"])]
    if operation in ("UpdateItem", "DeleteItem"):
        return [(params["TableName"], params["Key"])]
    if operation == "TransactWriteItems":
        out = []
        for entry in params.get("TransactItems", []):
            for kind, op in entry.items():
                if kind != "ConditionCheck":
                    out.append((op["TableName"], op.get("Item") or op.get("Key") or {}))
        return out
    if operation == "BatchWriteItem":
        return [(tname, r.get("PutRequest", {}).get("Item") or r.get("DeleteRequest", {}).get("Key") or {})
                for tname, reqs in params.get("RequestItems", {}).items() for r in reqs]
    return []


def _peek(table_name: str, key: dict[str, Any]) -> dict[str, Any] | None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    table = _table(table_name)
    if table is None or table.hash_key_attr not in key:
        return None
    hash_value = DynamoType(key[table.hash_key_attr])
    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
    item = table.get_item(hash_value, range_value)
    return dict(item.to_json()["Attributes"]) if item is not None else None


def _projected(table: Any, index: Any, item: dict[str, Any]) -> dict[str, Any]:
    projection = index.projection or {}
    kind = projection.get("ProjectionType", "ALL")
    if kind == "ALL":
        return item
    names = {table.hash_key_attr, table.range_key_attr, *(k["AttributeName"] for k in index.schema)}
    if kind == "INCLUDE":
        names.update(projection.get("NonKeyAttributes", []))
    return {k: v for k, v in item.items() if k in names}


def _index_units(table_name: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> float:
    table = _table(table_name)
    if table is None:
        return 0.0
    units = 0.0
    for index in table.global_indexes:
        keys = [k["AttributeName"] for k in index.schema]
        was = old is not None and all(k in old for k in keys)
        now = new is not None and all(k in new for k in keys)
        if was and now:
            assert old is not None and new is not None
            if any(old[k] != new[k] for k in keys):
                units += 1 + math.ceil(item_size(_projected(table, index, new)) / 1024)
            elif _projected(table, index, old) != _projected(table, index, new):
                units += math.ceil(item_size(_projected(table, index, new)) / 1024)
        elif now:
            assert new is not None
            units += math.ceil(item_size(_projected(table, index, new)) / 1024)
        elif was:
            units += 1
    return units


def _read_units(operation: str, params: dict[str, Any], out: dict[str, Any]) -> float:
    def units(size: int, consistent: bool) -> float:
        return max(1, math.ceil(size / 4096)) * (1.0 if consistent else 0.5)

    if operation == "GetItem":
        return units(item_size(out.get("Item")), bool(params.get("ConsistentRead")))
    if operation == "BatchGetItem":
        total = 0.0
        for tname, items in out.get("Responses", {}).items():
            consistent = bool(params["RequestItems"].get(tname, {}).get("ConsistentRead"))
            total += sum(units(item_size(i), consistent) for i in items)
        return total
    if operation in ("Query", "Scan"):
        return units(sum(item_size(i) for i in out.get("Items", [])), bool(params.get("ConsistentRead")))
    return 0.0
