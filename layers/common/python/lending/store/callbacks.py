"""Delivery state of a callback, kept on its subject's item: the loan for `loan.returned`, the hold for
`hold.reserved` (each has at most one event of its type):
callbackEventId, callbackStatus, callbackAttempts, callbackLastAttemptAt, callbackLastError,
callbackDeliveredAt and callbackLeaseUntil (who is sending right now).

Every change is conditional: an event acknowledged once (callbackDeliveredAt) is never claimed again,
and two copies of one message (SQS is at-least-once) never send at the same time."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from ..domain.values import Value
from . import table


def loan_key(gln_coll: str, loan_id: str) -> tuple[str, str]:
    """store.loans.loan_key, not imported from there: that pulls in the licence rules, 15 ms of the
    callback function's cold start (tests/unit/test_notify.py keeps the two equal)."""
    return f"LOAN#{gln_coll}#{loan_id}", "LOAN"


HOLD_EVENT = "hold.reserved"


def subject_key(gln_coll: str, subject: str, event_type: str) -> tuple[str, str]:
    """The item an event's delivery state lives on. A hold id is its EAN-13 then its 11-digit ticket
    (store.holds.hold_key, not imported for the same reason; tests/unit/test_holds.py keeps them equal)."""
    if event_type == HOLD_EVENT:
        return f"HOLDQ#{gln_coll}#{subject[:13]}", f"H#{subject[13:]}"
    return loan_key(gln_coll, subject)


class DeliveryState(StrEnum):
    SENDING = "SENDING"
    RETRYING = "RETRYING"  # the receiver failed; another try is scheduled
    DELIVERED = "DELIVERED"  # a 2xx was received: never sent again
    PARKED = "PARKED"  # in the dead-letter queue (last try failed, or the URL is refused)


class ClaimOutcome(StrEnum):
    CLAIMED = "claimed"  # this caller may send now
    DELIVERED = "delivered"  # already acknowledged: do not send
    BUSY = "busy"  # another copy is being sent right now
    UNKNOWN = "unknown"  # no such loan, or the loan's callback is another event


class Claim(Value):
    outcome: ClaimOutcome
    attempts: int

    def __init__(self, outcome: ClaimOutcome, attempts: int = 0) -> None:
        self._init(outcome, attempts)


class Delivery(Value):
    event_id: str | None
    status: str | None
    attempts: int
    last_attempt_at: str | None
    last_error: str | None
    delivered_at: str | None

    def __init__(self, event_id: str | None, status: str | None, attempts: int, last_attempt_at: str | None,
                 last_error: str | None, delivered_at: str | None) -> None:
        self._init(event_id, status, attempts, last_attempt_at, last_error, delivered_at)


_FREE = ("attribute_exists(pk) AND attribute_not_exists(callbackDeliveredAt) "
         "AND (attribute_not_exists(callbackEventId) OR callbackEventId = :e)")
_UNLEASED = "(attribute_not_exists(callbackLeaseUntil) OR callbackLeaseUntil < :now)"


