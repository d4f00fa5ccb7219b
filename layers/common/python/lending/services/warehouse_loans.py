"""Warehouse lending: lend through a licence's loanUrl, return through the loan's fulfillment link.

The loanUrl names one order line and carries its secret lending token: it lends only from that
licence, on behalf of the collectivity that owns it, and stops working once the line is cancelled.
Lending itself (conditions, pools, NTA, races) is `services.lending.lend`. The warehouse door reads
the parameters (every error at once, in the spec's names), calls these use cases and words their
refusals in its table (warehouse/errors.py)."""

from __future__ import annotations

import hmac
from datetime import datetime, timedelta
from typing import Any

from ..domain.identifiers import is_order_line_id
from ..domain.licences import Licence, Localization, Pool, loan_end, loan_refusals
from ..domain.loans import WHILE_ACTIVE, Loan, LoanState
from ..domain.refusals import Reason, Refused
from ..domain.values import Record, Value
from ..store import licences as line_store
from ..store import loans as loan_store
from . import auth, lcp, lending_systems
from . import lending as core
from .clock import now as clock_now
from .context import Ctx
from .links import sign_loan_link, verify_loan_link

ORIGIN = lending_systems.WAREHOUSE
_NO_TOKEN = "-" * 32  # compared against when the line has none, so every refusal costs the same


def requested_end(expire_at: datetime | None, duration: int | None, now: datetime, max_loan_days: int,
                  max_days: int) -> datetime:
    """expire_at, or `duration` days from now, whichever ends first; neither: the publisher's maximum
    (within the `max_days` the spec allows)."""
    by_duration = now + timedelta(days=duration) if duration else None
    ends = [x for x in (expire_at, by_duration) if x]
    return min(ends) if ends else now + timedelta(days=min(max_loan_days, max_days))


class UrlLoan(Value):
    """A POST to a loanUrl, as the door read it."""

    order_line_id: str
    token: str
    pool: Pool
    loan_id: str | None  # None: the caller's borrower or transaction id is unusable (nothing to replay)
    fingerprint: str  # what makes two requests for one transaction "the same"
    regeneration: bool  # the same transaction without expire_at: that loan's link again
    expire_at: datetime | None
    duration: int | None
    max_days: int
    marks: dict[str, Any]  # kept on the loan: the return notification and the DRM billing read them
    notify_url: str | None
    ip_address: str | None  # a well-formed address, checked against the declared ranges on site
    passphrase: lcp.Passphrase | None  # Readium LCP: the link answers the loan's licence
    invalid: bool  # the door found parameters wrong: refusals are gathered, nothing is lent
    end_invalid: bool  # the door refused the end or duration itself: not checked again here

    def __init__(self, order_line_id: str, token: str, pool: Pool, loan_id: str | None, fingerprint: str,
                 regeneration: bool, expire_at: datetime | None, duration: int | None, max_days: int,
                 marks: dict[str, Any], notify_url: str | None = None, ip_address: str | None = None,
                 passphrase: lcp.Passphrase | None = None, invalid: bool = False, end_invalid: bool = False) -> None:
        self._init(order_line_id, token, pool, loan_id, fingerprint, regeneration, expire_at, duration, max_days, marks,
                   notify_url, ip_address, passphrase, invalid, end_invalid)


class UrlLoanResult(Record):
    """A loan (new, or the same transaction's again), or every reason it is refused."""

    loan: Loan | None
    url: str  # the loan's fulfillment link
    replayed: bool  # an existing loan's link again: nothing taken
    refusals: list[Refused]
    link_refused: bool  # the loanUrl itself is refused: nothing else is said

    def __init__(self, loan: Loan | None = None, url: str = "", replayed: bool = False,
                 refusals: list[Refused] | None = None, link_refused: bool = False) -> None:
        self._init(loan, url, replayed, [] if refusals is None else refusals, link_refused)


def licence_of_url(order_line_id: str, token: str) -> Licence | None:
    """The licence a loanUrl names, or None. An unknown line, a token that is not its own and a revoked
    (cancelled) line are alike, so the URL reveals nothing."""
    item = line_store.get_line(order_line_id) if is_order_line_id(order_line_id) else None
    expected = (item or {}).get("lendingToken")
    genuine = hmac.compare_digest(token.encode(), str(expected or _NO_TOKEN).encode()) and bool(expected)
    if item is None or not genuine or not line_store.is_licence(item) or item.get("status") != "OK":
        return None
    return line_store.licence(item, clock_now())


def lending_system_known(system_id: str) -> bool:
    """bill_drm_to must name a lending system the platform registered."""
    return lending_systems.known(system_id)


def _link_refused(req: UrlLoan) -> UrlLoanResult:
    return UrlLoanResult(refusals=[Refused(Reason.UNKNOWN_LINE, order_line_id=req.order_line_id)],
                         link_refused=True)


