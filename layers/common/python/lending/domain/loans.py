"""Loans: ACTIVE, then RETURNED (early, by someone) or EXPIRED (its end came). Never deleted."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from .licences import Licence, Pool
from .limits import LCP_HINT_MAX as LCP_HINT_MAX  # written in domain/limits.py: the doors read them there
from .limits import LCP_PASSPHRASE_MAX as LCP_PASSPHRASE_MAX
from .refusals import Reason, Refused
from .values import Record, Value, replace

IDEMPOTENCY_WINDOW = timedelta(hours=1)
CLOCK_SKEW = timedelta(minutes=5)  # how far ahead of ours a caller's clock may run


# A Readium LCP loan: the mark kept in its `extra["protection"]` (its link never serves the file in clear)
# and its licence's media type; here, not in services.lcp, so that the doors read them without loading
# LCP's code and crypto (tests/unit/test_lcp*.py keep them equal to lcp.licence's).
LCP_PROTECTION = "LCP"
LCP_LICENCE_TYPE = "application/vnd.readium.lcp.license.v1.0+json"


class LoanState(StrEnum):
    ACTIVE = "ACTIVE"
    RETURNED = "RETURNED"
    EXPIRED = "EXPIRED"


class Loan(Record):
    gln_coll: str
    loan_id: str
    order_line_id: str
    ean13: str
    gln_distributor: str
    pool: Pool
    created_at: datetime
    end_date: datetime
    state: LoanState
    returned_at: datetime | None
    fingerprint: str
    answer: dict[str, Any]  # older records only: answers are rendered from the loan
    callback_url: str | None
    origin: str  # pnb | v1 | warehouse
    extra: dict[str, Any]  # door-specific: memberId, borrowerId, ...

    def __init__(self, gln_coll: str, loan_id: str, order_line_id: str, ean13: str, gln_distributor: str, pool: Pool,
                 created_at: datetime, end_date: datetime, state: LoanState = LoanState.ACTIVE,
                 returned_at: datetime | None = None, fingerprint: str = "", answer: dict[str, Any] | None = None,
                 callback_url: str | None = None, origin: str = "pnb", extra: dict[str, Any] | None = None) -> None:
        self._init(gln_coll, loan_id, order_line_id, ean13, gln_distributor, pool, created_at, end_date, state,
                   returned_at, fingerprint, {} if answer is None else answer, callback_url, origin,
                   {} if extra is None else extra)

    def active(self, now: datetime) -> bool:
        return self.state is LoanState.ACTIVE and self.end_date > now

    def at(self, now: datetime) -> Loan:
        """The loan as it stands at `now`: an active loan past its end is EXPIRED, though nothing was
        written when it ended (its line stopped counting it: docs/cost.md)."""
        if self.state is LoanState.ACTIVE and self.end_date <= now:
            return replace(self, state=LoanState.EXPIRED)
        return self

    def replayable(self, fingerprint: str, now: datetime) -> bool:
        """Same request within the hour: answer it again, take nothing (loanBook/consultBook rule)."""
        return WITHIN_THE_HOUR.allows(self, fingerprint, now)


class LoanView(Record):
    """A loan as the v1 door and the patron pages show it: with when its file was downloaded and when
    its link was emailed (ISO dates, store/deliveries keeps them on the loan)."""

    loan: Loan
    downloads: list[str]
    shippings: list[str]

    def __init__(self, loan: Loan, downloads: list[str] | None = None, shippings: list[str] | None = None) -> None:
        self._init(loan, [] if downloads is None else downloads, [] if shippings is None else shippings)

    def at(self, now: datetime) -> LoanView:
        """The view with its loan as it stands at `now` (Loan.at)."""
        return replace(self, loan=self.loan.at(now))


class Replay(Value):
    """The one replay rule: a lending request whose key (the loan id each door derives from the caller's
    own key) names an existing loan gets that loan back, and takes nothing, when its fingerprint (the
    parameters that make two requests "identical") is the loan's and it comes within `window` of the
    loan (None: while the loan is active). Otherwise the key is taken: DUPLICATED.

    Each door sets the window from its own contract:
    - PNB loanBook/consultBook (`WITHIN_THE_HOUR`): the spec replays "an identical request within the
      hour"; after it, the same loanId is a new request and is DUPLICATED, even while the loan runs.
    - warehouse loanUrl (`WHILE_ACTIVE`): the key is the lending system's transaction_id, which it
      retries at will; the same transaction gets the same loan (its link) for as long as the loan runs.
    - library API v1 (`WHILE_ACTIVE`): the loan id is drawn fresh per request, so this rule never
      replays; v1's idempotency is by member and medium (the patron's active loan of it, returned as
      is, in services/patron_loans.create), which no fingerprint of a single request could express."""

    window: timedelta | None

    def __init__(self, window: timedelta | None) -> None:
        self._init(window)

    def allows(self, loan: Loan, fingerprint: str, now: datetime) -> bool:
        if loan.fingerprint != fingerprint:
            return False
        if self.window is None:
            return loan.active(now)
        return now - loan.created_at <= self.window


WITHIN_THE_HOUR = Replay(IDEMPOTENCY_WINDOW)
WHILE_ACTIVE = Replay(None)


def fingerprint(*parts: object) -> str:
    """Stable digest of the parameters that make two requests "identical"."""
    return hashlib.sha256(json.dumps([str(p) for p in parts]).encode()).hexdigest()[:32]


def return_date(requested: datetime | None, created_at: datetime, now: datetime) -> datetime:
    """When an early return took place: the caller's date (endLoan's `date`) if it lies between the loan's
    start and now, a date a little ahead of our clock being taken as now; otherwise INVALID_ARGUMENTS."""
    if requested is None:
        return now
    if requested < created_at or requested > now + CLOCK_SKEW:
        raise Refused(Reason.INVALID_RETURN_DATE)
    return min(requested, now)


def return_date_unread(requested: datetime | None, now: datetime) -> datetime | None:
    """`return_date` before the loan is read: the date it gives when `requested` is not too far ahead,
    else None (refused, but only after the loan's own checks: the caller reads the loan). The rule
    against the loan's start (`created_at <= requested`) is left to whoever holds the loan (PNB endLoan:
    the return's write is conditioned on it)."""
    if requested is None:
        return now
    return None if requested > now + CLOCK_SKEW else min(requested, now)


class Drift(Value):
    """A counter of a licence that its loan records do not explain."""

    order_line_id: str
    what: str  # "free[dl]", "free[on]", "free[off]" or "nta"
    expected: int  # what the loan records say
    found: int  # what the counter holds

    def __init__(self, order_line_id: str, what: str, expected: int, found: int) -> None:
        self._init(order_line_id, what, expected, found)


def drifts(licence: Licence, loans: list[Loan], reserved: int | Mapping[Pool, int] = 0,
           now: datetime | None = None) -> list[Drift]:
    """The licence's counters against its loans and holds: each pool's free places are its size less its
    active loans and its places reserved for holds (`reserved`: the holds RESERVED on it, per pool; a
    number is download reservations), `held` is the number of reservations (and `held[on]`, `held[off]`
    those of the streaming pools), NTA is the total less every loan ever made (an ended loan still spent
    its access; a reservation spends none until it is borrowed). With `now`, the licence's counts are
    those at `now` (a lapsed loan takes no place) and so are the loans'."""
    per_pool = {Pool.DOWNLOAD: reserved} if isinstance(reserved, int) else dict(reserved)
    out = []
    total = sum(per_pool.values())
    if licence.held != total:
        out.append(Drift(licence.order_line_id, "held", total, licence.held))
    for pool in (Pool.ONSITE, Pool.OFFSITE):
        if licence.held_streams.get(pool, 0) != per_pool.get(pool, 0):
            out.append(Drift(licence.order_line_id, f"held[{pool.value}]", per_pool.get(pool, 0),
                             licence.held_streams.get(pool, 0)))
    for pool in Pool:
        active = sum(1 for x in loans if x.pool is pool and (x.active(now) if now else x.state is LoanState.ACTIVE))
        active += per_pool.get(pool, 0)
        if licence.free[pool] != licence.sizes[pool] - active:
            out.append(Drift(licence.order_line_id, f"free[{pool.value}]", licence.sizes[pool] - active,
                             licence.free[pool]))
    if licence.nta != licence.nta_total - len(loans):
        out.append(Drift(licence.order_line_id, "nta", licence.nta_total - len(loans), licence.nta))
    return out
