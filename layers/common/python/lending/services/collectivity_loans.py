"""A collectivity's own loans, by orderLineId and loanId: PNB returnLoan and extendLoan.

The library system acts for its patron: it ends a loan early ("Retourner le prêt") or renews it. Both
reach only the caller's loans: a line or a loan of another collectivity is as unknown as a missing one."""

from __future__ import annotations

from datetime import datetime

from ..domain.accounts import Account
from ..domain.loans import Loan
from ..domain.refusals import Reason, Refused
from ..store import loans as loan_store
from . import lending, renewals
from .context import Ctx


def own_loan(coll: Account, order_line_id: str, loan_id: str) -> Loan:
    """The caller's loan `loan_id` of its line `order_line_id`; the spec's NOT_FOUND texts otherwise
    (endLoan's: the line first, then the loan on that line)."""
    lending.own_line(coll, order_line_id)
    loan = loan_store.get(coll.gln, loan_id)
    if loan is None or loan.order_line_id != order_line_id:
        raise Refused(Reason.LOAN_NOT_IN_LINE, order_line_id=order_line_id, loan_id=loan_id)
    return loan


def return_loan(ctx: Ctx, coll: Account, order_line_id: str, loan_id: str) -> Loan:
    """returnLoan: the early return every door shares (place freed at once, listed by getEndedLoans, the
    loan's callback written to the outbox with the return). A loan already over is ACCES_DENIED."""
    return lending.return_early(ctx, own_loan(coll, order_line_id, loan_id))


def extend(ctx: Ctx, coll: Account, order_line_id: str, loan_id: str, new_end: datetime) -> Loan:
    """extendLoan: the loan's new end is `new_end` (services.renewals.renew)."""
    return renewals.renew(ctx, own_loan(coll, order_line_id, loan_id), new_end)
