"""The warehouse door's two operations: the loanUrl's parameters read into the use case's request
(services/warehouse_loans), its result worded in the spec's names (warehouse/errors.py)."""

from __future__ import annotations

from typing import Any

from ..domain.loans import Loan
from ..domain.values import Record
from ..services import lcp
from ..services import warehouse_loans as uses
from ..services.context import Ctx
from . import errors as e
from .request import MAX_DAYS, loan_id, parse

ORIGIN = uses.ORIGIN


class WarehouseResult(Record):
    status: int  # 201 / 204, or 400 / 403 / 404 with `errors`
    errors: set[str]
    loan: Loan | None
    url: str
    replayed: bool  # an existing loan's link again: nothing taken

    def __init__(self, status: int, errors: set[str] | None = None, loan: Loan | None = None, url: str = "",
                 replayed: bool = False) -> None:
        self._init(status, set() if errors is None else errors, loan, url, replayed)

    @property
    def return_url(self) -> str:
        base, _, token = self.url.rpartition("/fulfillment/")
        return f"{base}/warehouse/loans/{token}"


def lend_by_url(ctx: Ctx, order_line_id: str, token: str, raw: dict[str, str]) -> WarehouseResult:
    """The spec answers only 201 or 400; its `no_loan_available` says "The link is not valid": a
    refused loanUrl answers that alone, whatever else is wrong."""
    p = parse(raw, ctx.now)
    errors = set(p.errors)
    # Readium LCP: a passphrase given by the lending system makes the link answer the loan's licence.
    passphrase = lcp.Passphrase.of(raw.get("passphrase"), raw.get("passphrase_hint"))
    if ("passphrase" in raw and passphrase is None) or len(raw.get("passphrase_hint") or "") > lcp.HINT_MAX:
        errors.add(e.PASSPHRASE_INVALID)  # asked for protection: never a silent plain loan
    if p.bill_drm_to and not uses.lending_system_known(p.bill_drm_to):
        errors.add(e.BILL_DRM_TO_INVALID)  # well formed, but not an identifier the platform gave
    ids_ok = not ({e.MISSING_BORROWER_ID, e.INVALID_BORROWER_ID, e.MISSING_TRANSACTION_ID,
                   e.INVALID_TRANSACTION_ID} & errors)
    request = uses.UrlLoan(
        order_line_id=order_line_id, token=token, pool=p.pool,
        loan_id=loan_id(order_line_id, p.borrower_id, p.transaction_id) if ids_ok else None,
        fingerprint=p.fingerprint(order_line_id), regeneration=p.regeneration, expire_at=p.expire_at,
        duration=p.duration, max_days=MAX_DAYS, marks=p.extra(), notify_url=p.notify_url,
        ip_address=p.ip_address if e.IP_INVALID not in errors else None, passphrase=passphrase,
        invalid=bool(errors),
        end_invalid=bool({e.INVALID_EXPIRATION_DATE, e.LOAN_DURATION_OVER_MAXIMUM, e.DURATION_INVALID} & errors))
    result = uses.lend_by_url(ctx, request)
    if result.link_refused:
        return WarehouseResult(400, {e.NO_LOAN_AVAILABLE})
    if result.loan is None:
        return WarehouseResult(400, errors | {e.for_refusal(r) for r in result.refusals})
    return WarehouseResult(201, loan=result.loan, url=result.url, replayed=result.replayed)


def return_by_link(ctx: Ctx, token: str) -> WarehouseResult:
    """204 when returned (again, alike); a bad link 403, a link to no warehouse loan 404, a loan that
    can no longer be returned 403: each `no_loan_available`."""
    result = uses.return_by_link(ctx, token)
    if result.refusal is None:
        return WarehouseResult(204, loan=result.loan, replayed=result.replayed)
    status = 404 if result.refusal.reason is e.R.LOAN_NOT_FOUND else 403
    return WarehouseResult(status, {e.for_refusal(result.refusal)})


def describe(outcome: WarehouseResult) -> dict[str, Any]:
    """What the handler logs: no borrower or transaction ids (personal data stays out of logs)."""
    return {"status": outcome.status, "errors": e.ordered(outcome.errors), "replayed": outcome.replayed,
            "loanId": outcome.loan.loan_id if outcome.loan else None}
