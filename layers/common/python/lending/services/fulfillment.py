"""Opening a fulfillment link: only a genuine, unexpired link of an active loan gives the file."""

from __future__ import annotations

import json
from typing import Any

from ..domain.dates import iso
from ..domain.loans import LoanState
from ..store import loans as loan_store
from .context import Ctx
from .links import verify_loan_link


def _answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def open_link(token: str, ctx: Ctx | None = None) -> dict[str, Any]:
    ctx = ctx or Ctx()
    found = verify_loan_link(token, ctx.now)
    if found is None:
        return _answer(403, {"errors": ["This link is invalid or has expired."]})
    loan = loan_store.get(*found)
    if loan is None:
        return _answer(404, {"errors": ["Loan not found."]})
    if loan.state is not LoanState.ACTIVE or loan.end_date <= ctx.now:
        return _answer(403, {"errors": ["This loan has expired or was returned."]})
    return _answer(200, {"loanId": loan.loan_id, "orderLineId": loan.order_line_id, "ean13": loan.ean13,
                         "expiresAt": iso(loan.end_date), "format": "epub", "mimeType": "application/epub+zip"})
