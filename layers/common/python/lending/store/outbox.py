"""The outbox: callback events written in their cause's own transaction, pending on GSI2 `OUTBOX` until
SQS has accepted them. A `hold.reserved` event is an item of its own; a `loan.returned` event is carried
by its loan item (store.loans.end) and leaves the pending index with its first delivery claim."""

from __future__ import annotations

from typing import Any

from . import table

PENDING = "OUTBOX"


def outbox_key(event_id: str) -> tuple[str, str]:
    return f"OUTBOX#{event_id}", "OUTBOX"


def event_item(event_id: str, url: str, gln_coll: str, body: dict[str, Any], created_at: str) -> dict[str, Any]:
    """An event to write with the change it tells of (store.loans.end, store.holds): pending until sent."""
    pk, sk = outbox_key(event_id)
    return {"pk": pk, "sk": sk, "type": "outbox", "eventId": event_id, "url": url, "glnColl": gln_coll,
            "body": body, "createdAt": created_at, "gsi2pk": PENDING, "gsi2sk": f"{created_at}#{event_id}"}


def get(event_id: str) -> dict[str, Any] | None:
    return table.get(*outbox_key(event_id))


def pending(created_before: str, limit: int = 500) -> list[dict[str, Any]]:
    """Events not yet enqueued, oldest first, created before `created_before` (ISO, UTC `Z`)."""
    return table.query("gsi2", "gsi2pk", PENDING, sk_name="gsi2sk", sk_below=created_before, limit=limit)


def mark_enqueued(event_id: str, now: str, message_id: str, key: tuple[str, str] | None = None) -> None:
    """SQS has the event: it leaves the pending index. Only ever called after SQS accepted it, or for an
    unusable event. `key`: the item carrying the event when it is not an outbox item (a returned loan)."""
    pk, sk = key or outbox_key(event_id)
    try:
        table.client().update_item(
            TableName=table.table_name(),
            Key=table.key(pk, sk),
            UpdateExpression="SET enqueuedAt = :now, messageId = :m REMOVE gsi2pk, gsi2sk",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":now": table.val(now), ":m": table.val(message_id)},
        )
    except table.client().exceptions.ConditionalCheckFailedException:
        pass  # no such event: nothing to mark
