"""The refusal vocabulary: why a rule says no, with no protocol text.

A rule raises `Refused(Reason.X, **params)`; the parameters are the facts a door may need to word it
(an orderLineId, a GLN, a pool). Each door words every reason exactly once, in its own table:
PNB (status + the spec's text) in `pnb/refusals.py`, library API v1 (HTTP status + error code) in
`v1/errors.py`, warehouse (error name) in `warehouse/errors.py`, LCP status documents (Problem Details
type and status) in `lsd/errors.py`, console and patron space (HTTP status + words) in
`console/answers.py` (STATUS, words) and `console/i18n.py`. `tests/unit/test_refusals.py` walks
every reason through every table, so adding a reason here without wording it in a door fails a test.

To add a reason: a member below, its parameters in PARAMS, a line in each door's table."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    # Who is calling
    BAD_CREDENTIALS = "bad_credentials"
    MISSING_CREDENTIALS = "missing_credentials"  # none at all (the PNB REST binding's 401)
    NOT_AUTHORIZED = "not_authorized"  # authenticated, but not a role this operation serves
    TOO_MANY_SIGNINS = "too_many_signins"  # failed sign-ins of the account or the address: wait for the window's end
    UNKNOWN_OPERATION = "unknown_operation"
    INVALID_PARAMETER = "invalid_parameter"  # the request contract's own words in `detail`
    UNREADABLE_REQUEST = "unreadable_request"  # no parameters can be read at all (body, names): `detail` says why
    # Parties of an order or a loan
    UNKNOWN_COLLECTIVITY = "unknown_collectivity"
    NOT_A_COLLECTIVITY = "not_a_collectivity"
    UNKNOWN_CONTRACTOR = "unknown_contractor"
    UNKNOWN_DELIVERY = "unknown_delivery"
    UNKNOWN_DISTRIBUTOR = "unknown_distributor"
    DISTRIBUTOR_DENIED = "distributor_denied"  # the reseller may not order from this distributor
    COLL_DISTRIBUTOR_DENIED = "coll_distributor_denied"  # the collectivity may not
    NOT_A_LIBRARY_OF = "not_a_library_of"  # loanerColl is not one of the collectivity's libraries
    # Orders and offers
    QUANTITY_NOT_ONE = "quantity_not_one"
    DUPLICATED_LINE = "duplicated_line"
    UNKNOWN_OFFER = "unknown_offer"
    CANNOT_BE_SOLD = "cannot_be_sold"
    PRICE_HT_ABOVE_TTC = "price_ht_above_ttc"
    INVALID_PRICE = "invalid_price"
    ORDER_EXISTS = "order_exists"
    ORDER_NOT_FOUND = "order_not_found"
    UNKNOWN_LINE = "unknown_line"
    LINE_USED = "line_used"  # a loan was made from the line: it cannot be cancelled
    MISSING_SINCE_OR_ORDER_ID = "missing_since_or_order_id"
    # Catalogue update files
    MISSING_SINCE_OR_LAST = "missing_since_or_last"
    SINCE_AND_LAST = "since_and_last"
    DATE_TOO_OLD = "date_too_old"
    FIRST_CONNECTION = "first_connection"
    TOO_MANY_CONNECTIONS = "too_many_connections"
    NO_PLATFORM_ACCESS = "no_platform_access"
    # Reader addresses
    INVALID_IP_RANGE = "invalid_ip_range"
    IP_RANGE_TOO_LARGE = "ip_range_too_large"
    MISSING_IP = "missing_ip"  # IN_SITU without an address
    IP_NOT_DECLARED = "ip_not_declared"
    IP_MANDATORY = "ip_mandatory"  # consultBook always needs one
    # A licence lending
    WRONG_EAN = "wrong_ean"
    CANNOT_BE_LOANED = "cannot_be_loaned"  # cancelled, not yet available, or no place of this medium
    LICENCE_EXPIRED = "licence_expired"
    NTA_EXHAUSTED = "nta_exhausted"
    POOL_FULL = "pool_full"
    INVALID_END = "invalid_end"
    OVER_MAX_DURATION = "over_max_duration"
    DUPLICATED = "duplicated"  # the loanId is taken by another request
    # Ending loans
    ALREADY_ENDED = "already_ended"
    INVALID_RETURN_DATE = "invalid_return_date"
    MISSING_DATE_OR_LOAN_ID = "missing_date_or_loan_id"
    LOAN_NOT_IN_LINE = "loan_not_in_line"
    # Renewing loans (extendLoan, v1 PUT, LCP renew)
    END_NOT_LATER = "end_not_later"  # the new end is not after the current one
    RENEWAL_TOO_LONG = "renewal_too_long"  # the whole loan would pass the offer's maximum loan days
    LICENCE_ENDS_FIRST = "licence_ends_first"
    # A library's patrons (v1)
    PATRON_ACTIVE_LIMIT = "patron_active_limit"
    PATRON_DAILY_LIMIT = "patron_daily_limit"
    PATRON_MONTHLY_LIMIT = "patron_monthly_limit"
    ALL_ON_LOAN = "all_on_loan"  # every licence busy: a place may free up
    NOTHING_LEFT = "nothing_left"  # no licence will ever lend it again
    MEDIUM_NOT_FOUND = "medium_not_found"
    LOAN_NOT_FOUND = "loan_not_found"
    LOAN_EXPIRED = "loan_expired"
    LOAN_RETURNED = "loan_returned"
    EMAIL_IN_USE = "email_in_use"
    BUSY = "busy"  # too many simultaneous requests for one patron: try again
    # Holds (a patron's place in a title's queue)
    ALREADY_ON_LOAN = "already_on_loan"  # the patron borrows this title already
    COPIES_AVAILABLE = "copies_available"  # a place is free: borrow it rather than wait
    HOLD_LIMIT = "hold_limit"  # the patron's open holds reach the library's limit
    HOLD_NOT_FOUND = "hold_not_found"
    HOLD_ENDED = "hold_ended"  # cancelled, borrowed or lapsed: nothing left to cancel
    # Staff of the web console (sign-in with MFA, settings)
    FORBIDDEN = "forbidden"  # a staff member acting beyond their role or collectivity
    NOT_FOUND = "not_found"  # a console record (patron, staff member) absent, or another tenant's
    BAD_CODE = "bad_code"
    CODE_ALREADY_USED = "code_already_used"  # a TOTP code is good once
    NO_PENDING_SIGN_IN = "no_pending_sign_in"  # the code step without the password step
    INVALID_EMAIL = "invalid_email"
    UNKNOWN_LIBRARY = "unknown_library"
    EMAIL_TAKEN = "email_taken"
    INVALID_LINK = "invalid_link"  # an invitation or reset link unknown, used or past
    PASSWORD_TOO_SHORT = "password_too_short"
    PASSWORD_TOO_LONG = "password_too_long"
    PASSWORD_IS_EMAIL = "password_is_email"
    INVALID_LIMIT = "invalid_limit"
    NO_IP_ENTRY = "invalid_ip"  # a declaration with no entry
    THROTTLED = "throttled"  # too many failed sign-ins: wait the window out
    # The operator's first console account of an organisation (services.staff.invite_owner)
    UNKNOWN_ORGANISATION = "unknown_organisation"  # no collectivity, distributor or reseller has this GLN
    HAS_OWNER = "has_owner"  # the organisation has its admin already: they invite the others
    # Readium LCP licence status documents (LSD: register, return, renew)
    LICENCE_NOT_FOUND = "licence_not_found"
    INVALID_DEVICE = "invalid_device"  # the device's id and name are required, printable, at most 255
    RETURNED_BY_ANOTHER_DEVICE = "returned_by_another_device"
    # The patron space (sign-in with library, identifier and API key; its online reader). FORBIDDEN,
    # NOT_FOUND, INVALID_LINK (a resource's signature), LOAN_RETURNED, LOAN_EXPIRED and THROTTLED serve too.
    BAD_PATRON_CREDENTIALS = "bad_patron_credentials"  # wrong library, identifier or password
    STREAMING_ONLY = "streaming_only"  # a streaming loan has no file to download
    NOT_STREAMING = "not_streaming"  # a download loan is not read online
    NOT_ON_SITE = "not_on_site"  # an on-site loan read from outside the library's declared addresses
    FILE_NOT_FOUND = "file_not_found"  # the book's EPUB is not in the hub
    # The distributor console's (offers through the ONIX path, EPUB upload, summary subscription)
    OFFER_INVALID = "offer_invalid"  # the form's own shape; the rule broken in `detail`
    EAN_INVALID = "ean_invalid"
    OFFER_EXISTS = "offer_exists"  # creating an EAN the distributor already offers
    OFFER_REJECTED = "offer_rejected"  # the ONIX reader's rejection, in its words
    SYNC_BUSY = "sync_busy"  # the distributor's catalogue sync holds the lease just now
    EPUB_INVALID = "epub_invalid"
    INVALID_TIME_ZONE = "tz_invalid"


# The facts each reason carries (names a door's wording may use); a reason not listed carries none.
PARAMS: dict[Reason, tuple[str, ...]] = {
    Reason.TOO_MANY_SIGNINS: ("retry_after",),
    Reason.UNKNOWN_OPERATION: ("service",),
    Reason.INVALID_PARAMETER: ("detail",),
    Reason.UNREADABLE_REQUEST: ("detail",),
    Reason.UNKNOWN_COLLECTIVITY: ("gln",),
    Reason.NOT_A_COLLECTIVITY: ("gln",),
    Reason.UNKNOWN_CONTRACTOR: ("gln",),
    Reason.UNKNOWN_DELIVERY: ("gln",),
    Reason.COLL_DISTRIBUTOR_DENIED: ("gln_coll", "gln_distributor"),
    Reason.NOT_A_LIBRARY_OF: ("loaner", "gln_coll"),
    Reason.DUPLICATED_LINE: ("ean13", "gln_distributor"),
    Reason.UNKNOWN_OFFER: ("ean13", "gln_distributor"),
    Reason.ORDER_EXISTS: ("gln_reseller", "order_id"),
    Reason.ORDER_NOT_FOUND: ("gln_reseller", "order_id"),
    Reason.UNKNOWN_LINE: ("order_line_id",),
    Reason.LINE_USED: ("order_line_id",),
    Reason.DATE_TOO_OLD: ("days",),
    Reason.INVALID_IP_RANGE: ("text",),
    Reason.IP_RANGE_TOO_LARGE: ("text",),
    Reason.MISSING_IP: ("gln_coll",),
    Reason.IP_NOT_DECLARED: ("gln_coll", "ip"),
    Reason.WRONG_EAN: ("gln_coll", "ean13", "order_line_id"),
    Reason.POOL_FULL: ("pool",),
    Reason.DUPLICATED: ("gln_coll", "loan_id"),
    Reason.ALREADY_ENDED: ("order_line_id", "loan_id"),
    Reason.LOAN_NOT_IN_LINE: ("order_line_id", "loan_id"),
    Reason.INVALID_LIMIT: ("name",),
    Reason.THROTTLED: ("minutes",),
    Reason.UNKNOWN_ORGANISATION: ("gln",),
    Reason.HAS_OWNER: ("gln", "email"),
    Reason.END_NOT_LATER: ("current",),
    Reason.RENEWAL_TOO_LONG: ("days",),
    Reason.LICENCE_ENDS_FIRST: ("end",),
    Reason.OFFER_INVALID: ("detail",),
    Reason.EAN_INVALID: ("ean13",),
    Reason.OFFER_EXISTS: ("ean13",),
    Reason.OFFER_REJECTED: ("detail",),
    Reason.INVALID_TIME_ZONE: ("zone",),
}


class Refused(Exception):
    """A rule said no, and why. Doors word it (never this class): see the module's docstring."""

    def __init__(self, reason: Reason, **params: object) -> None:
        expected = PARAMS.get(reason, ())
        if set(params) != set(expected):  # a wording would fail later, far from the rule: fail here
            raise TypeError(f"{reason.value} takes {expected}, got {tuple(params)}")
        super().__init__(reason.value)
        self.reason = reason
        self.params: dict[str, str] = {k: str(v) for k, v in params.items()}

    def __repr__(self) -> str:
        return f"Refused({self.reason.value}, {self.params})"
