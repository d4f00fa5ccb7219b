"""Lending and ending loans: one path for every door (PNB, library API v1, warehouse URL)."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..domain.accounts import Account
from ..domain.codes import Refused, Status
from ..domain.dates import iso
from ..domain.ips import covers, parse_address
from ..domain.licences import CANNOT_BE_LOAN, INVALID_END, Licence, Localization, Pool, check_loan, loan_end
from ..domain.loans import Drift, Loan, LoanState, drifts
from ..store import ips as ip_store
from ..store import licences as line_store
from ..store import loans as loan_store
from .context import Ctx

LEND_ATTEMPTS = 4


def line_not_found(order_line_id: str) -> Refused:
    return Refused(Status.NOT_FOUND, f"The orderLineId {order_line_id} does not exist", reason="unknown_line")


def own_licence(coll: Account, order_line_id: str) -> tuple[dict[str, Any], Licence | None]:
    """The caller's own line (another tenant's is as unknown as a missing one)."""
    item = line_store.get_line(order_line_id)
    if item is None or item.get("glnColl") != coll.gln:
        raise line_not_found(order_line_id)
    return item, line_store.licence(item) if line_store.is_licence(item) else None


def check_in_situ(coll: Account, localization: Localization, ip_text: str | None) -> None:
    """On-site use needs the reader's address inside the collectivity's declared ranges."""
    if localization is not Localization.IN_SITU:
        return
    if not ip_text:
        raise Refused(Status.ACCES_DENIED, f"{coll.gln}: The ip adress is null and localization IN_SITU.",
                      reason="missing_ip")
    ip = parse_address(ip_text)
    if ip is None or not covers(ip_store.declared(coll.gln), ip):
        raise Refused(Status.ACCES_DENIED,
                      f"{coll.gln}: The ip adress '{ip_text} is not declared in PNB and localization IN_SITU.",
                      reason="ip_not_declared")


@dataclass
class LoanRequest:
    coll: Account
    order_line_id: str
    loan_id: str
    ean13: str
    pool: Pool
    requested_end: datetime
    fingerprint: str
    callback_url: str | None = None
    origin: str = "pnb"
    extra: dict[str, Any] = field(default_factory=dict)
    # A door's own conditional writes (locks, counters) in the loan's transaction; their failure
    # surfaces as loan_store.ExtraRefused, untouched.
    extra_items: list[dict[str, Any]] = field(default_factory=list)
    reserved: bool = False  # the place a hold reserved (its claim is among extra_items): store.loans.lend


def lend(ctx: Ctx, req: LoanRequest, answer: Callable[[Loan], dict[str, Any]],
         licence: Licence | None = None) -> tuple[Loan, bool]:
    """Take one access and one place for `req`; returns (loan, replayed).

    A repeat of the same request within the hour gets the first loan back and takes nothing.
    Conditions in the store decide races; on refusal the licence as it was explains why."""
    try:
        return _lend(ctx, req, answer, licence)
    except _Replayed as r:
        return r.loan, True


def _lend(ctx: Ctx, req: LoanRequest, answer: Callable[[Loan], dict[str, Any]],
          licence: Licence | None) -> tuple[Loan, bool]:
    """Optimistic: one transaction whose conditions carry every rule (tenant, EAN, status, window,
    duration, NTA, pool), so the happy path is a single DynamoDB request. When a condition fails, the
    line as it was (returned by the failed transaction) explains why, through the same domain rules."""
    end = req.requested_end
    if licence is not None:
        end = _checked_end(ctx, req, licence)
    elif end <= ctx.now:
        _replay_or_raise(ctx, req)
        raise Refused(Status.INVALID_ARGUMENTS, INVALID_END, reason="invalid_end")
    reclaimed = False
    for _ in range(LEND_ATTEMPTS):
        loan = Loan(gln_coll=req.coll.gln, loan_id=req.loan_id, order_line_id=req.order_line_id, ean13=req.ean13,
                    gln_distributor=licence.gln_distributor if licence else "", pool=req.pool, created_at=ctx.now,
                    end_date=end, fingerprint=req.fingerprint, callback_url=req.callback_url, origin=req.origin,
                    extra=req.extra)
        loan.answer = answer(loan)
        try:
            if req.reserved:
                loan_store.lend(loan, ctx.now, req.extra_items, reserved=True)
            else:
                loan_store.lend(loan, ctx.now, req.extra_items)
            return loan, False
        except loan_store.LoanExists as e:
            return _replay(ctx, req, e.existing), True
        except loan_store.LicenceRefused as e:
            item = e.item
            if not item or item.get("glnColl") != req.coll.gln:
                _replay_or_raise(ctx, req)
                raise line_not_found(req.order_line_id) from None
            licence = line_store.licence(item) if line_store.is_licence(item) else None
            if licence is None:
                _replay_or_raise(ctx, req)
                raise Refused(Status.PRODUCT_CANNOT_BE_LOAN, CANNOT_BE_LOAN, reason="cannot_be_loaned") from None
            end = _checked_end(ctx, req, licence)
            try:
                check_loan(licence, req.pool, ctx.now)
            except Refused as refusal:
                _replay_or_raise(ctx, req)
                if refusal.reason != "pool_full" or reclaimed:
                    raise
                reclaimed = True
                if not reclaim_overdue(ctx, req.order_line_id):
                    raise
            # Otherwise the licence changed under us, or the end had to be clamped: try again.
    # Still changing after every attempt: our fault, not the caller's (the doors answer 500, logged; a
    # retry of the same request is safe, it replays or lends).
    raise RuntimeError(f"licence {req.order_line_id} kept changing over {LEND_ATTEMPTS} attempts")


def _checked_end(ctx: Ctx, req: LoanRequest, licence: Licence) -> datetime:
    """The EAN must be the licence's; the end within the rules (clamped to the licence's end)."""
    try:
        if licence.ean13 != req.ean13:
            raise Refused(Status.NOT_FOUND,
                          f"{req.coll.gln} : The ean {req.ean13} is not a part of orderLine '{req.order_line_id}'!",
                          reason="wrong_ean")
        return loan_end(licence, ctx.now, req.requested_end)
    except Refused:
        _replay_or_raise(ctx, req)
        raise


def _replay(ctx: Ctx, req: LoanRequest, existing: Loan) -> Loan:
    if existing.replayable(req.fingerprint, ctx.now):
        return existing
    raise Refused(Status.DUPLICATED, f"{req.coll.gln}: Loan with id '{req.loan_id}' already exists",
                  reason="duplicated")


def _replay_or_raise(ctx: Ctx, req: LoanRequest) -> None:
    """Before refusing, a request identical to a loan already given within the hour is answered
    again (say the pool filled since): look the loan up; return quietly if there is none."""
    existing = loan_store.get(req.coll.gln, req.loan_id)
    if existing is not None:
        _replay(ctx, req, existing)
        raise _Replayed(existing)


class _Replayed(Exception):
    def __init__(self, loan: Loan) -> None:
        super().__init__(loan.loan_id)
        self.loan = loan


def reclaim_overdue(ctx: Ctx, order_line_id: str) -> int:
    """Expire the loans of one licence whose end has passed (a pool that looks full may not be)."""
    freed = 0
    for loan in loan_store.of_line(order_line_id):
        if loan.state is LoanState.ACTIVE and loan.end_date <= ctx.now:
            freed += expire(ctx, loan)
    return freed


def expire(ctx: Ctx, loan: Loan) -> int:
    from . import holds  # every end hands the place to the title's hold queue first

    try:
        holds.end_loan(ctx, loan, LoanState.EXPIRED, ctx.now)
        return 1
    except loan_store.AlreadyEnded:
        return 0


def expire_due(ctx: Ctx) -> int:
    """The scheduled job: every active loan whose end has come is ended and its place freed."""
    return sum(expire(ctx, loan) for loan in loan_store.due(ctx.now))


def return_early(ctx: Ctx, loan: Loan, returned_at: datetime | None = None) -> Loan:
    """End an active loan before its end: place freed, listed by getEndedLoans, callback queued
    (the outbox event is written in the same transaction as the return)."""
    when = returned_at or ctx.now
    if loan.state is not LoanState.ACTIVE or loan.end_date <= ctx.now:
        if loan.state is LoanState.ACTIVE:
            expire(ctx, loan)
        raise already_ended(loan)
    from . import holds  # every end hands the place to the title's hold queue first

    event = _outbox(loan, when)
    try:
        holds.end_loan(ctx, loan, LoanState.RETURNED, when, outbox=event)
    except loan_store.AlreadyEnded:
        raise already_ended(loan) from None
    loan.state, loan.returned_at = LoanState.RETURNED, when
    if event is not None:
        _enqueue_now(event, ctx)
    return loan


def _enqueue_now(event: dict[str, Any], ctx: Ctx) -> None:
    """Hand the event to the callback queue at once (low latency). Best effort: a failure, or a crash
    before this line, leaves it in the outbox for the sweeper; it never fails the return."""
    with contextlib.suppress(Exception):  # enqueue_now logs its own failures
        from ..notify.outbox import enqueue_now

        enqueue_now(event, ctx.now)


def already_ended(loan: Loan) -> Refused:
    from ..domain.renewals import ended

    return ended(loan)


def _outbox(loan: Loan, when: datetime) -> dict[str, Any] | None:
    """The early-return notification, stored with the return itself so it can never be lost."""
    if not loan.callback_url:
        return None
    event_id = str(uuid.uuid4())
    body: dict[str, Any] = {"event": "loan.returned", "loanId": loan.loan_id, "orderLineId": loan.order_line_id,
                            "ean13": loan.ean13, "returnDate": iso(when)}
    for k in ("borrowerId", "memberId", "transactionId"):
        if k in loan.extra:
            body[k] = loan.extra[k]
    return {"pk": f"OUTBOX#{event_id}", "sk": "OUTBOX", "type": "outbox", "eventId": event_id,
            "url": loan.callback_url, "glnColl": loan.gln_coll, "body": body, "createdAt": iso(when),
            "gsi2pk": "OUTBOX", "gsi2sk": f"{iso(when)}#{event_id}"}


RECHECKS = 3  # a drift must hold this many times to be reported
RECHECK_PAUSE = 1.0  # seconds: past the lag of the line index the loans are read from


def reconcile(pause: Callable[[float], None] | None = None) -> tuple[int, list[Drift]]:
    """Prove every licence's counters against its loan records (domain.loans.drifts); returns how many
    licences were checked and the drifts that held.

    A pass is not a snapshot: a loan made between reading a line and reading its loans, or a loan the
    line index (eventually consistent) does not show yet, looks like a drift for a moment. So a drift is
    read again (the line consistently, its loans once the index has caught up) and reported only if it
    holds every time: the job's alarms are real ones."""
    import time

    pause = pause or time.sleep
    from ..store import holds as hold_store  # places reserved for holds count as taken

    def check(lic: Licence) -> list[Drift]:
        return drifts(lic, loan_store.of_line(lic.order_line_id), hold_store.reserved_on_line(lic.order_line_id))

    licences = line_store.all_licences()
    suspects = {lic.order_line_id for lic in licences if check(lic)}
    found: list[Drift] = []
    for order_line_id in sorted(suspects):
        seen: list[Drift] = []
        for _ in range(RECHECKS):
            pause(RECHECK_PAUSE)
            item = line_store.get_line(order_line_id)
            seen = check(line_store.licence(item)) if item else []
            if not seen:
                break
        found.extend(seen)
    return len(licences), found
