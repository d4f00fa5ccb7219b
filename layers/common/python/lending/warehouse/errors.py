"""The warehouse spec's error names, and how the core's refusals are worded in them.

A 400 answers every name that applies, as a JSON array, in the spec's own order. A few cases the
spec has no name for get one in its style (EXTENSIONS), so a bad value is never silently accepted."""

from __future__ import annotations

from ..domain.licences import Pool
from ..domain.refusals import Reason, Refused

INVALID_EXPIRATION_DATE = "invalid_expiration_date"
MISSING_BORROWER_ID = "missing_borrower_id"
MISSING_TRANSACTION_ID = "missing_transaction_id"
NO_LOAN_AVAILABLE = "no_loan_available"
MAXIMUM_LOANS_QTY_REACHED = "maximum_loans_qty_reached"
MEDIUM_REQUIRED = "medium_parameter_required"
MEDIUM_INVALID = "medium_parameter_invalid"
LOCALISATION_REQUIRED = "localisation_parameter_required"
LOCALISATION_INVALID = "localisation_parameter_invalid"
IP_REQUIRED = "ip_address_parameter_required"
IP_INVALID = "ip_address_parameter_invalid"
LOAN_TERM_LIMIT_REACHED = "loan_term_limit_reached"
LOAN_DURATION_OVER_MAXIMUM = "loan_duration_over_maximum"
MAX_DOWNLOADS = "maximum_simultaneous_downloads_reached"
MAX_ONSITE = "maximum_simultaneous_onsite_streamings_reached"
MAX_OFFSITE = "maximum_simultaneous_offsite_streamings_reached"

# Not in the spec: values it constrains ("alphanumeric, under 255 characters", "a URL correctly
# encoded", ...) without naming the error.
INVALID_BORROWER_ID = "invalid_borrower_id"
INVALID_TRANSACTION_ID = "invalid_transaction_id"
DURATION_INVALID = "duration_parameter_invalid"
NOTIFY_URL_INVALID = "notify_url_parameter_invalid"
BILL_DRM_TO_INVALID = "bill_drm_to_parameter_invalid"
INVALID_REQUEST_BODY = "invalid_request_body"
PASSPHRASE_INVALID = "passphrase_parameter_invalid"  # Readium LCP: 1 to 256 characters, hint at most 200
# A parameter that is not valid text (lone surrogate, control character): its own invalid name.
INVALID_TEXT = {"borrower_id": INVALID_BORROWER_ID, "transaction_id": INVALID_TRANSACTION_ID,
                "expire_at": INVALID_EXPIRATION_DATE, "duration": DURATION_INVALID, "medium": MEDIUM_INVALID,
                "localisation": LOCALISATION_INVALID, "localization": LOCALISATION_INVALID,
                "ip_address": IP_INVALID, "notify_url": NOTIFY_URL_INVALID, "bill_drm_to": BILL_DRM_TO_INVALID}

SPEC_ORDER = (
    INVALID_EXPIRATION_DATE, MISSING_BORROWER_ID, MISSING_TRANSACTION_ID, NO_LOAN_AVAILABLE,
    MAXIMUM_LOANS_QTY_REACHED, MEDIUM_REQUIRED, MEDIUM_INVALID, LOCALISATION_REQUIRED, LOCALISATION_INVALID,
    IP_REQUIRED, IP_INVALID, LOAN_TERM_LIMIT_REACHED, LOAN_DURATION_OVER_MAXIMUM, MAX_DOWNLOADS, MAX_ONSITE,
    MAX_OFFSITE,
)
EXTENSIONS = (INVALID_BORROWER_ID, INVALID_TRANSACTION_ID, DURATION_INVALID, NOTIFY_URL_INVALID,
              BILL_DRM_TO_INVALID, INVALID_REQUEST_BODY, PASSPHRASE_INVALID)
ALL = SPEC_ORDER + EXTENSIONS

POOL_FULL = {Pool.DOWNLOAD: MAX_DOWNLOADS, Pool.ONSITE: MAX_ONSITE, Pool.OFFSITE: MAX_OFFSITE}

# The warehouse door's one table: every refusal reason of the core -> the spec's name. POOL_FULL is
# the full pool's own name (the refusal names the pool). The spec has no word for most reasons: its
# `no_loan_available` ("the link is not valid or the book is already on loan") answers them.
R = Reason
TABLE: dict[Reason, str] = {
    **{reason: NO_LOAN_AVAILABLE for reason in Reason},
    # The lending URL carries no password (its token is the credential): a sign-in refusal never reaches
    # it; said as a bad credential would be.
    R.TOO_MANY_SIGNINS: NO_LOAN_AVAILABLE,
    R.NTA_EXHAUSTED: MAXIMUM_LOANS_QTY_REACHED,
    R.LICENCE_EXPIRED: LOAN_TERM_LIMIT_REACHED,
    R.OVER_MAX_DURATION: LOAN_DURATION_OVER_MAXIMUM,
    R.INVALID_END: INVALID_EXPIRATION_DATE,
    R.MISSING_IP: IP_REQUIRED,
    R.IP_NOT_DECLARED: IP_INVALID,
    R.POOL_FULL: MAX_DOWNLOADS,  # the download pool's name; for_refusal names the refusal's own pool
}


def for_refusal(refusal: Refused) -> str:
    """The spec's name for a core refusal. A pool of size 0 ("cannot be loaned" for that medium) is
    said by the use case (services/warehouse_loans.licence_refusals) as that pool full."""
    if refusal.reason is R.POOL_FULL:
        return POOL_FULL[Pool(refusal.params["pool"])]
    return TABLE[refusal.reason]


def for_reason(reason: str, pool: Pool) -> str:
    """The older spelling of `for_refusal`, by a reason's value and the pool asked for."""
    if reason == R.POOL_FULL:
        return POOL_FULL[pool]
    return TABLE.get(Reason(reason), NO_LOAN_AVAILABLE) if reason in Reason else NO_LOAN_AVAILABLE


def ordered(names: set[str] | list[str]) -> list[str]:
    """Unique names, in the spec's order (extensions after)."""
    found = set(names)
    return [n for n in ALL if n in found]
