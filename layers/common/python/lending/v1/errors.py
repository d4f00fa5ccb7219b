"""The v1 error codes: HTTP status and the spec's message for each, and how core refusals map to them."""

from __future__ import annotations

from ..domain.codes import Refused

CODES: dict[str, tuple[int, str]] = {
    # 400: a parameter is missing or malformed
    "missing_member_id": (400, "The patron identifier is missing."),
    "invalid_member_id": (400, "The patron identifier is invalid."),
    "missing_email": (400, "The email address is required when notify is 1."),
    "invalid_email": (400, "The email address is invalid."),
    "email_in_use": (400, "The email address is already in use"),
    "invalid_notify": (400, "notify must be 0 or 1."),
    "invalid_expires_at": (400, "expires_at must be a future ISO 8601 date."),
    "missing_expires_at": (400, "expires_at is required: the loan's new end."),
    "expires_at_not_later": (400, "expires_at must be after the loan's current end."),
    "invalid_return_url": (400, "return_url must be an http(s) URL."),
    "invalid_callback_url": (400, "callback_url must be an http(s) URL."),
    "invalid_start_at": (400, "start_at must be an ISO 8601 date."),
    "invalid_end_at": (400, "end_at must be an ISO 8601 date, not before start_at."),
    "invalid_page": (400, "page must be a whole number from 1."),
    "invalid_per_page": (400, "per_page must be a whole number from 1 to 100."),
    "invalid_body": (400, "The request body is neither JSON nor form fields."),
    # 401
    "invalid_api_key": (401, "The X-Api-Key header is missing or names no library."),
    # 403: limits and availability
    "loan_limit_reached": (403, "You have reached the loan limit authorized by your library."),
    "daily_loan_limit_reached": (403, "This patron has reached the maximum number of loans per day."),
    "monthly_loan_limit_reached": (403, "This patron has reached the maximum number of loans per month."),
    "all_copies_on_loan": (403, "All resources are currently on loan."),
    "no_copies_left": (403, "This resource can no longer be lent by your library."),
    "loan_expired": (403, "The loan has expired."),
    "loan_returned": (403, "This loan's availability period has expired."),
    "loan_duration_over_maximum": (403, "The loan would last longer than the publisher allows."),
    "licence_ends_first": (403, "Your library's licence of this resource ends before that date."),
    "hold_limit_reached": (403, "You have reached the hold limit authorized by your library."),
    "already_on_loan": (403, "This patron already has this resource on loan."),
    "copies_available": (403, "A copy is available now: borrow it instead."),
    "hold_ended": (403, "This hold is no longer active."),
    # 404
    "medium_not_found": (404, "The media cannot be found."),
    "loan_not_found": (404, "Loan not found."),
    "hold_not_found": (404, "Hold not found."),
    # others
    "try_again": (503, "Too many simultaneous requests for this patron, try again."),
    "internal_error": (500, "Internal error."),
}

# Protocol-neutral reasons of the core (Refused.reason) -> v1 codes.
REASONS = {
    "patron_active_limit": "loan_limit_reached",
    "patron_daily_limit": "daily_loan_limit_reached",
    "patron_monthly_limit": "monthly_loan_limit_reached",
    "all_on_loan": "all_copies_on_loan",
    "nothing_left": "no_copies_left",
    "medium_not_found": "medium_not_found",
    "email_in_use": "email_in_use",
    "loan_not_found": "loan_not_found",
    "loan_expired": "loan_expired",
    "loan_returned": "loan_returned",
    "already_ended": "loan_expired",
    "end_not_later": "expires_at_not_later",
    "over_max_duration": "loan_duration_over_maximum",
    "licence_ends_first": "licence_ends_first",
    "cannot_be_loaned": "no_copies_left",
    "busy": "try_again",
    "hold_limit": "hold_limit_reached",
    "already_on_loan": "already_on_loan",
    "copies_available": "copies_available",
    "hold_not_found": "hold_not_found",
    "hold_ended": "hold_ended",
}


class V1Error(Exception):
    """An answer of error codes; they share one HTTP status (the first code's)."""

    def __init__(self, *codes: str) -> None:
        super().__init__(", ".join(codes))
        self.codes = list(codes)

    @property
    def status(self) -> int:
        return CODES.get(self.codes[0], (403, ""))[0]

    @property
    def messages(self) -> list[str]:
        return [CODES.get(c, (403, c))[1] for c in self.codes]


def of_refusal(refusal: Refused) -> V1Error:
    return V1Error(REASONS.get(refusal.reason, refusal.reason))
