"""The v1 error codes: HTTP status and the spec's message for each, and the one table of core refusals."""

from __future__ import annotations

from ..domain.refusals import Reason, Refused

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
    "invalid_passphrase": (400, "passphrase must be a text of 1 to 256 characters."),
    "invalid_passphrase_hint": (400, "passphrase_hint must be a text of at most 200 characters."),
    "invalid_callback_url": (400, "callback_url must be an http(s) URL."),
    "invalid_medium": (400, "medium must be download or streaming."),
    "missing_localisation": (400, "localisation is required with medium=streaming: on-site or off-site."),
    "invalid_localisation": (400, "localisation must be on-site or off-site."),
    "invalid_start_at": (400, "start_at must be an ISO 8601 date."),
    "invalid_end_at": (400, "end_at must be an ISO 8601 date, not before start_at."),
    "invalid_page": (400, "page must be a whole number from 1."),
    "invalid_per_page": (400, "per_page must be a whole number from 1 to 100."),
    "invalid_body": (400, "The request body is neither JSON nor form fields."),
    "invalid_available": (400, "available must be 0 or 1."),  # catalogue (harvest/)
    "invalid_sort": (400, "sort must be title or added."),
    "invalid_text": (400, "A parameter is not valid text."),
    # 401
    "invalid_api_key": (401, "The X-Api-Key header is missing or names no library."),
    # 429: a v1 key is never guessed (see docs/hostile-input.md): only reached if v1 ever signs in by password
    "too_many_signins": (429, "Too many failed sign-ins: try again later."),
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

