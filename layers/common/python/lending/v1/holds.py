"""The v1 hold routes: decode the request, call the use case (services.holds), shape the answer with the
spec's field names. Apart from the loan routes (v1/actions.py): a hold function loads no loan use case."""

from __future__ import annotations

from typing import Any

from ..domain.dates import iso
from ..domain.licences import Pool
from ..services import holds as hold_uses
from .door import Call, V1Answer
from .render import key_type
from .requests import LIST_HOLDS, PLACE_HOLD, validate

# A hold's pool in the words of the warehouse lending URL (seed 003): medium, and localisation for a stream.
HOLD_POOLS: dict[Pool, tuple[str, str | None]] = {
    Pool.DOWNLOAD: ("download", None), Pool.ONSITE: ("streaming", "on-site"), Pool.OFFSITE: ("streaming", "off-site")}
POOL_OF = {words: pool for pool, words in HOLD_POOLS.items()}


def hold_fields(view: hold_uses.HoldView) -> dict[str, Any]:
    """A hold as v1 shows it: the loan's identifying fields, the place it waits for (medium, localisation),
    then its state, its place in that pool's queue and when a place may come (waiting), or until when the
    reserved place waits (`hold_expires_at`)."""
    hold = view.hold
    medium, localisation = HOLD_POOLS[hold.pool]
    return {"id": hold.hold_id, "created_at": iso(hold.placed_at), "member_id": hold.member_id,
            "resource_id": hold.ean13, "key": hold.ean13, "key_type": key_type(hold.ean13),
            "medium": medium, "localisation": localisation,
            "state": hold.state.value.lower(), "position": view.position or None,
            "expected_at": iso(view.expected_at) if view.expected_at else None,
            "expected_wait_days": view.expected_wait_days,
            "hold_expires_at": iso(hold.expires_at) if hold.expires_at else None,
            "loan_id": hold.loan_id, "ended_at": iso(hold.ended_at) if hold.ended_at else None}


def place_hold(call: Call) -> V1Answer:
    """POST /v1/media/{medium_id}/holds.{json|xml}: 201 placed, 200 the patron's open hold of it."""
    raw = call.params
    wants_mail = str(raw.get("notify", "")).lower() in ("1", "true")
    streaming = str(raw.get("medium", "")).strip().lower() == "streaming"
    more = [*(["missing_email"] if wants_mail and "email" not in raw else []),
            *(["missing_localisation"] if streaming and "localisation" not in raw else [])]
    req = validate(PLACE_HOLD, raw, *more)
    # A download waits for a download place whatever `localisation` says (as the warehouse URL reads it).
    pool = POOL_OF[(req.medium, req.localisation if req.medium == "streaming" else None)]
    new = hold_uses.NewHold(member_id=req.member_id, ean13=call.path.get("medium_id", ""),
                            email=req.email if req.notify else None, callback_url=req.callback_url, pool=pool)
    view, created = hold_uses.place_hold(call.ctx, call.library, new)
    return V1Answer(201 if created else 200, hold_fields(view),
                  headers={"Location": f"{call.ctx.base_url}/v1/holds/{view.hold.hold_id}"})


def list_holds(call: Call) -> V1Answer:
    """GET /v1/holds.{json|xml}?member_id=&page=&per_page=: the library's (or one patron's) holds."""
    req = validate(LIST_HOLDS, call.params)
    views, more = hold_uses.list_holds(call.ctx, call.library, req.member_id, req.page, req.per_page)
    return V1Answer(200, {"holds": [hold_fields(v) for v in views], "page": req.page, "per_page": req.per_page,
                        "next_page": req.page + 1 if more else None}, listing="holds")


def get_hold(call: Call) -> V1Answer:
    """GET /v1/holds/{hold_id}: one hold, its position and expected wait."""
    return V1Answer(200, hold_fields(hold_uses.get_hold(call.ctx, call.library, call.path.get("hold_id", ""))))


def cancel_hold(call: Call) -> V1Answer:
    """DELETE /v1/holds/{hold_id}: the hold leaves the queue (a reserved place goes to the next in line)."""
    return V1Answer(200, hold_fields(hold_uses.cancel_hold(call.ctx, call.library, call.path.get("hold_id", ""))))
