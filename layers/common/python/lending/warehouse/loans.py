"""Lending through a licence's loanUrl, and returning through the fulfillment link.

The loanUrl names one order line and carries its secret lending token: it lends only from that
licence, on behalf of the collectivity that owns it, and stops working once the line is cancelled.
Lending itself (conditions, pools, NTA, races) is the core's `services.lending.lend`."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any

from ..domain.identifiers import is_order_line_id
from ..domain.licences import Licence, Localization, Pool, loan_end, loan_refusals
from ..domain.loans import WHILE_ACTIVE, Loan, LoanState
from ..domain.refusals import Reason, Refused
from ..services import auth, lcp
from ..services import lending as core
from ..services.context import Ctx
from ..services.links import sign_loan_link, verify_loan_link
from ..store import lending_systems
from ..store import licences as line_store
from ..store import loans as loan_store
from . import errors as e
from .request import LoanParams, loan_id, parse

ORIGIN = "warehouse"
_NO_TOKEN = "-" * 32  # compared against when the line has none, so every refusal costs the same


@dataclass
class WarehouseResult:
    status: int  # 201, or 400 / 403 / 404 with `errors`
    errors: set[str] = field(default_factory=set)
    loan: Loan | None = None
    url: str = ""
    replayed: bool = False  # an existing loan's link again: nothing taken

    @property
    def return_url(self) -> str:
        base, _, token = self.url.rpartition("/fulfillment/")
        return f"{base}/warehouse/loans/{token}"


def _refused(status: int, *names: str) -> WarehouseResult:
    return WarehouseResult(status, set(names))


def licence_of_url(order_line_id: str, token: str) -> tuple[Licence | None, WarehouseResult | None]:
    """The licence a loanUrl names, or why the URL is refused. The spec answers only 201 or 400, and its
    `no_loan_available` says "The link is not valid": an unknown line, a token that is not its own and a
    revoked (cancelled) line all answer 400 with it, alike, so the URL reveals nothing."""
    item = line_store.get_line(order_line_id) if is_order_line_id(order_line_id) else None
    expected = (item or {}).get("lendingToken")
    genuine = hmac.compare_digest(token.encode(), str(expected or _NO_TOKEN).encode()) and bool(expected)
    if item is None or not genuine or not line_store.is_licence(item) or item.get("status") != "OK":
        return None, _refused(400, e.NO_LOAN_AVAILABLE)
    return line_store.licence(item), None


def lend_by_url(ctx: Ctx, order_line_id: str, token: str, raw: dict[str, str]) -> WarehouseResult:
    licence, refusal = licence_of_url(order_line_id, token)
    if refusal is not None:
        return refusal
    assert licence is not None
    coll = auth.account(licence.gln_coll)
    if coll is None:
        return _refused(400, e.NO_LOAN_AVAILABLE)
    p = parse(raw, ctx.now)
    errors = set(p.errors)
    # Readium LCP: a passphrase given by the lending system makes the link answer the loan's licence.
    passphrase = lcp.Passphrase.of(raw.get("passphrase"), raw.get("passphrase_hint"))
    if ("passphrase" in raw and passphrase is None) or len(raw.get("passphrase_hint") or "") > lcp.HINT_MAX:
        errors.add(e.PASSPHRASE_INVALID)  # asked for protection: never a silent plain loan
    if p.bill_drm_to and not lending_systems.known(p.bill_drm_to):
        errors.add(e.BILL_DRM_TO_INVALID)  # not an identifier the platform gave
    if p.pool is Pool.ONSITE and p.ip_address and e.IP_INVALID not in errors:
        try:
            core.check_in_situ(coll, Localization.IN_SITU, p.ip_address)
        except Refused as r:
            errors.add(e.for_refusal(r))

    ids_ok = not ({e.MISSING_BORROWER_ID, e.INVALID_BORROWER_ID, e.MISSING_TRANSACTION_ID,
                   e.INVALID_TRANSACTION_ID} & errors)
    the_id = loan_id(order_line_id, p.borrower_id, p.transaction_id)
    existing = loan_store.get(coll.gln, the_id) if ids_ok else None
    if existing is not None:
        if errors:
            return WarehouseResult(400, errors)
        # The same transaction again: without expire_at, the link of that loan (regeneration); with
        # the very same parameters, a retry. Either way nothing is taken. Otherwise it is on loan.
        again = WHILE_ACTIVE.allows(existing, p.fingerprint(order_line_id), ctx.now)
        if again or (p.regeneration and existing.active(ctx.now)):
            return _link(ctx, existing, replayed=True)
        return _refused(400, e.NO_LOAN_AVAILABLE)

    errors |= licence_errors(ctx, licence, p)
    # A full pool alone is decided by the store's condition (which may first reclaim overdue loans);
    # alongside other errors, or when the licence has no such place at all, it is reported as read.
    if errors - {e.POOL_FULL[p.pool]} or (errors and licence.sizes[p.pool] == 0):
        return WarehouseResult(400, errors)
    extra = p.extra()
    if passphrase is not None and lcp.is_protected(licence.ean13):
        extra["protection"] = lcp.PROTECTION
    request = core.LoanRequest(
        coll=coll, order_line_id=order_line_id, loan_id=the_id,
        ean13=licence.ean13, pool=p.pool, requested_end=p.requested_end(ctx.now, licence.max_loan_days),
        fingerprint=p.fingerprint(order_line_id), callback_url=p.notify_url, origin=ORIGIN, extra=extra,
        replay=WHILE_ACTIVE)
    try:
        loan, replayed = core.lend(ctx, request, licence=licence)
    except Refused as r:
        return _refused(400, e.for_refusal(r))
    if passphrase is not None and loan.extra.get("protection") == lcp.PROTECTION:
        lcp.issue(ctx, loan, passphrase)
    return _link(ctx, loan, replayed=replayed)


def licence_errors(ctx: Ctx, licence: Licence, p: LoanParams) -> set[str]:
    """Every reason the licence itself refuses this loan (expired, accesses spent, pool full, loan
    longer than the publisher allows), in the spec's names."""
    out: set[str] = set()
    for r in loan_refusals(licence, p.pool, ctx.now):
        if r.reason is Reason.CANNOT_BE_LOANED:
            if licence.sizes[p.pool] == 0:
                out.add(e.POOL_FULL[p.pool])  # this medium has no place at all on this licence
            if ctx.now < licence.dmd_date:
                out.add(e.NO_LOAN_AVAILABLE)  # not yet available
        else:
            out.add(e.for_refusal(r))
    if not ({e.INVALID_EXPIRATION_DATE, e.LOAN_DURATION_OVER_MAXIMUM, e.DURATION_INVALID} & p.errors):
        try:
            loan_end(licence, ctx.now, p.requested_end(ctx.now, licence.max_loan_days))
        except Refused as r:
            out.add(e.for_refusal(r))
    return out


