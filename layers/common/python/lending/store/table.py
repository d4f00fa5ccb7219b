"""The table, its client and the (de)serialisation of items (store/codec.py). Clients are built once per
container, from the hub's botocore session (lending/aws.py): no boto3 on the hot path."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator, Mapping
from typing import Any

from botocore.config import Config
from botocore.exceptions import ClientError

from .. import aws
from .codec import deserialize, plain, serialize

_client: Any = None

TRANSACTION_ATTEMPTS = 8


def table_name() -> str:
    return os.environ.get("TABLE_NAME", "lending")


def client() -> Any:
    global _client
    if _client is None:
        # A Lambda serves one request at a time; the local stack runs every function's threads on this one
        # client, hence a pool wider than botocore's 10 (connections are opened only when needed).
        _client = aws.session().create_client("dynamodb", config=Config(
            retries={"max_attempts": 4, "mode": "standard"}, tcp_keepalive=True, max_pool_connections=64))
    return _client


def reset_client() -> None:
    """Tests and the local stack point the hub at another endpoint (or start moto's mock): forget the cached
    client, and the session with it (aws.reset), as moto gives boto3 a fresh default session."""
    global _client
    _client = None
    aws.reset()


def ser(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: serialize(v) for k, v in item.items() if v is not None}


def val(value: Any) -> dict[str, Any]:
    return serialize(value)


def de(item: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """An item read back, numbers as ints (the table holds only integer counters and cents)."""
    if item is None:
        return None
    return {k: plain(deserialize(v)) for k, v in item.items()}


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def get(pk: str, sk: str, consistent: bool = True) -> dict[str, Any] | None:
    out = client().get_item(TableName=table_name(), Key=key(pk, sk), ConsistentRead=consistent)
    return de(out.get("Item"))


def put(item: Mapping[str, Any], condition: str | None = None, **kw: Any) -> None:
    args: dict[str, Any] = {"TableName": table_name(), "Item": ser(item)}
    if condition:
        args["ConditionExpression"] = condition
    args.update(kw)
    client().put_item(**args)


def batch_get(keys: list[tuple[str, str]], consistent: bool = True) -> list[dict[str, Any]]:
    """Every item of `keys` that exists (order not kept), in chunks of 100, unprocessed ones retried."""
    found: list[dict[str, Any]] = []
    unique = list(dict.fromkeys(keys))
    for i in range(0, len(unique), 100):
        request = {table_name(): {"Keys": [key(pk, sk) for pk, sk in unique[i : i + 100]],
                                  "ConsistentRead": consistent}}
        for attempt in range(8):
            out = client().batch_get_item(RequestItems=request)
            found.extend(de(x) or {} for x in out.get("Responses", {}).get(table_name(), []))
            request = out.get("UnprocessedKeys") or {}
            if not request:
                break
            time.sleep(min(1.0, 0.01 * 2**attempt))
        else:  # a key left unread must not pass for a missing item (callers treat absence as meaning)
            raise RuntimeError("BatchGetItem left keys unprocessed after 8 attempts")
    return found


def batch_put(items: list[Mapping[str, Any]]) -> None:
    """Unconditional puts in BatchWriteItem requests of 25, unprocessed items retried with backoff."""
    for i in range(0, len(items), 25):
        request = {table_name(): [{"PutRequest": {"Item": ser(x)}} for x in items[i : i + 25]]}
        for attempt in range(10):
            out = client().batch_write_item(RequestItems=request)
            request = out.get("UnprocessedItems") or {}
            if not request:
                break
            time.sleep(min(1.0, 0.01 * 2**attempt))
        else:
            raise RuntimeError("BatchWriteItem left items unprocessed after 10 attempts")


def query(index: str | None, pk_name: str, pk: str, *, sk_name: str | None = None, sk_between: tuple[str, str]
          | None = None, sk_begins: str | None = None, sk_below: str | None = None, forward: bool = True,
          limit: int | None = None, filter_expr: str | None = None,
          values: dict[str, Any] | None = None, names: dict[str, str] | None = None,
          consistent: bool = False) -> list[dict[str, Any]]:
    """All items of one partition (paginated through), optionally bounded on the sort key."""
    cond = "#p = :p"
    ev: dict[str, Any] = {":p": val(pk)}
    en = {"#p": pk_name}
    if sk_name and sk_between:
        cond += " AND #s BETWEEN :a AND :b"
        ev[":a"], ev[":b"] = val(sk_between[0]), val(sk_between[1])
        en["#s"] = sk_name
    elif sk_name and sk_begins:
        cond += " AND begins_with(#s, :a)"
        ev[":a"] = val(sk_begins)
        en["#s"] = sk_name
    elif sk_name and sk_below:
        cond += " AND #s < :a"
        ev[":a"] = val(sk_below)
        en["#s"] = sk_name
    args: dict[str, Any] = {"TableName": table_name(), "KeyConditionExpression": cond, "ScanIndexForward": forward}
    if index:
        args["IndexName"] = index
    elif consistent:  # strongly consistent reads exist on the base table only
        args["ConsistentRead"] = True
    if filter_expr:
        args["FilterExpression"] = filter_expr
        ev.update({k: val(v) for k, v in (values or {}).items()})
        en.update(names or {})
    args["ExpressionAttributeValues"] = ev
    args["ExpressionAttributeNames"] = en
    if limit is not None:  # pages no larger than needed: an index's entries are each read back
        args["Limit"] = limit
    items: list[dict[str, Any]] = []
    for item in pages("query", args):
        items.append(item)
        if limit is not None and len(items) >= limit:
            break
    return items


def partition(pk: str, consistent: bool = False) -> list[dict[str, Any]]:
    """Every item of one small partition (a few items, far under a page's 1 MB): one Query call, no
    paginator (on the loan's path: a licence line's two items)."""
    args: dict[str, Any] = {"TableName": table_name(), "KeyConditionExpression": "pk = :p",
                            "ExpressionAttributeValues": {":p": val(pk)}}
    if consistent:
        args["ConsistentRead"] = True
    out = client().query(**args)
    if "LastEvaluatedKey" in out:  # cannot be for a line; read on rather than lose an item
        return query(None, "pk", pk, consistent=consistent)
    return [de(x) or {} for x in out.get("Items", [])]


def pages(operation: str, args: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every item of a query or scan, page after page (botocore's paginator), deserialised; on an index, the
    items themselves (hydrate: every index is KEYS_ONLY). Pages are read as the items are consumed: a
    caller that stops early reads no further page."""
    for page in client().get_paginator(operation).paginate(**args):
        found = [de(raw) or {} for raw in page.get("Items", [])]
        yield from (hydrate(found) if "IndexName" in args else found)


def hydrate(index_items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The items behind entries of a KEYS_ONLY index, in the index's order.

    Every index projects only its keys (template.yaml): an item's counters, callback state and answer
    change often, and each change would otherwise be written again into every index holding it (most
    of the bill). Reading the few items a query needs costs far less than those writes. An entry whose
    item is gone by now is dropped, as if the index had caught up."""
    if not index_items:
        return []
    keys = [(x["pk"], x["sk"]) for x in index_items]
    parts = [(pk, COMPANIONS[sk]) for pk, sk in keys if sk in COMPANIONS]
    # Eventually consistent like the index itself, at half the price of a strong read.
    found = {(x["pk"], x["sk"]): x for x in batch_get([*keys, *parts], consistent=False)}
    out = []
    for pk, sk in keys:
        item = found.get((pk, sk))
        if item is not None and sk in COMPANIONS:
            item = with_companion(item, found.get((pk, COMPANIONS[sk])))
        if item is not None:
            out.append(item)
    return out


# An item indexed under one sort key whose other half lives beside it in the same partition: a licence
# line's immutable terms (`TERMS`, in the indexes) and its mutable state (`LINE`, what the conditional
# writes target, kept small: store.licences). An index entry of the first is read back merged with the
# second, so every reader sees one line.
COMPANIONS = {"TERMS": "LINE"}


def with_companion(indexed: dict[str, Any], companion: dict[str, Any] | None) -> dict[str, Any] | None:
    """The indexed item merged with its companion (whose attributes and key win); None without it (the
    two are written in one transaction: a companion not read yet is as if the index had not caught up)."""
    if companion is None:
        return None
    return {**indexed, **companion}


class TransactionFailed(Exception):
    """One or more conditions of a transaction failed: `failed` holds their indexes and old items."""

    def __init__(self, failed: dict[int, dict[str, Any] | None]) -> None:
        super().__init__(f"conditions failed at {sorted(failed)}")
        self.failed = failed


def transact(items: list[dict[str, Any]]) -> None:
    """TransactWriteItems; conflicts with a concurrent transaction are retried (never surfaced),
    condition failures raise TransactionFailed with the items as they were (ALL_OLD)."""
    for item in items:
        for op in item.values():
            op.setdefault("TableName", table_name())
            if "ConditionExpression" in op:
                op.setdefault("ReturnValuesOnConditionCheckFailure", "ALL_OLD")
    for attempt in range(TRANSACTION_ATTEMPTS):
        try:
            client().transact_write_items(TransactItems=items)
            return
        except ClientError as e:
            code = e.response.get("Error", {}).get("Code")
            if code == "TransactionCanceledException":
                reasons = e.response.get("CancellationReasons") or []
                failed = {
                    i: de(r.get("Item"))
                    for i, r in enumerate(reasons)
                    if r.get("Code") == "ConditionalCheckFailed"
                }
                if failed:
                    raise TransactionFailed(failed) from None
                if not any(r.get("Code") in ("TransactionConflict", "ThrottlingError") for r in reasons):
                    raise
            elif code not in ("TransactionInProgressException", "ProvisionedThroughputExceededException",
                              "ThrottlingException", "InternalServerError"):
                raise
            if attempt == TRANSACTION_ATTEMPTS - 1:
                raise
            time.sleep(random.uniform(0, 0.01 * 2**attempt))


class ConditionFailed(Exception):
    """A single conditional write's condition failed: `item` is the item as it was ({} when absent)."""

    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__("condition failed")
        self.item = item


def put_new(item: Mapping[str, Any]) -> None:
    """A PutItem only where no item has this key: raises ConditionFailed with the one that has it."""
    try:
        client().put_item(TableName=table_name(), Item=ser(item), ConditionExpression="attribute_not_exists(pk)",
                          ReturnValuesOnConditionCheckFailure="ALL_OLD")
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        raise ConditionFailed(de(e.response.get("Item")) or {}) from None


def update(op: dict[str, Any]) -> dict[str, Any]:
    """One conditional UpdateItem (the body of a transaction's `Update`): a write unit, where the same
    write in a transaction costs two. Raises ConditionFailed with the item as it was. Returns the item
    as written when `op` asks for it (`ReturnValues: ALL_NEW`, no extra unit), else {}."""
    try:
        out = client().update_item(TableName=table_name(), ReturnValuesOnConditionCheckFailure="ALL_OLD",
                                   **{k: v for k, v in op.items() if k != "TableName"})
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        raise ConditionFailed(de(e.response.get("Item")) or {}) from None
    return de(out.get("Attributes")) or {}


def update_expr(fields: Mapping[str, Any], remove: tuple[str, ...] = ()) -> dict[str, Any]:
    """SET a = :a, ... REMOVE x, ... with names and values."""
    names = {f"#{k}": k for k in [*fields, *remove]}
    values = {f":{k}": val(v) for k, v in fields.items()}
    expr = ""
    if fields:
        expr += "SET " + ", ".join(f"#{k} = :{k}" for k in fields)
    if remove:
        expr += " REMOVE " + ", ".join(f"#{k}" for k in remove)
    out: dict[str, Any] = {"UpdateExpression": expr.strip(), "ExpressionAttributeNames": names}
    if values:
        out["ExpressionAttributeValues"] = values
    return out
