"""The parameters of a POST to a loanUrl, read and checked all at once (every error is reported,
not just the first). Pure: no store, no clock of its own."""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from ..domain.identifiers import is_lending_system_id
from ..domain.ips import parse_address
from ..domain.licences import AccessMedium, Localization, Pool, pool_for
from ..domain.loans import fingerprint
from ..domain.values import Record
from ..services.warehouse_loans import requested_end
from ..text import secure_scheme
from . import errors as e

MAX_DAYS = 59  # "The loan end date must be within 59 days of the start of the loan."
MAX_ID = 254  # "less than 255 characters"
# "A unique alphanumeric identifier": letters and digits, plus the separators lending systems commonly
# put in their ids (a strict reading would refuse "ABC-123", which no lending system would expect).
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
# as text: `re` compiles a pattern at its first use (and caches it), not at every cold start
_DATE = r"^(\d{4})(\d{2})(\d{2})(?:T(\d{2})(\d{2})(\d{2})Z?)?$"
MEDIUMS = {"download": AccessMedium.DOWNLOAD, "streaming": AccessMedium.STREAMING}
PLACES = {"on-site": Localization.IN_SITU, "off-site": Localization.EX_SITU}


class LoanParams(Record):
    """A checked request. `errors` holds every spec name that applies (empty when it is valid)."""

    borrower_id: str
    transaction_id: str
    expire_at: datetime | None
    duration: int | None
    medium: AccessMedium
    localisation: Localization | None
    ip_address: str | None
    notify_url: str | None
    bill_drm_to: str | None
    errors: set[str]

    def __init__(self, borrower_id: str = "", transaction_id: str = "", expire_at: datetime | None = None,
                 duration: int | None = None, medium: AccessMedium = AccessMedium.DOWNLOAD,
                 localisation: Localization | None = None, ip_address: str | None = None, notify_url: str | None = None,
                 bill_drm_to: str | None = None, errors: set[str] | None = None) -> None:
        self._init(borrower_id, transaction_id, expire_at, duration, medium, localisation, ip_address, notify_url,
                   bill_drm_to, set() if errors is None else errors)

    @property
    def pool(self) -> Pool:
        """download -> downloads; streaming on-site / off-site -> that pool (domain.licences.pool_for)."""
        return pool_for(self.medium, self.localisation or Localization.EX_SITU)

    @property
    def regeneration(self) -> bool:
        """Same borrower_id + transaction_id without expire_at: the link of that loan again."""
        return self.expire_at is None

    def fingerprint(self, order_line_id: str) -> str:
        """What makes two requests for one transaction "the same" (a retry lands on the same loan)."""
        return fingerprint("warehouse", order_line_id, self.borrower_id, self.transaction_id,
                           self.expire_at.isoformat() if self.expire_at else "", self.duration or "",
                           self.medium.value, self.localisation.value if self.localisation else "",
                           self.notify_url or "", self.bill_drm_to or "")

    def requested_end(self, now: datetime, max_loan_days: int) -> datetime:
        """expire_at, or `duration` days from now, whichever ends first; neither: the publisher's
        maximum (within the 59 days the spec allows). The rule is the use case's."""
        return requested_end(self.expire_at, self.duration, now, max_loan_days, MAX_DAYS)

    def extra(self) -> dict[str, Any]:
        """Kept on the loan: the early-return notification and the DRM billing report read them."""
        out: dict[str, Any] = {"borrowerId": self.borrower_id, "transactionId": self.transaction_id,
                               "medium": _word(MEDIUMS, self.medium)}
        if self.medium is AccessMedium.STREAMING and self.localisation:
            out["localisation"] = _word(PLACES, self.localisation)
        if self.bill_drm_to:
            out["billDrmTo"] = self.bill_drm_to
        return out


def _word(table: dict[str, Any], value: Any) -> str:
    return next(k for k, v in table.items() if v is value)


def loan_id(order_line_id: str, borrower_id: str, transaction_id: str) -> str:
    """Deterministic: a retry (or a regeneration) of one transaction names the same loan, so the
    store's conditional put makes it land there. "W" + 23 base32 characters: a valid PNB loanId
    (alphanumeric, at most 24), so the distributor can endLoan it."""
    digest = hashlib.sha256("\x1f".join((order_line_id, borrower_id, transaction_id)).encode()).digest()
    return "W" + base64.b32encode(digest).decode()[:23]