def _link(ctx: Ctx, loan: Loan, replayed: bool) -> WarehouseResult:
    url = sign_loan_link(ctx.base_url, loan.gln_coll, loan.loan_id, loan.created_at, follows_loan=True)  # renewals too
    return WarehouseResult(201, loan=loan, url=url, replayed=replayed)


def return_by_link(ctx: Ctx, token: str) -> WarehouseResult:
    """The reader gives the book back through its fulfillment link: the place is freed and the
    lending system's notify_url told (the core writes the event with the return). Idempotent: a
    loan already returned answers the same; an expired one or a bad link is refused."""
    found = verify_loan_link(token, ctx.now)
    if found is None:
        return _refused(403, e.NO_LOAN_AVAILABLE)
    loan = loan_store.get(*found)
    if loan is None or loan.origin != ORIGIN:
        return _refused(404, e.NO_LOAN_AVAILABLE)
    if loan.state is LoanState.RETURNED:
        return WarehouseResult(204, loan=loan, replayed=True)
    try:
        core.return_early(ctx, loan)
    except Refused:
        current = loan_store.get(*found)
        if current is not None and current.state is LoanState.RETURNED:  # a concurrent return won
            return WarehouseResult(204, loan=current, replayed=True)
        return _refused(403, e.NO_LOAN_AVAILABLE)
    return WarehouseResult(204, loan=loan)


def describe(outcome: WarehouseResult) -> dict[str, Any]:
    """What the handler logs: no borrower or transaction ids (personal data stays out of logs)."""
    return {"status": outcome.status, "errors": e.ordered(outcome.errors), "replayed": outcome.replayed,
            "loanId": outcome.loan.loan_id if outcome.loan else None}
