"""The callback events as they travel: outbox item -> SQS message -> signed JSON body.

Two types: `loan.returned` (a loan ended early; its subject is the loan) and `hold.reserved` (a place is
reserved for a patron's hold; its subject is the hold). The message's `loanId` carries the subject's id."""

from __future__ import annotations

import json
from typing import Any

from ..domain.values import Value

EVENT_TYPE = "loan.returned"
HOLD_RESERVED = "hold.reserved"
# CONTRACT section 6 (and docs/holds.md), nothing else: no personal data beyond the member/borrower id.
PAYLOAD_FIELDS = ("event", "loanId", "holdId", "orderLineId", "ean13", "returnDate", "reservedAt",
                  "holdExpiresAt", "borrowerId", "memberId", "transactionId")
REQUIRED = ("event", "loanId", "orderLineId", "ean13", "returnDate")
# event type -> (the payload field naming its subject, the fields it must carry)
TYPES = {EVENT_TYPE: ("loanId", REQUIRED),
         HOLD_RESERVED: ("holdId", ("event", "holdId", "orderLineId", "ean13", "memberId", "reservedAt",
                                    "holdExpiresAt"))}
MAX_MESSAGE = 16_000


class Poison(ValueError):
    """A message that no number of retries can deliver (malformed, or not one of ours)."""


class CallbackEvent(Value):
    event_id: str
    gln_coll: str
    loan_id: str
    url: str
    payload: dict[str, Any]

    def __init__(self, event_id: str, gln_coll: str, loan_id: str, url: str, payload: dict[str, Any]) -> None:
        self._init(event_id, gln_coll, loan_id, url, payload)

    @property
    def kind(self) -> str:
        return str(self.payload.get("event", EVENT_TYPE))

    def body(self) -> bytes:
        """The exact bytes sent and signed: the same on every try."""
        return json.dumps(self.payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()

    def message(self) -> str:
        return json.dumps({"eventId": self.event_id, "glnColl": self.gln_coll, "loanId": self.loan_id,
                           "url": self.url, "payload": self.payload}, separators=(",", ":"), sort_keys=True)


def payload_of(body: dict[str, Any]) -> dict[str, Any]:
    """Only the contract's fields, only as strings."""
    return {k: str(body[k]) for k in PAYLOAD_FIELDS if body.get(k) is not None}


LOAN_EXTRA = ("borrowerId", "memberId", "transactionId")


def loan_returned_body(item: dict[str, Any]) -> dict[str, Any]:
    """A returned loan's event body, rebuilt from the loan item that carries the event (store.loans.end):
    the same on every sweep, as every field comes from the return itself."""
    body = {"event": EVENT_TYPE, "loanId": item.get("loanId"), "orderLineId": item.get("orderLineId"),
            "ean13": item.get("ean13"), "returnDate": item.get("returnedAt")}
    extra = item.get("extra") or {}
    body.update({k: extra[k] for k in LOAN_EXTRA if k in extra})
    return body


def from_outbox(item: dict[str, Any]) -> CallbackEvent:
    """An outbox item (`hold.reserved`, and `loan.returned` events written before they were folded into
    their loan), or a returned loan item carrying its own event (callbackEventId, callbackUrl)."""
    if item.get("type") == "loan" and "body" not in item:
        return _event(item.get("callbackEventId"), item.get("glnColl"), item.get("loanId"),
                      item.get("callbackUrl"), loan_returned_body(item))
    body = item.get("body") or {}
    subject = TYPES.get(str(body.get("event")), TYPES[EVENT_TYPE])[0]
    return _event(item.get("eventId"), item.get("glnColl"), body.get(subject), item.get("url"), body)


def from_message(text: str) -> CallbackEvent:
    if len(text) > MAX_MESSAGE:
        raise Poison("message too large")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        raise Poison("message is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("payload"), dict):
        raise Poison("message is not an event")
    return _event(data.get("eventId"), data.get("glnColl"), data.get("loanId"), data.get("url"),
                  data["payload"])


def _event(event_id: Any, gln_coll: Any, loan_id: Any, url: Any, body: dict[str, Any]) -> CallbackEvent:
    for name, value in (("eventId", event_id), ("glnColl", gln_coll), ("loanId", loan_id), ("url", url)):
        if not isinstance(value, str) or not value:
            raise Poison(f"{name} missing")
    payload = payload_of(body)
    subject, required = TYPES.get(payload.get("event", ""), TYPES[EVENT_TYPE])
    missing = [k for k in required if k not in payload]
    if missing or payload["event"] not in TYPES or payload[subject] != loan_id:
        raise Poison(f"payload incomplete: {', '.join(missing) or 'event/' + subject}")
    return CallbackEvent(event_id, gln_coll, loan_id, url, payload)
