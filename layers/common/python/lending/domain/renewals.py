"""Renewal (PNB extendLoan, v1 PUT expires_at, LCP renew): a running loan gets a later end.

A renewal takes no new access and no new place: the loan keeps the ones it holds. What bounds it is the
licence: the whole loan, from its start, may not last longer than the offer's maximum loan days, nor run
past the licence's own end. The store's transaction re-checks the same bounds as conditions, so a
renewal racing a return, an expiry or another renewal is decided there, never half-applied."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from .codes import Refused, Status
from .dates import iso
from .licences import CANNOT_BE_LOAN, Licence
from .loans import Loan, LoanState


def ended(loan: Loan) -> Refused:
    """The spec's words for a loan that is over (endLoan's ACCES_DENIED), for renewals and returns alike."""
    return Refused(Status.ACCES_DENIED, f"The loan with orderlineId '{loan.order_line_id}' and loanId "
                   f"'{loan.loan_id}' is already ended", reason="already_ended")


def not_later(current: datetime) -> Refused:
    return Refused(Status.INVALID_ARGUMENTS, f"The parameter date is invalid: the new loan end date must be after "
                                             f"the current one ({iso(current)})", reason="end_not_later")


def over_maximum(licence: Licence) -> Refused:
    return Refused(Status.INVALID_ARGUMENTS, f"The parameter date is invalid. The loan duration is over maximum "
                                             f"autorized limit ({licence.max_loan_days} days from the loan's start)",
                   reason="over_max_duration")


def licence_ends_first(licence: Licence) -> Refused:
    return Refused(Status.INVALID_ARGUMENTS, f"The parameter date is invalid: the licence ends on "
                                             f"{iso(licence.end_date)}, before it", reason="licence_ends_first")


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
        raise Refused(Status.PRODUCT_CANNOT_BE_LOAN, CANNOT_BE_LOAN, reason="cannot_be_loaned")
    if new_end <= loan.end_date:
        raise not_later(loan.end_date)
    if loan_days(loan.created_at, new_end) > licence.max_loan_days:
        raise over_maximum(licence)
    if new_end > licence.end_date:
        raise licence_ends_first(licence)
    return new_end
