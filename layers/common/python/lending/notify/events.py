"""The early-return event as it travels: outbox item -> SQS message -> signed JSON body."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

EVENT_TYPE = "loan.returned"
# CONTRACT section 6, and nothing else: no personal data beyond the member/borrower id ever leaves.
PAYLOAD_FIELDS = ("event", "loanId", "orderLineId", "ean13", "returnDate", "borrowerId", "memberId",
                  "transactionId")
REQUIRED = ("event", "loanId", "orderLineId", "ean13", "returnDate")
MAX_MESSAGE = 16_000


class Poison(ValueError):
    """A message that no number of retries can deliver (malformed, or not one of ours)."""


@dataclass(frozen=True)
class CallbackEvent:
    event_id: str
    gln_coll: str
    loan_id: str
    url: str
    payload: dict[str, Any]

    def body(self) -> bytes:
        """The exact bytes sent and signed: the same on every try."""
        return json.dumps(self.payload, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()

    def message(self) -> str:
        return json.dumps({"eventId": self.event_id, "glnColl": self.gln_coll, "loanId": self.loan_id,
                           "url": self.url, "payload": self.payload}, separators=(",", ":"), sort_keys=True)


def payload_of(body: dict[str, Any]) -> dict[str, Any]:
    """Only the contract's fields, only as strings."""
    return {k: str(body[k]) for k in PAYLOAD_FIELDS if body.get(k) is not None}


def from_outbox(item: dict[str, Any]) -> CallbackEvent:
    body = item.get("body") or {}
    return _event(item.get("eventId"), item.get("glnColl"), body.get("loanId"), item.get("url"), body)


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
    missing = [k for k in REQUIRED if k not in payload]
    if missing or payload["event"] != EVENT_TYPE or payload["loanId"] != loan_id:
        raise Poison(f"payload incomplete: {', '.join(missing) or 'event/loanId'}")
    return CallbackEvent(event_id, gln_coll, loan_id, url, payload)
