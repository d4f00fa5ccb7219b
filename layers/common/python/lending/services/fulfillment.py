"""Opening a fulfillment link: only a genuine, unexpired link of an active loan gives the file.

The file is the EPUB of the loan's EAN in the bucket: answered inline (base64, as API Gateway wants
binary bodies), or by a redirect to a short-lived S3 link when it is too large for a Lambda answer.
Each delivery is recorded on the loan (`downloads`)."""

from __future__ import annotations

import base64
import json
from typing import Any

from ..domain.loans import LoanState
from ..store import deliveries
from ..store import loans as loan_store
from . import files
from .context import Ctx
from .links import verify_loan_link

ERRORS = {
    "invalid_link": "This link is invalid or has expired.",
    "loan_not_found": "Loan not found.",
    "loan_expired": "The loan has expired.",
    "loan_returned": "This loan's availability period has expired.",
    "file_not_found": "The file of this loan is not available.",
}


def _error(status: int, code: str) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"},
            "body": json.dumps({"errors": [code], "messages": [ERRORS[code]]})}


def licence_answer(doc: dict[str, Any]) -> dict[str, Any]:
    """A licence file (`.lcpl`): what the fulfillment link, v1 and the LSD `license` link answer."""
    from .lcp import LICENCE_TYPE

    return {"statusCode": 200, "body": json.dumps(doc, ensure_ascii=False),
            "headers": {"Content-Type": LICENCE_TYPE, "Content-Disposition": 'attachment; filename="loan.lcpl"',
                        "Cache-Control": "private, no-store"}}


def open_link(token: str, ctx: Ctx | None = None) -> dict[str, Any]:
    ctx = ctx or Ctx()
    found = verify_loan_link(token, ctx.now)
    if found is None:
        return _error(403, "invalid_link")
    loan = loan_store.get(*found)
    if loan is None:
        return _error(404, "loan_not_found")
    if loan.state is LoanState.RETURNED:
        return _error(403, "loan_returned")
    if loan.state is not LoanState.ACTIVE or loan.end_date <= ctx.now:
        return _error(403, "loan_expired")
    from . import lcp

    licence = lcp.licence_of(ctx, loan)
    if licence is not None:  # an LCP loan: its link answers the licence, never the file in clear
        deliveries.record_download(loan.gln_coll, loan.loan_id, ctx.now)
        return licence_answer(licence.doc)
    if loan.extra.get("protection") == lcp.PROTECTION:  # its licence could not be issued: never the clear file
        return _error(404, "file_not_found")
    file = files.open_epub(loan.ean13)
    if file is None:
        return _error(404, "file_not_found")
    deliveries.record_download(loan.gln_coll, loan.loan_id, ctx.now)
    disposition = f'attachment; filename="{file.name}"'
    if file.content is None:
        return {"statusCode": 302, "body": "",
                "headers": {"Location": file.url or "", "Cache-Control": "no-store"}}
    return {"statusCode": 200, "isBase64Encoded": True, "body": base64.b64encode(file.content).decode(),
            "headers": {"Content-Type": files.EPUB_TYPE, "Content-Disposition": disposition,
                        "Cache-Control": "private, no-store"}}
