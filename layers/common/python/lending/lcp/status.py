"""Licence status documents (Readium LSD 1.0): what became of a licence, and the device interactions
(register, return, renew) a reading app may make.

The status is read from the loan and the licence's events, never stored on its own:
ready (lent, no device yet), active (a device registered), returned (a device gave it back),
expired (its end came), revoked (ended by the library or the distributor after a device registered),
cancelled (ended before any device registered)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from ..domain.dates import iso
from ..domain.loans import LCP_LICENCE_TYPE as LICENCE_TYPE
from ..domain.values import Value

# Here rather than with the licence documents: a status document needs no cryptography (kept out of the
# cold start of the LCP function, whose reading apps mostly ask for status).
STATUS_TYPE = "application/vnd.readium.license.status.v1.0+json"

DEVICE_FIELD_MAX = 255


class LsdStatus(StrEnum):
    READY = "ready"
    ACTIVE = "active"
    RETURNED = "returned"
    EXPIRED = "expired"
    REVOKED = "revoked"
    CANCELLED = "cancelled"


class EventType(StrEnum):
    REGISTER = "register"
    RENEW = "renew"
    RETURN = "return"
    REVOKE = "revoke"
    CANCEL = "cancel"


MESSAGES = {
    LsdStatus.READY: "The licence is ready to be used.",
    LsdStatus.ACTIVE: "The licence is active.",
    LsdStatus.RETURNED: "The publication has been returned.",
    LsdStatus.EXPIRED: "The loan has ended.",
    LsdStatus.REVOKED: "The loan was ended by the library.",
    LsdStatus.CANCELLED: "The loan was cancelled before it was used.",
}


class Event(Value):
    type: EventType
    device_id: str
    device_name: str
    at: datetime

    def __init__(self, type: EventType, device_id: str, device_name: str, at: datetime) -> None:
        self._init(type, device_id, device_name, at)

    def doc(self) -> dict[str, Any]:
        return {"type": self.type.value, "id": self.device_id, "name": self.device_name, "timestamp": iso(self.at)}


def status_of(loan_state: str, events: list[Event]) -> LsdStatus:
    """From the loan's state (ACTIVE, RETURNED, EXPIRED) and the licence's device events."""
    if loan_state == "EXPIRED":
        return LsdStatus.EXPIRED
    registered = any(e.type is EventType.REGISTER for e in events)
    if loan_state == "ACTIVE":
        return LsdStatus.ACTIVE if registered else LsdStatus.READY
    if any(e.type is EventType.RETURN for e in events):
        return LsdStatus.RETURNED
    return LsdStatus.REVOKED if registered else LsdStatus.CANCELLED


def ended_event(status: LsdStatus, at: datetime | None) -> Event | None:
    """The provider's own event for a licence ended outside LSD (revoke, cancel), as LSD lists it."""
    if at is None:
        return None
    if status is LsdStatus.REVOKED:
        return Event(EventType.REVOKE, "", "", at)
    if status is LsdStatus.CANCELLED:
        return Event(EventType.CANCEL, "", "", at)
    return None


def device_ok(value: str | None) -> bool:
    return bool(value) and len(value or "") <= DEVICE_FIELD_MAX and value.isprintable()  # type: ignore[union-attr]


def document(*, licence_id: str, status: LsdStatus, licence_updated: datetime, status_updated: datetime,
             licence_url: str, lsd_url: str, events: list[Event], potential_end: datetime | None,
             can_renew: bool) -> dict[str, Any]:
    """The status document; `lsd_url` is this document's address, the interactions hang below it."""
    links: list[dict[str, Any]] = [{"rel": "license", "href": licence_url, "type": LICENCE_TYPE}]
    live = status in (LsdStatus.READY, LsdStatus.ACTIVE)
    if live:
        links.append({"rel": "register", "href": f"{lsd_url}/register{{?id,name}}", "type": STATUS_TYPE,
                      "templated": True})
        links.append({"rel": "return", "href": f"{lsd_url}/return{{?id,name}}", "type": STATUS_TYPE,
                      "templated": True})
        if can_renew:
            links.append({"rel": "renew", "href": f"{lsd_url}/renew{{?end,id,name}}", "type": STATUS_TYPE,
                          "templated": True})
    doc: dict[str, Any] = {
        "id": licence_id, "status": status.value, "message": MESSAGES[status],
        "updated": {"license": iso(licence_updated), "status": iso(status_updated)},
        "links": links, "events": [e.doc() for e in events],
    }
    if live and potential_end is not None:
        doc["potential_rights"] = {"end": iso(potential_end)}
    return doc
