"""The outbox: callback events written in their cause's own transaction, pending on GSI2 `OUTBOX` until
SQS has accepted them: `hold.reserved` events (items of their own), and `loan.returned` events of loans
returned before the table's stream carried them (they leave the pending index with their first delivery
claim). A `loan.returned` event now is its loan's return write itself, read from the table's stream
(store.loans.end); `returns_without_delivery` finds any the stream did not hand over."""

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


def returns_without_delivery(since: str, until: str) -> list[dict[str, Any]]:
    """Returned loans carrying a callback event with no delivery state yet, returned in [since, until)
    (ISO, UTC `Z`): every collectivity's ended index (gsi3 `ENDED#`), read back from the table. What the
    table's stream should have handed to the delivery and did not (the safety net of the sweeper)."""
    out: list[dict[str, Any]] = []
    for account in table.query("gsi1", "gsi1pk", "ACCOUNTS#collectivity"):
        for item in table.query("gsi3", "gsi3pk", f"ENDED#{account['gln']}", sk_name="gsi3sk",
                                sk_between=(since, until)):
            if item.get("callbackEventId") and item.get("callbackUrl") and not item.get("callbackStatus"):
                out.append(item)
    return out
