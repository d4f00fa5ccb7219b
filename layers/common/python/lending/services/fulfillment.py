"""Opening a fulfillment link: only a genuine, unexpired link of an active loan gives the file.

The file is the EPUB of the loan's EAN in the bucket: the door answers it inline, or redirects to a
short-lived S3 link when it is too large for a Lambda answer. An LCP loan's link gives its licence,
never the file in clear. Each delivery is recorded on the loan (`downloads`)."""

from __future__ import annotations

import enum
from typing import Any

from ..domain.loans import LoanState
from ..domain.values import Value
from ..store import deliveries
from ..store import loans as loan_store
from . import files
from .context import Ctx
from .links import verify_loan_link


class Refusal(enum.Enum):
    """Why a loan's link gives nothing (the download door words each, in v1's error shape)."""

    INVALID_LINK = "invalid_link"
    LOAN_NOT_FOUND = "loan_not_found"
    LOAN_EXPIRED = "loan_expired"
    LOAN_RETURNED = "loan_returned"
    FILE_NOT_FOUND = "file_not_found"


class Delivery(Value):
    """What a loan's link gives: its LCP licence document, or its file (the bytes, or where to fetch
    them when too large for a Lambda answer)."""

    licence: dict[str, Any] | None
    name: str
    content: bytes | None
    url: str | None

    def __init__(self, licence: dict[str, Any] | None = None, name: str = "", content: bytes | None = None,
                 url: str | None = None) -> None:
        self._init(licence, name, content, url)


def open_link(token: str, ctx: Ctx | None = None) -> Delivery | Refusal:
    ctx = ctx or Ctx()
    found = verify_loan_link(token, ctx.now)
    if found is None:
        return Refusal.INVALID_LINK
    loan = loan_store.get(*found)
    if loan is None:
        return Refusal.LOAN_NOT_FOUND
    if loan.state is LoanState.RETURNED:
        return Refusal.LOAN_RETURNED
    if loan.state is not LoanState.ACTIVE or loan.end_date <= ctx.now:
        return Refusal.LOAN_EXPIRED
    from . import lcp

    licence = lcp.licence_of(ctx, loan)
    if licence is not None:  # an LCP loan: its link answers the licence, never the file in clear
        deliveries.record_download(loan.gln_coll, loan.loan_id, ctx.now)
        return Delivery(licence=licence.doc)
    if loan.extra.get("protection") == lcp.PROTECTION:  # its licence could not be issued: never the clear file
        return Refusal.FILE_NOT_FOUND
    file = files.open_epub(loan.ean13)
    if file is None:
        return Refusal.FILE_NOT_FOUND
    deliveries.record_download(loan.gln_coll, loan.loan_id, ctx.now)
    return Delivery(name=file.name, content=file.content, url=file.url)