# The v1 door's one table: every refusal reason of the core -> its v1 code (status and message above).
# Reasons of other doors' operations never reach a v1 route (no v1 call orders, declares addresses or
# reads update files); they are written all the same, as the 500 they would be, so none falls through.
_UNREACHABLE = "internal_error"
R = Reason
TABLE: dict[Reason, str] = {
    R.BAD_CREDENTIALS: "invalid_api_key",
    R.MISSING_CREDENTIALS: "invalid_api_key",
    R.NOT_AUTHORIZED: "invalid_api_key",
    R.TOO_MANY_SIGNINS: "too_many_signins",
    R.UNKNOWN_OPERATION: _UNREACHABLE,
    R.INVALID_PARAMETER: "invalid_body",
    R.UNREADABLE_REQUEST: "invalid_body",
    R.UNKNOWN_COLLECTIVITY: _UNREACHABLE,
    R.NOT_A_COLLECTIVITY: _UNREACHABLE,
    R.UNKNOWN_CONTRACTOR: _UNREACHABLE,
    R.UNKNOWN_DELIVERY: _UNREACHABLE,
    R.UNKNOWN_DISTRIBUTOR: _UNREACHABLE,
    R.DISTRIBUTOR_DENIED: _UNREACHABLE,
    R.COLL_DISTRIBUTOR_DENIED: _UNREACHABLE,
    R.NOT_A_LIBRARY_OF: _UNREACHABLE,
    R.QUANTITY_NOT_ONE: _UNREACHABLE,
    R.DUPLICATED_LINE: _UNREACHABLE,
    R.UNKNOWN_OFFER: _UNREACHABLE,
    R.CANNOT_BE_SOLD: _UNREACHABLE,
    R.PRICE_HT_ABOVE_TTC: _UNREACHABLE,
    R.INVALID_PRICE: _UNREACHABLE,
    R.ORDER_EXISTS: _UNREACHABLE,
    R.ORDER_NOT_FOUND: _UNREACHABLE,
    R.UNKNOWN_LINE: "medium_not_found",
    R.LINE_USED: _UNREACHABLE,
    R.MISSING_SINCE_OR_ORDER_ID: _UNREACHABLE,
    R.MISSING_SINCE_OR_LAST: _UNREACHABLE,
    R.SINCE_AND_LAST: _UNREACHABLE,
    R.DATE_TOO_OLD: _UNREACHABLE,
    R.FIRST_CONNECTION: _UNREACHABLE,
    R.TOO_MANY_CONNECTIONS: _UNREACHABLE,
    R.NO_PLATFORM_ACCESS: _UNREACHABLE,
    R.INVALID_IP_RANGE: _UNREACHABLE,
    R.IP_RANGE_TOO_LARGE: _UNREACHABLE,
    R.MISSING_IP: _UNREACHABLE,
    R.IP_NOT_DECLARED: _UNREACHABLE,
    R.IP_MANDATORY: _UNREACHABLE,
    # A licence's own refusals are gathered into all_on_loan / nothing_left by the use case; a lone one
    # would say the same.
    R.WRONG_EAN: "medium_not_found",
    R.CANNOT_BE_LOANED: "no_copies_left",
    R.LICENCE_EXPIRED: "no_copies_left",
    R.NTA_EXHAUSTED: "no_copies_left",
    R.POOL_FULL: "all_copies_on_loan",
    R.INVALID_END: "invalid_expires_at",
    R.OVER_MAX_DURATION: "invalid_expires_at",
    R.DUPLICATED: "try_again",
    R.ALREADY_ENDED: "loan_expired",
    R.INVALID_RETURN_DATE: _UNREACHABLE,
    R.MISSING_DATE_OR_LOAN_ID: _UNREACHABLE,
    R.LOAN_NOT_IN_LINE: "loan_not_found",
    R.PATRON_ACTIVE_LIMIT: "loan_limit_reached",
    R.PATRON_DAILY_LIMIT: "daily_loan_limit_reached",
    R.PATRON_MONTHLY_LIMIT: "monthly_loan_limit_reached",
    R.ALL_ON_LOAN: "all_copies_on_loan",
    R.NOTHING_LEFT: "no_copies_left",
    R.MEDIUM_NOT_FOUND: "medium_not_found",
    R.LOAN_NOT_FOUND: "loan_not_found",
    R.LOAN_EXPIRED: "loan_expired",
    R.LOAN_RETURNED: "loan_returned",
    R.EMAIL_IN_USE: "email_in_use",
    R.BUSY: "try_again",
    R.ALREADY_ON_LOAN: "already_on_loan",
    R.COPIES_AVAILABLE: "copies_available",
    R.HOLD_LIMIT: "hold_limit_reached",
    R.HOLD_NOT_FOUND: "hold_not_found",
    R.HOLD_ENDED: "hold_ended",
    R.FORBIDDEN: _UNREACHABLE,
    R.NOT_FOUND: _UNREACHABLE,
    R.BAD_CODE: _UNREACHABLE,
    R.CODE_ALREADY_USED: _UNREACHABLE,
    R.NO_PENDING_SIGN_IN: _UNREACHABLE,
    R.INVALID_EMAIL: _UNREACHABLE,
    R.UNKNOWN_LIBRARY: _UNREACHABLE,
    R.EMAIL_TAKEN: _UNREACHABLE,
    R.INVALID_LINK: _UNREACHABLE,
    R.PASSWORD_TOO_SHORT: _UNREACHABLE,
    R.PASSWORD_TOO_LONG: _UNREACHABLE,
    R.PASSWORD_IS_EMAIL: _UNREACHABLE,
    R.INVALID_LIMIT: _UNREACHABLE,
    R.NO_IP_ENTRY: _UNREACHABLE,
    R.THROTTLED: _UNREACHABLE,
    R.UNKNOWN_ORGANISATION: _UNREACHABLE,  # an operator's command, never a v1 route's
    R.HAS_OWNER: _UNREACHABLE,
    R.END_NOT_LATER: "expires_at_not_later",
    R.RENEWAL_TOO_LONG: "loan_duration_over_maximum",
    R.LICENCE_ENDS_FIRST: "licence_ends_first",
    # The LCP status documents' reasons (a reading app's calls, never a v1 route's)
    R.LICENCE_NOT_FOUND: _UNREACHABLE,
    R.INVALID_DEVICE: _UNREACHABLE,
    R.RETURNED_BY_ANOTHER_DEVICE: _UNREACHABLE,
    # The patron space's reasons (its own pages, never a v1 route's)
    R.BAD_PATRON_CREDENTIALS: _UNREACHABLE,
    R.STREAMING_ONLY: _UNREACHABLE,
    R.NOT_STREAMING: _UNREACHABLE,
    R.NOT_ON_SITE: _UNREACHABLE,
    R.FILE_NOT_FOUND: _UNREACHABLE,
    # The distributor console's reasons (never a v1 route's)
    R.OFFER_INVALID: _UNREACHABLE,
    R.EAN_INVALID: _UNREACHABLE,
    R.OFFER_EXISTS: _UNREACHABLE,
    R.OFFER_REJECTED: _UNREACHABLE,
    R.SYNC_BUSY: _UNREACHABLE,
    R.EPUB_INVALID: _UNREACHABLE,
    R.INVALID_TIME_ZONE: _UNREACHABLE,
}
REASONS = TABLE  # the older name


class V1Error(Exception):
    """An answer of error codes; they share one HTTP status (the first code's)."""

    def __init__(self, *codes: str, message: str | None = None) -> None:
        super().__init__(", ".join(codes))
        self.codes = list(codes)
        self.message = message  # says more than the code's fixed message (which parameter)

    @property
    def status(self) -> int:
        return CODES.get(self.codes[0], (403, ""))[0]

    @property
    def messages(self) -> list[str]:
        if self.message is not None:
            return [self.message]
        return [CODES.get(c, (403, c))[1] for c in self.codes]


def of_refusal(refusal: Refused) -> V1Error:
    return V1Error(TABLE[refusal.reason])
