"""Renewing a loan: one use case for every door (PNB extendLoan, library API v1 PUT, LCP renew).

The rules are the domain's (`domain.renewals.check_renewal`); the store's transaction re-checks them as
conditions, so a renewal racing a return, an expiry or another renewal either lands whole on the loan as
it was judged, or is judged again on the loan as it has become."""

from __future__ import annotations

from datetime import datetime

from ..domain.dates import iso
from ..domain.loans import Loan, LoanState
from ..domain.refusals import Reason, Refused
from ..domain.renewals import check_renewal, ended
from ..store import licences as line_store
from ..store import loans as loan_store
from . import lending
from .context import Ctx

ATTEMPTS = 4


def renew(ctx: Ctx, loan: Loan, new_end: datetime) -> Loan:
    """Give `loan` (as read by the caller, the caller's own) the end `new_end`; returns the loan renewed.

    Takes no access and no place. Refusals (domain.renewals): ACCES_DENIED when the loan is over (an
    overdue loan is expired on the way), INVALID_ARGUMENTS when the date is not later than the current
    end, the whole loan would pass the offer's maximum loan days, or the licence ends first."""
    new_end = new_end.replace(microsecond=0)  # ends are kept to the second (answers and the table alike)
    for _ in range(ATTEMPTS):
        item = line_store.get_line(loan.order_line_id)
        if item is None or not line_store.is_licence(item):
            raise Refused(Reason.CANNOT_BE_LOANED)
        licence = line_store.licence(item, ctx.now)
        try:
            end = check_renewal(loan, licence, new_end, ctx.now)
        except Refused as r:
            if r.reason is Reason.ALREADY_ENDED and loan.state is LoanState.ACTIVE:
                lending.expire(ctx, loan)  # its end has passed: freed now rather than by the next sweep
            raise
        try:
            loan_store.renew(loan, end, ctx.now)
        except loan_store.LoanChanged as e:
            if not e.item:
                raise ended(loan) from None
            loan = loan_store.loan(e.item)  # returned, expired or renewed meanwhile: judge it again
            continue
        except loan_store.LicenceRefused as e:
            if e.item and loan.loan_id not in line_store.seats(e.item):
                # its line no longer counts it (its seat was dropped at its end by a loan on a clock ahead
                # of ours, or it predates seats: docs/cost.md): no judging again can move a seat not there
                raise ended(loan) from None
            continue  # the licence changed under us: judge again on it as it is
        loan.end_date = end
        for field in ("loanEndDate", "consultEndDate"):
            if field in loan.answer:
                loan.answer[field] = iso(end)
        return loan
    # Still changing after every attempt: our fault, not the caller's (answered 500, logged; a retry is safe).
    raise RuntimeError(f"loan {loan.loan_id} kept changing over {ATTEMPTS} attempts")
