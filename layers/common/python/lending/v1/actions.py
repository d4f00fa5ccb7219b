"""The v1 loan routes: decode the request, call the use case (services.patron_loans), shape the answer
with the spec's field names. The hold routes are v1/holds.py (a hold function loads no loan use case)."""

from __future__ import annotations

import json
from typing import Any

from ..domain.dates import iso
from ..domain.loans import Loan, LoanView
from ..services import patron_loans as uses
from .door import Call, V1Answer
from .errors import V1Error
from .render import key_type
from .requests import CREATE_LOAN, LIST_LOANS, RENEW_LOAN, member_id, validate


def loan_fields(view: LoanView) -> dict[str, Any]:
    """A loan as the spec's list shows it (then two fields of ours: its state and return date)."""
    loan = view.loan
    return {"id": loan.loan_id, "created_at": iso(loan.created_at), "downloads": view.downloads,
            "expires_at": iso(loan.end_date),
            "hold_expires_at": loan.extra.get("holdExpiresAt"), "shippings": view.shippings,
            "member_id": loan.extra.get("memberId"), "resource_id": loan.ean13, "key": loan.ean13,
            "key_type": key_type(loan.ean13), "state": loan.state.value.lower(),
            "returned_at": iso(loan.returned_at) if loan.returned_at else None}


def _location(call: Call, loan: Loan) -> dict[str, str]:
    return {"Location": f"{call.ctx.base_url}/v1/loans/{loan.loan_id}"}


def list_loans(call: Call) -> V1Answer:
    """GET /v1/loans.{json|xml}?member_id=&start_at=&end_at=&page=&per_page="""
    req = validate(LIST_LOANS, call.params)
    if req.start_at and req.end_at and req.end_at < req.start_at:
        raise V1Error("invalid_end_at")
    views, more = uses.list_loans(call.ctx, call.library, req.member_id, req.start_at, req.end_at, req.page,
                                  req.per_page)
    return V1Answer(200, {"loans": [loan_fields(v) for v in views], "page": req.page, "per_page": req.per_page,
                        "next_page": req.page + 1 if more else None}, listing="loans")


def create_loan(call: Call) -> V1Answer:
    """POST /v1/media/{medium_id}/loans.{json|xml}: 201 created, 200 the patron's active loan of it."""
    raw = call.params
    wants_mail = str(raw.get("notify", "")).lower() in ("1", "true")
    req = validate(CREATE_LOAN, raw, *(["missing_email"] if wants_mail and "email" not in raw else []))
    if req.expires_at is not None and req.expires_at <= call.ctx.now:
        raise V1Error("invalid_expires_at")
    new = uses.NewLoan(member_id=req.member_id, ean13=call.path.get("medium_id", ""),
                       expires_at=req.expires_at, return_url=req.return_url, email=req.email,
                       passphrase=req.passphrase, passphrase_hint=req.passphrase_hint)
    loan, created = uses.create(call.ctx, call.library, new)
    uses.with_licence(call.ctx, loan, new)
    if req.notify:
        uses.notify(call.ctx, loan, req.email)
    body = {"url": uses.loan_link(call.ctx, loan), "expires_at": iso(loan.end_date), "id": loan.loan_id}
    return V1Answer(201 if created else 200, body, headers=_location(call, loan))


def get_loan(call: Call) -> V1Answer:
    """GET /v1/loans/{loan_id}: the fulfillment document, with a short-lived signed link to the file."""
    view, url, until = uses.fulfil(call.ctx, call.library, call.path.get("loan_id", ""))
    loan = view.loan
    licence = uses.licence_file(call.ctx, loan)
    if licence is not None:  # an LCP loan: the fulfilment file is its licence
        return V1Answer(200, {}, raw=(uses.LICENCE_TYPE, json.dumps(licence, ensure_ascii=False)),
                        headers={"Content-Disposition": 'attachment; filename="loan.lcpl"'})
    return V1Answer(200, {
        "id": loan.loan_id, "member_id": loan.extra.get("memberId"), "resource_id": loan.ean13,
        "key": loan.ean13, "key_type": key_type(loan.ean13), "title": uses.title_of(loan),
        "created_at": iso(loan.created_at), "expires_at": iso(loan.end_date), "downloads": view.downloads,
        "url": url, "url_expires_at": iso(until), "format": "epub", "mime_type": "application/epub+zip"})


def return_loan(call: Call) -> V1Answer:
    """DELETE /v1/loans/{loan_id}: early return by the library on the patron's behalf."""
    return V1Answer(200, loan_fields(uses.return_loan(call.ctx, call.library, call.path.get("loan_id", ""))))


def renew_loan(call: Call) -> V1Answer:
    """PUT /v1/loans/{loan_id} with `expires_at`: renewal, the loan's new end (the loan as listed)."""
    req = validate(RENEW_LOAN, call.params)
    return V1Answer(200, loan_fields(uses.renew(call.ctx, call.library, call.path.get("loan_id", ""), req.expires_at)))


def grant_courtesy(call: Call) -> V1Answer:
    """POST /v1/members/{member_id}/courtesy_loans: one loan past the patron's limits."""
    member = member_id(call.path.get("member_id", ""))
    granted = uses.grant_courtesy(call.library, member)
    return V1Answer(201, {"member_id": member, "courtesy_loans": granted})
