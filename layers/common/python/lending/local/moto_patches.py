"""Patches of the emulator applied at run time (moto's files on disk are never changed).

moto's TransactWriteItems keeps a deep copy of every table it touches, to put back if a condition
fails: a 2-item transaction costs a copy of the whole table (7 ms at 31 items, 400 ms at 4,000), and
every rollback leaves the copy in the backend while the replaced table object lives on in whatever
still refers to it (the memory of a long local stack grows with every refused loan). DynamoDB itself
isolates only the items a transaction names, so that is all this patch saves and puts back: moto's
own code runs the transaction, with its table copy made an identity."""

from __future__ import annotations

import copy
import threading
from typing import Any

_applied = False
_guard = threading.Lock()


class _NoTableCopy:
    """Stands in for the `copy` module inside moto's DynamoDB backend: a Table is 'copied' as itself
    (its rollback then puts back the same object, and ours restores the items); anything else is copied."""

    def __init__(self, table_type: type) -> None:
        self._table_type = table_type

    def deepcopy(self, value: Any, memo: Any = None) -> Any:
        if isinstance(value, self._table_type):
            return value
        return copy.deepcopy(value, memo)

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)


def _touched(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any]]:
    """(table, hash value, range value) of every item the transaction names that can be found."""
    out = []
    for entry in transact_items:
        for op_type, op in entry.items():
            table = backend.tables.get(op.get("TableName", ""))
            if table is None:
                continue
            if op_type == "Put":
                attrs = op.get("Item", {})
                if table.hash_key_attr not in attrs:
                    continue
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    if table.range_key_attr not in attrs:
                        continue
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op.get("Key") or {}
            try:
                hash_value, range_value = backend.get_keys_value(table, key)
            except Exception:  # a malformed key: moto answers it with its own validation error
                continue
            out.append((table, hash_value, range_value))
    return out


def _read(table: Any, hash_value: Any, range_value: Any) -> Any:
    if range_value is not None:
        return table.items.get(hash_value, {}).get(range_value)
    return table.items.get(hash_value)


def _write(table: Any, hash_value: Any, range_value: Any, item: Any) -> None:
    if range_value is not None:
        if item is None:
            table.items.get(hash_value, {}).pop(range_value, None)
            if not table.items.get(hash_value, True):
                table.items.pop(hash_value, None)
        else:
            table.items[hash_value][range_value] = item
    elif item is None:
        table.items.pop(hash_value, None)
    else:
        table.items[hash_value] = item


def apply() -> None:
    """Idempotent: the local stack, the tests' in-process mock and the benches all call it."""
    global _applied
    with _guard:
        if _applied:
            return
        from moto.dynamodb import models
        from moto.dynamodb.models.table import Table

        original = models.DynamoDBBackend.transact_write_items

        def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
            saved = [(t, h, r, copy.deepcopy(_read(t, h, r))) for t, h, r in _touched(self, transact_items)]
            try:
                original(self, transact_items)
            except BaseException:
                for t, h, r, item in reversed(saved):
                    _write(t, h, r, item)
                raise

        models.copy = _NoTableCopy(Table)  # type: ignore[assignment]
        models.DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
        _applied = True
