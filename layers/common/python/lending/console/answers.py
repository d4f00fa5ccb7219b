"""The console's one table from refusal reason to its answer (HTTP status and words), shared with the
patron space (lending.patron), which imports it without the console's pages and use cases."""

from __future__ import annotations

from collections.abc import Callable

from ..domain.refusals import Reason, Refused
from .i18n import MESSAGES

# The console's one table from refusal reason to HTTP status (400 for any other); its words are
# i18n.MESSAGES[reason], with the refusal's parameters; a reason without words of ours is named plainly.
STATUS: dict[Reason, int] = {
    Reason.THROTTLED: 429, Reason.BAD_CREDENTIALS: 401, Reason.BAD_CODE: 401, Reason.CODE_ALREADY_USED: 401,
    Reason.NO_PENDING_SIGN_IN: 401, Reason.FORBIDDEN: 403, Reason.NOT_FOUND: 404, Reason.LOAN_NOT_FOUND: 404,
    Reason.INVALID_LINK: 404, Reason.EMAIL_TAKEN: 409, Reason.LOAN_RETURNED: 409, Reason.LOAN_EXPIRED: 409,
    Reason.ALREADY_ENDED: 409, Reason.OFFER_EXISTS: 409, Reason.SYNC_BUSY: 409,
    Reason.UNKNOWN_ORGANISATION: 404, Reason.HAS_OWNER: 409,
    # the patron space's (lending.patron, which answers its reader's resources with a few of its own)
    Reason.BAD_PATRON_CREDENTIALS: 401, Reason.NOT_ON_SITE: 403, Reason.FILE_NOT_FOUND: 404,
    Reason.NOT_STREAMING: 404, Reason.STREAMING_ONLY: 404,
    # holds (the console's list and the patron space's pages) and the borrowing that leads to them
    Reason.HOLD_NOT_FOUND: 404, Reason.MEDIUM_NOT_FOUND: 404, Reason.HOLD_ENDED: 409, Reason.COPIES_AVAILABLE: 409,
    Reason.ALREADY_ON_LOAN: 409, Reason.HOLD_LIMIT: 403, Reason.POOL_FULL: 403, Reason.ALL_ON_LOAN: 403,
    Reason.NTA_EXHAUSTED: 403, Reason.BUSY: 409,
}


def words(t: Callable[..., str], r: Refused) -> str:
    """The refusal in the reader's words (every reason has some: tests/unit/test_refusals.py)."""
    key = r.reason.value
    return t(key, **r.params) if key in MESSAGES else t("refused", detail=key.replace("_", " "))