def claim(gln_coll: str, loan_id: str, event_id: str, now: str, lease_until: str,
          event_type: str = "loan.returned") -> Claim:
    """Take the right to send `event_id` now (until `lease_until`) and count the attempt.

    A returned loan carries its own event, pending on gsi2 (store.loans.end): a claim only ever comes from
    a message SQS holds (and keeps until it is acknowledged, retried or dead-lettered), so the claim is
    also the event's "enqueued" mark, in the same write."""
    pk, sk = subject_key(gln_coll, loan_id, event_type)
    # a hold's gsi2 entry is its expiry (HOLDDUE): only a loan's leaves the index here
    unpend = " REMOVE gsi2pk, gsi2sk" if event_type != HOLD_EVENT else ""
    try:
        out = table.client().update_item(
            TableName=table.table_name(),
            Key=table.key(pk, sk),
            UpdateExpression="SET callbackEventId = :e, callbackStatus = :s, callbackLastAttemptAt = :now, "
                             "callbackLeaseUntil = :lease, "
                             "callbackAttempts = if_not_exists(callbackAttempts, :zero) + :one" + unpend,
            ConditionExpression=f"{_FREE} AND {_UNLEASED}",
            ExpressionAttributeValues={":e": table.val(event_id), ":s": table.val(DeliveryState.SENDING.value),
                                       ":now": table.val(now), ":lease": table.val(lease_until),
                                       ":zero": table.val(0), ":one": table.val(1)},
            ReturnValues="ALL_NEW",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except table.client().exceptions.ConditionalCheckFailedException as e:
        old = table.de(e.response.get("Item")) or {}
        if not old or old.get("callbackEventId", event_id) != event_id:
            return Claim(ClaimOutcome.UNKNOWN)
        if old.get("callbackDeliveredAt"):
            return Claim(ClaimOutcome.DELIVERED, int(old.get("callbackAttempts", 0)))
        return Claim(ClaimOutcome.BUSY, int(old.get("callbackAttempts", 0)))
    item = table.de(out["Attributes"]) or {}
    return Claim(ClaimOutcome.CLAIMED, int(item["callbackAttempts"]))


def delivered(gln_coll: str, loan_id: str, event_id: str, now: str, http_status: int,
              event_type: str = "loan.returned") -> bool:
    """Record the acknowledgement; False if it was already recorded (a second 2xx changes nothing)."""
    return _finish(gln_coll, loan_id, event_id, {
        "callbackStatus": DeliveryState.DELIVERED.value, "callbackDeliveredAt": now,
        "callbackLastStatus": http_status}, event_type)


def failed(gln_coll: str, loan_id: str, event_id: str, error: str, status: DeliveryState,
           http_status: int | None = None, event_type: str = "loan.returned") -> bool:
    """Record a failed try and release the lease (the retry may claim at once)."""
    fields: dict[str, Any] = {"callbackStatus": status.value, "callbackLastError": error[:500]}
    if http_status is not None:
        fields["callbackLastStatus"] = http_status
    return _finish(gln_coll, loan_id, event_id, fields, event_type)


def _finish(gln_coll: str, loan_id: str, event_id: str, fields: dict[str, Any],
            event_type: str = "loan.returned") -> bool:
    pk, sk = subject_key(gln_coll, loan_id, event_type)
    expr = table.update_expr(fields, remove=("callbackLeaseUntil",))
    expr["ExpressionAttributeValues"][":e"] = table.val(event_id)
    try:
        table.client().update_item(TableName=table.table_name(), Key=table.key(pk, sk),
                                   ConditionExpression=_FREE, **expr)
        return True
    except table.client().exceptions.ConditionalCheckFailedException:
        return False


_FIRST = "attribute_exists(pk) AND callbackEventId = :e AND attribute_not_exists(callbackStatus)"


def first_outcome(gln_coll: str, loan_id: str, event_id: str, now: str, fields: dict[str, Any]) -> bool:
    """The outcome of a returned loan's first try (from the table's stream), which claims nothing before
    it sends (store.loans.end wrote the event; the stream hands each return over once, in order, and a
    retried batch reads the state first: notify.delivery.first_try): recorded only if no try was
    recorded before. False if one was (a retried batch: the first outcome stands)."""
    pk, sk = loan_key(gln_coll, loan_id)
    # (out of the pending index too, for a loan returned before the stream carried its event: no cost
    # when it is in none)
    expr = table.update_expr({**fields, "callbackAttempts": 1, "callbackLastAttemptAt": now},
                             remove=("gsi2pk", "gsi2sk"))
    expr["ExpressionAttributeValues"][":e"] = table.val(event_id)
    try:
        table.client().update_item(TableName=table.table_name(), Key=table.key(pk, sk),
                                   ConditionExpression=_FIRST, **expr)
        return True
    except table.client().exceptions.ConditionalCheckFailedException:
        return False


def first_delivered(gln_coll: str, loan_id: str, event_id: str, now: str, http_status: int) -> bool:
    return first_outcome(gln_coll, loan_id, event_id, now, {
        "callbackStatus": DeliveryState.DELIVERED.value, "callbackDeliveredAt": now, "callbackLastStatus": http_status})


def state(gln_coll: str, loan_id: str, event_type: str = "loan.returned") -> Delivery | None:
    item = table.get(*subject_key(gln_coll, loan_id, event_type))
    if item is None:
        return None
    return Delivery(event_id=item.get("callbackEventId"), status=item.get("callbackStatus"),
                    attempts=int(item.get("callbackAttempts", 0)),
                    last_attempt_at=item.get("callbackLastAttemptAt"),
                    last_error=item.get("callbackLastError"), delivered_at=item.get("callbackDeliveredAt"))