def lend_by_url(ctx: Ctx, req: UrlLoan) -> UrlLoanResult:
    licence = licence_of_url(req.order_line_id, req.token)
    if licence is None:
        return _link_refused(req)
    coll = auth.account(licence.gln_coll)
    if coll is None:
        return _link_refused(req)
    refusals: list[Refused] = []
    if req.pool is Pool.ONSITE and req.ip_address:
        try:
            core.check_in_situ(coll, Localization.IN_SITU, req.ip_address)
        except Refused as r:
            refusals.append(r)

    existing = loan_store.get(coll.gln, req.loan_id) if req.loan_id else None
    if existing is not None:
        if req.invalid or refusals:
            return UrlLoanResult(refusals=refusals)
        # The same transaction again: without expire_at, the link of that loan (regeneration); with
        # the very same parameters, a retry. Either way nothing is taken. Otherwise it is on loan.
        again = WHILE_ACTIVE.allows(existing, req.fingerprint, ctx.now)
        if again or (req.regeneration and existing.active(ctx.now)):
            return _link(ctx, existing, replayed=True)
        return UrlLoanResult(refusals=[Refused(Reason.DUPLICATED, gln_coll=coll.gln, loan_id=existing.loan_id)])

    refusals += licence_refusals(ctx, licence, req)
    # A full pool alone is decided by the store's condition (which may first reclaim overdue loans);
    # alongside other refusals, or when the licence has no such place at all, it is reported as read.
    others = any(r.reason is not Reason.POOL_FULL for r in refusals)
    if req.invalid or others or (refusals and licence.sizes[req.pool] == 0):
        return UrlLoanResult(refusals=refusals)
    assert req.loan_id is not None  # the door found the ids usable (not invalid)
    marks = dict(req.marks)
    if req.passphrase is not None and lcp.is_protected(licence.ean13):
        marks["protection"] = lcp.PROTECTION
    request = core.LoanRequest(
        coll=coll, order_line_id=req.order_line_id, loan_id=req.loan_id, ean13=licence.ean13, pool=req.pool,
        requested_end=_end(ctx, req, licence), fingerprint=req.fingerprint, callback_url=req.notify_url,
        origin=ORIGIN, extra=marks, replay=WHILE_ACTIVE)
    try:
        loan, replayed = core.lend(ctx, request, licence=licence)
    except Refused as r:
        return UrlLoanResult(refusals=[r])
    if req.passphrase is not None and loan.extra.get("protection") == lcp.PROTECTION:
        lcp.issue(ctx, loan, req.passphrase)
    return _link(ctx, loan, replayed=replayed)


def _end(ctx: Ctx, req: UrlLoan, licence: Licence) -> datetime:
    return requested_end(req.expire_at, req.duration, ctx.now, licence.max_loan_days, req.max_days)


def licence_refusals(ctx: Ctx, licence: Licence, req: UrlLoan) -> list[Refused]:
    """Every reason the licence itself refuses this loan (expired, accesses spent, pool full, loan
    longer than the publisher allows). "Cannot be loaned" is said as the spec has it: a medium with no
    place at all on this licence is that pool full; a licence not yet available, no loan available."""
    out: list[Refused] = []
    for r in loan_refusals(licence, req.pool, ctx.now):
        if r.reason is Reason.CANNOT_BE_LOANED:
            if licence.sizes[req.pool] == 0 and all(x.reason is not Reason.POOL_FULL for x in out):
                out.append(Refused(Reason.POOL_FULL, pool=req.pool))
            if ctx.now < licence.dmd_date:
                out.append(r)
        elif all((x.reason, x.params) != (r.reason, r.params) for x in out):
            out.append(r)
    if not req.end_invalid:
        try:
            loan_end(licence, ctx.now, _end(ctx, req, licence))
        except Refused as r:
            out.append(r)
    return out


def _link(ctx: Ctx, loan: Loan, replayed: bool) -> UrlLoanResult:
    url = sign_loan_link(ctx.base_url, loan.gln_coll, loan.loan_id, loan.created_at, follows_loan=True)  # renewals too
    return UrlLoanResult(loan=loan, url=url, replayed=replayed)


class LinkReturn(Record):
    """The return through a fulfillment link: the loan returned (again: `replayed`), or why not."""

    loan: Loan | None
    replayed: bool
    refusal: Refused | None

    def __init__(self, loan: Loan | None = None, replayed: bool = False, refusal: Refused | None = None) -> None:
        self._init(loan, replayed, refusal)


def return_by_link(ctx: Ctx, token: str) -> LinkReturn:
    """The reader gives the book back through its fulfillment link: the place is freed and the
    lending system's notify_url told (the core writes the event with the return). Idempotent: a
    loan already returned answers the same; an expired one or a bad link is refused (INVALID_LINK: the
    link itself; LOAN_NOT_FOUND: no warehouse loan behind it)."""
    found = verify_loan_link(token, ctx.now)
    if found is None:
        return LinkReturn(refusal=Refused(Reason.INVALID_LINK))
    loan = loan_store.get(*found)
    if loan is None or loan.origin != ORIGIN:
        return LinkReturn(refusal=Refused(Reason.LOAN_NOT_FOUND))
    if loan.state is LoanState.RETURNED:
        return LinkReturn(loan=loan, replayed=True)
    try:
        core.return_early(ctx, loan)
    except Refused as r:
        current = loan_store.get(*found)
        if current is not None and current.state is LoanState.RETURNED:  # a concurrent return won
            return LinkReturn(loan=current, replayed=True)
        return LinkReturn(refusal=r)
    return LinkReturn(loan=loan)