def parse_expire_at(text: str) -> datetime | None:
    """YYYYMMDD (midnight UTC) or YYYYMMDDTHHMMSS (UTC; a trailing Z is accepted); None if invalid."""
    m = re.match(_DATE, text)
    if not m:
        return None
    try:
        y, mo, d, h, mi, s = (int(x) if x is not None else 0 for x in m.groups())
        return datetime(y, mo, d, h, mi, s, tzinfo=UTC)
    except ValueError:
        return None


def parse(raw: dict[str, str], now: datetime) -> LoanParams:
    """Read every parameter; collect every error that applies (those that need the licence or the
    declared IPs are added by the use case)."""
    p = LoanParams()
    err = p.errors
    p.borrower_id = _ident(raw.get("borrower_id"), e.MISSING_BORROWER_ID, e.INVALID_BORROWER_ID, err)
    p.transaction_id = _ident(raw.get("transaction_id"), e.MISSING_TRANSACTION_ID, e.INVALID_TRANSACTION_ID,
                              err)

    expire = raw.get("expire_at")
    if expire is not None and expire.strip():
        p.expire_at = parse_expire_at(expire.strip())
        if p.expire_at is None or p.expire_at <= now or p.expire_at - now > timedelta(days=MAX_DAYS):
            err.add(e.INVALID_EXPIRATION_DATE)
    elif expire is not None:
        err.add(e.INVALID_EXPIRATION_DATE)  # sent empty: neither a date nor "omitted"

    duration = raw.get("duration")
    if duration is not None:
        text = duration.strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 4 or int(text) < 1:
            err.add(e.DURATION_INVALID)
        elif int(text) > MAX_DAYS:
            err.add(e.LOAN_DURATION_OVER_MAXIMUM)
        else:
            p.duration = int(text)

    medium = raw.get("medium")
    if medium is not None:
        word = medium.strip().lower()
        if not word:
            err.add(e.MEDIUM_REQUIRED)
        elif word not in MEDIUMS:
            err.add(e.MEDIUM_INVALID)
        else:
            p.medium = MEDIUMS[word]

    place = raw.get("localisation", raw.get("localization"))  # the spec spells it both ways
    word = (place or "").strip().lower()
    if word:
        if word in PLACES:
            p.localisation = PLACES[word]
        else:
            err.add(e.LOCALISATION_INVALID)
    elif p.medium is AccessMedium.STREAMING and not ({e.MEDIUM_INVALID, e.MEDIUM_REQUIRED} & err):
        err.add(e.LOCALISATION_REQUIRED)

    ip = (raw.get("ip_address") or "").strip()
    if ip:
        if parse_address(ip) is None:
            err.add(e.IP_INVALID)
        p.ip_address = ip
    elif p.medium is AccessMedium.STREAMING and p.localisation is Localization.IN_SITU:
        err.add(e.IP_REQUIRED)

    notify = raw.get("notify_url")
    if notify is not None:
        if _url(notify.strip()):
            p.notify_url = notify.strip()
        else:
            err.add(e.NOTIFY_URL_INVALID)

    bill = raw.get("bill_drm_to")
    if bill is not None:
        if is_lending_system_id(bill.strip()):  # well formed; registered is the store's to say
            p.bill_drm_to = bill.strip()
        else:
            err.add(e.BILL_DRM_TO_INVALID)
    return p


def _ident(value: str | None, missing: str, invalid: str, err: set[str]) -> str:
    text = (value or "").strip()
    if not text:
        err.add(missing)
    elif len(text) > MAX_ID or not _ID.match(text):
        err.add(invalid)
    return text


def _url(text: str) -> bool:
    """An absolute http(s) URL, correctly encoded (no spaces or control characters)."""
    if not text or len(text) > 2048 or any(c.isspace() or ord(c) < 32 or ord(c) > 126 for c in text):
        return False
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return False
    # https only (plain http to loopback on the local stack)
    return parts.scheme in ("http", "https") and bool(parts.hostname) and secure_scheme(text)
