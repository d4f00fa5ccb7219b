"""The LCP status door's one table: every refusal reason -> a Problem Details answer (RFC 7807) with
the error types the LSD spec names (registration, return, renew) or `server`.

A type of None is the interaction's own (a loan that has ended refuses a registration as `registration`
and a renewal as `renew`). Reasons a reading app's calls never meet (orders, addresses, patrons...) are
written all the same, as the 500 they would be, so none falls through to a default."""

from __future__ import annotations

from typing import Any

from ..domain.refusals import Reason, Refused

LSD_ERRORS = "http://readium.org/license-status-document/error/"
SERVER = "server"
PROBLEM_TYPE = "application/problem+json"
# The interactions and the error type of each.
KIND = {"status": SERVER, "licence": SERVER, "register": "registration", "return": "return", "renew": "renew"}

_UNREACHABLE = (500, SERVER, "Internal error.")
R = Reason
TABLE: dict[Reason, tuple[int, str | None, str]] = {
    **{reason: _UNREACHABLE for reason in Reason},
    R.INVALID_PARAMETER: (400, None, "{detail}"),
    R.LICENCE_NOT_FOUND: (404, SERVER, "This licence does not exist."),
    R.INVALID_DEVICE: (400, None, "The device id and name are required (at most 255 printable characters)."),
    R.RETURNED_BY_ANOTHER_DEVICE: (400, "return", "The publication was already returned from another device."),
    R.ALREADY_ENDED: (400, None, "The loan has ended."),
    # The renewal rules (services.renewals), as PNB extendLoan and v1 PUT meet them
    R.CANNOT_BE_LOANED: (403, "renew", "The library's licence no longer lends this publication."),
    R.END_NOT_LATER: (400, "renew", "The new end must come after the current end ({current})."),
    R.RENEWAL_TOO_LONG: (403, "renew", "The loan would last longer than the publisher allows "
                                       "({days} days from its start)."),
    R.LICENCE_ENDS_FIRST: (403, "renew", "The loan would end after the library's licence ({end})."),
}


def problem(refusal: Refused, interaction: str) -> tuple[int, dict[str, Any]]:
    """(HTTP status, the Problem Details body) for `refusal` met in `interaction` (a KIND key)."""
    status, kind, title = TABLE[refusal.reason]
    return status, {"type": LSD_ERRORS + (kind or KIND[interaction]), "title": title.format(**refusal.params),
                    "status": status}
