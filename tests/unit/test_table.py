"""The store's batch helpers against a client that leaves work unprocessed (DynamoDB throttling)."""

from __future__ import annotations

from typing import Any

import pytest

from lending.store import table


class Throttled:
    """Answers `per_call` keys of each BatchGetItem and leaves the rest unprocessed; writes nothing."""

    def __init__(self, per_call: int) -> None:
        self.per_call = per_call
        self.calls = 0

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        ((name, request),) = RequestItems.items()
        done, rest = request["Keys"][: self.per_call], request["Keys"][self.per_call :]
        out: dict[str, Any] = {"Responses": {name: done}}
        if rest:
            out["UnprocessedKeys"] = {name: {**request, "Keys": rest}}
        return out

    def batch_write_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        return {"UnprocessedItems": RequestItems}


def client(monkeypatch: pytest.MonkeyPatch, per_call: int) -> Throttled:
    fake = Throttled(per_call)
    monkeypatch.setattr(table, "_client", fake)
    monkeypatch.setattr(table.time, "sleep", lambda s: None)
    return fake


def test_unprocessed_keys_are_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = client(monkeypatch, per_call=1)
    got = table.batch_get([("a", "1"), ("b", "1"), ("c", "1")])
    assert sorted(g["pk"] for g in got) == ["a", "b", "c"] and fake.calls == 3


def test_a_key_left_unread_is_an_error_not_a_missing_item(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = client(monkeypatch, per_call=0)
    with pytest.raises(RuntimeError, match="unprocessed"):
        table.batch_get([("a", "1"), ("b", "1")])
    assert fake.calls == 8


def test_items_left_unwritten_are_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = client(monkeypatch, per_call=0)
    with pytest.raises(RuntimeError, match="unprocessed"):
        table.batch_put([{"pk": "a", "sk": "1"}])
    assert fake.calls == 10
