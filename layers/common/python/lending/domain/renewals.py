"""Renewal (PNB extendLoan, v1 PUT expires_at, LCP renew): a running loan gets a later end.

A renewal takes no new access and no new place: the loan keeps the ones it holds. What bounds it is the
licence: the whole loan, from its start, may not last longer than the offer's maximum loan days, nor run
past the licence's own end. The store's transaction re-checks the same bounds as conditions, so a
renewal racing a return, an expiry or another renewal is decided there, never half-applied."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from .codes import Status
from .dates import iso
from .licences import Licence
from .loans import Loan, LoanState
from .refusals import Reason, Refused


def ended(loan: Loan) -> Refused:
    """A loan that is over (endLoan's ACCES_DENIED), for renewals and returns alike."""
    return Refused(Reason.ALREADY_ENDED, order_line_id=loan.order_line_id, loan_id=loan.loan_id)


def not_later(current: datetime) -> Refused:
    return Refused(Reason.END_NOT_LATER, current=iso(current))


def over_maximum(licence: Licence) -> Refused:
    return Refused(Reason.RENEWAL_TOO_LONG, days=licence.max_loan_days)


def licence_ends_first(licence: Licence) -> Refused:
    return Refused(Reason.LICENCE_ENDS_FIRST, end=iso(licence.end_date))


def loan_days(start: datetime, end: datetime) -> Decimal:
    """Days a loan lasts, exactly (to the microsecond, no float): what the licence's maxLoanDays is compared
    with, here and in the store's condition, so the two never disagree."""
    span = end - start
    return Decimal((span.days * 86_400 + span.seconds) * 1_000_000 + span.microseconds) / Decimal(86_400_000_000)


def check_renewal(loan: Loan, licence: Licence, new_end: datetime, now: datetime) -> datetime:
    """The new end of `loan` if it may be renewed to `new_end` at `now`; else the refusal, most
    fundamental first: the loan is over, the licence cannot lend, the date is not later than the current
    end, the loan would last longer than the offer allows, the licence ends before it."""
    if loan.state is not LoanState.ACTIVE or loan.end_date <= now:
        raise ended(loan)
    if licence.status != Status.OK.value:
        raise Refused(Reason.CANNOT_BE_LOANED)
    if new_end <= loan.end_date:
        raise not_later(loan.end_date)
    if loan_days(loan.created_at, new_end) > licence.max_loan_days:
        raise over_maximum(licence)
    if new_end > licence.end_date:
        raise licence_ends_first(licence)
    return new_end


def latest_end(loan: Loan, licence: Licence) -> datetime:
    """The latest end a renewal may give (LSD's `potential_rights`): the offer's maximum loan days from
    the loan's start, or the licence's own end if sooner. `check_renewal` accepts it, and nothing later."""
    return min(loan.created_at + timedelta(days=licence.max_loan_days), licence.end_date)
