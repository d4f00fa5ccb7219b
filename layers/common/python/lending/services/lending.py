"""Lending and ending loans: one path for every door (PNB, library API v1, warehouse URL)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from ..domain.accounts import Account
from ..domain.holds import Hold, HoldState
from ..domain.ips import covers, parse_address
from ..domain.licences import Licence, Localization, Pool, check_loan, loan_end
from ..domain.loans import WITHIN_THE_HOUR, Drift, Loan, LoanState, Replay, drifts, return_date, return_date_unread
from ..domain.refusals import Reason, Refused
from ..domain.values import Record, Value
from ..store import ips as ip_store
from ..store import licences as line_store
from ..store import loans as loan_store
from ..store.patrons import PatronWrite
from .clock import now as clock_now
from .context import Ctx
from .lines import ENDED_LOANS_DAYS, line_not_found
from .lines import ended_early as ended_early  # services/lines.py's, read here by the loan doors
from .lines import own_licence as own_licence
from .lines import own_line as own_line

LEND_ATTEMPTS = 6


def check_in_situ(coll: Account, localization: Localization, ip_text: str | None) -> None:
    """On-site use needs the reader's address inside the collectivity's declared ranges."""
    if localization is not Localization.IN_SITU:
        return
    if not ip_text:
        raise Refused(Reason.MISSING_IP, gln_coll=coll.gln)
    ip = parse_address(ip_text)
    if ip is None or not covers(ip_store.declared(coll.gln), ip):
        raise Refused(Reason.IP_NOT_DECLARED, gln_coll=coll.gln, ip=ip_text)


class LoanRequest(Record):
    coll: Account
    order_line_id: str
    loan_id: str
    ean13: str
    pool: Pool
    requested_end: datetime
    fingerprint: str
    callback_url: str | None
    origin: str
    extra: dict[str, Any]
    replay: Replay  # the door's replay rule (domain/loans.Replay says which and why)
    # v1: the patron's record, list item and email claim, written in the loan's transaction; their
    # conditions failing surfaces as loan_store.PatronMoved, untouched.
    patron: PatronWrite | None
    reservation: Hold | None  # the hold whose reserved place the loan takes (and claims)

    def __init__(self, coll: Account, order_line_id: str, loan_id: str, ean13: str, pool: Pool, requested_end: datetime,
                 fingerprint: str, callback_url: str | None = None, origin: str = "pnb",
                 extra: dict[str, Any] | None = None, replay: Replay = WITHIN_THE_HOUR,
                 patron: PatronWrite | None = None, reservation: Hold | None = None) -> None:
        self._init(coll, order_line_id, loan_id, ean13, pool, requested_end, fingerprint, callback_url, origin,
                   {} if extra is None else extra, replay, patron, reservation)


def lend(ctx: Ctx, req: LoanRequest, licence: Licence | None = None) -> tuple[Loan, bool]:
    """Take one access and one place for `req`; returns (loan, replayed). The door renders its answer
    from the loan, the same way the first time and on a replay.

    Optimistic: one transaction whose conditions carry every rule (tenant, EAN, status, window,
    duration, NTA, pool), so the happy path is a single DynamoDB request. When a condition fails, the
    line as it was (returned by the failed transaction) explains why, through the same domain rules.
    A repeat of the same request (req.replay) gets the first loan back and takes nothing, even where it
    would now be refused (`_replayed_or`)."""
    end = req.requested_end
    if licence is not None:
        try:
            end = _checked_end(ctx, req, licence)
        except Refused as refusal:
            return _replayed_or(ctx, req, refusal), True
    elif end <= ctx.now:
        return _replayed_or(ctx, req, Refused(Reason.INVALID_END)), True
    prune = False
    line: dict[str, Any] | None = None
    for _ in range(LEND_ATTEMPTS):
        loan = Loan(gln_coll=req.coll.gln, loan_id=req.loan_id, order_line_id=req.order_line_id, ean13=req.ean13,
                    gln_distributor=licence.gln_distributor if licence else "", pool=req.pool, created_at=ctx.now,
                    end_date=end, fingerprint=req.fingerprint, callback_url=req.callback_url, origin=req.origin,
                    extra=req.extra)
        known, line = line, None  # a line read by the last attempt is used once
        try:
            loan_store.lend(loan, ctx.now, patron=req.patron, reservation=req.reservation, prune=prune, line=known)
            return loan, False
        except loan_store.LoanExists as e:
            return _replay(ctx, req, e.existing), True
        except loan_store.Lapsed as e:  # lapsed places of a title someone may wait for: the queue first
            # nothing handed over: the line is as just read (no second read of it); else the line just
            # written, read consistently (an eventual read would likely miss the hand-over: a failed write)
            line = line_store.get_line(req.order_line_id) if serve_lapsed(
                ctx, req.coll.gln, req.ean13, e.ids) else e.line
            prune = True
            continue
        except loan_store.LicenceRefused as e:
            item = e.item
        if not item or item.get("glnColl") != req.coll.gln:
            return _replayed_or(ctx, req, line_not_found(req.order_line_id)), True
        licence = line_store.licence(item, ctx.now) if line_store.is_licence(item) else None
        if licence is None:
            return _replayed_or(ctx, req, Refused(Reason.CANNOT_BE_LOANED)), True
        try:
            end = _checked_end(ctx, req, licence)
            check_loan(licence, req.pool, ctx.now)  # the line as it is now: its lapsed seats are free places
        except Refused as refusal:
            return _replayed_or(ctx, req, refusal), True
        # Otherwise the licence changed under us (a seat this write dropped went first, a racing loan, a
        # hold placed, or the line was read stale), or the end had to be clamped: try again, from the line
        # as the failed write found it (ALL_OLD: current, no read).
        line = item
    # Still changing after every attempt: our fault, not the caller's (the doors answer 500, logged; a
    # retry of the same request is safe, it replays or lends).
    raise RuntimeError(f"licence {req.order_line_id} kept changing over {LEND_ATTEMPTS} attempts")


def _checked_end(ctx: Ctx, req: LoanRequest, licence: Licence) -> datetime:
    """The EAN must be the licence's; the end within the rules (clamped to the licence's end)."""
    if licence.ean13 != req.ean13:
        raise Refused(Reason.WRONG_EAN, gln_coll=req.coll.gln, ean13=req.ean13, order_line_id=req.order_line_id)
    return loan_end(licence, ctx.now, req.requested_end)


def _replay(ctx: Ctx, req: LoanRequest, existing: Loan) -> Loan:
    if req.replay.allows(existing, req.fingerprint, ctx.now):
        return existing
    raise Refused(Reason.DUPLICATED, gln_coll=req.coll.gln, loan_id=req.loan_id)


def _repeat_of(ctx: Ctx, req: LoanRequest) -> Loan | None:
    """The loan already under the request's key, when the replay rule says the request repeats it;
    None when the key is free; DUPLICATED when another request took it."""
    existing = loan_store.get(req.coll.gln, req.loan_id)
    return None if existing is None else _replay(ctx, req, existing)


def _replayed_or(ctx: Ctx, req: LoanRequest, refusal: Refused) -> Loan:
    """Before refusing, a request that repeats a loan already given is answered with it again (say the
    pool filled since); otherwise `refusal` stands."""
    again = _repeat_of(ctx, req)
    if again is None:
        raise refusal
    return again


def serve_lapsed(ctx: Ctx, gln_coll: str, ean13: str, loan_ids: list[str]) -> int:
    """Places of loans that reached their end go to the head of the title's hold queue, if anyone waits
    (holds.end_loan); otherwise nothing is written: the next loan of the line drops their seats."""
    from ..store import holds as hold_store

    _, queue = hold_store.queue(gln_coll, ean13)
    if not any(h.state is HoldState.WAITING for h in queue):
        return 0
    return sum(expire(ctx, loan) for loan in loan_store.get_many(gln_coll, loan_ids) if loan.state is LoanState.ACTIVE)


def reclaim_overdue(ctx: Ctx, order_line_id: str) -> int:
    """Record as ended the loans of one licence whose end has passed (their places are free already:
    the line stops counting a seat at its end)."""
    freed = 0
    for loan in loan_store.of_line(order_line_id):
        if loan.state is LoanState.ACTIVE and loan.end_date <= ctx.now:
            freed += expire(ctx, loan)
    return freed


def expire(ctx: Ctx, loan: Loan) -> int:
    """Record a loan past its end as EXPIRED, its place (if its seat is still on the line) to the head of
    the title's queue or back to the licence. Only where something needs it: a hold waiting for the
    title (expire_due, serve_lapsed) or a caller touching the loan; an expiry itself writes nothing."""
    from . import holds  # every end hands the place to the title's hold queue first

    try:
        holds.end_loan(ctx, loan, LoanState.EXPIRED, ctx.now)
        return 1
    except loan_store.AlreadyEnded:
        return 0


def expire_due(ctx: Ctx) -> int:
    """The scheduled job. A loan past its end frees its place by itself (its seat lapses: nothing is
    written); the job acts only on the titles with a hold queue, handing each lapsed seat's place to the
    head of the queue. Returns how many loans it ended.

    It also keeps the lines' `QUEUED` marks (store.holds) to their queues: a title a hold waits for has
    every line marked (a line bought since the hold, or written before the mark existed, gets it here);
    once none waits, the marks go, and its loans drop lapsed seats without reading the queue."""
    from ..store import holds as hold_store

    ended = 0
    for gln_coll, ean13 in hold_store.held_titles():
        last, queue, marked = hold_store.queue_state(gln_coll, ean13)
        if not any(h.state is HoldState.WAITING for h in queue):
            if marked:  # a hold placed meanwhile fails it (and marks the lines itself)
                lines = line_store.licences_of(gln_coll, ean13, ctx.now)
                hold_store.unqueue(gln_coll, ean13, last, [lic.order_line_id for lic in lines if lic.queued])
            continue
        lines = line_store.licences_of(gln_coll, ean13, ctx.now)
        hold_store.mark(gln_coll, ean13, [lic.order_line_id for lic in lines if not lic.queued])
        for lic in lines:
            gone = [k for k, seat in lic.seats.items() if not seat.live(ctx.now)]
            if gone:
                ended += serve_lapsed(ctx, gln_coll, ean13, gone)
    return ended


def return_early(ctx: Ctx, loan: Loan, returned_at: datetime | None = None,
                 line: dict[str, Any] | None = None) -> Loan:
    """End an active loan before its end: place freed, listed by getEndedLoans, callback queued (the
    event is written with the return itself, on the loan's detail, before its seat leaves the line).
    `line`: the loan's line, when the caller read it (its hold-queue mark spares the queue's reads)."""
    when = returned_at or ctx.now
    from . import holds  # every end hands the place to the title's hold queue first

    if loan.state is not LoanState.ACTIVE or loan.end_date <= ctx.now:
        if loan.state is LoanState.ACTIVE:
            expire(ctx, loan)
        elif loan_store.seat_held(loan) and holds.free_place(ctx, loan) and loan.state is LoanState.RETURNED:
            # The same return cut short after its detail's write (store.loans.end): its seat taken off
            # now, once, and the return answered as it was made. Any later repeat is ALREADY_ENDED.
            return loan
        raise already_ended(loan)

    event = _outbox(loan, when)
    try:
        holds.end_loan(ctx, loan, LoanState.RETURNED, when, outbox=event, line=line)
    except loan_store.AlreadyEnded:
        raise already_ended(loan) from None
    loan.state, loan.returned_at = LoanState.RETURNED, when
    return loan


class EndLoan(Value):
    order_line_id: str
    loan_id: str
    date: datetime | None  # when the reader gave it back, if not now

    def __init__(self, order_line_id: str, loan_id: str, date: datetime | None = None) -> None:
        self._init(order_line_id, loan_id, date)


def end_loan(ctx: Ctx, distributor: Account, req: EndLoan) -> Loan:
    """A distributor ends a loan of one of its licences early (PNB endLoan)."""
    # Read eventually consistent: its owner never changes, and its hold-queue mark read stale is caught by
    # the seat's write (conditioned on the mark's absence); a line not seen yet is read again.
    item = line_store.get_line(req.order_line_id, consistent=False) or line_store.get_line(req.order_line_id)
    if item is None or item.get("glnDistributor") != distributor.gln:
        raise line_not_found(req.order_line_id)
    when = return_date_unread(req.date, ctx.now)
    if when is not None:
        # The loan is not read first: the detail's write is conditioned on all that the read was for (in
        # this line, ACTIVE, running, created by the return date). Whatever fails it, its answer is the
        # loan as it is (as a consistent read), decided on below as before; nothing was written.
        try:
            ended = loan_store.return_in_line(item["glnColl"], req.loan_id, req.order_line_id, when, ctx.now,
                                              req.date, loan_store.carried_event(str(uuid.uuid4())))
        except loan_store.NotReturned as e:
            loan = loan_store.loan(e.item) if e.item else None
        else:
            from . import holds  # the seat off the line: its place to the title's hold queue first

            holds.free_place(ctx, ended, item)
            ended.returned_at = when
            return ended
    else:  # a return date too far ahead: refused, once the loan says it is in this line
        loan = loan_store.get(item["glnColl"], req.loan_id)
    if loan is None or loan.order_line_id != req.order_line_id:
        raise Refused(Reason.LOAN_NOT_IN_LINE, order_line_id=req.order_line_id, loan_id=req.loan_id)
    return return_early(ctx, loan, return_date(req.date, loan.created_at, ctx.now), line=item)


class EndedLoans(Value):
    since: datetime | None
    loan_ids: list[str]

    def __init__(self, since: datetime | None = None, loan_ids: list[str] | None = None) -> None:
        self._init(since, [] if loan_ids is None else loan_ids)


def ended_loans(ctx: Ctx, coll: Account, req: EndedLoans) -> list[Loan]:
    """The collectivity's loans returned early, by date and/or by id, oldest return first."""
    if req.since is None and not req.loan_ids:
        raise Refused(Reason.MISSING_DATE_OR_LOAN_ID)
    if req.since is not None and req.since < ctx.now - timedelta(days=ENDED_LOANS_DAYS):
        raise Refused(Reason.DATE_TOO_OLD, days=ENDED_LOANS_DAYS)
    if req.loan_ids:
        found = [x for x in loan_store.get_many(coll.gln, req.loan_ids) if x.state is LoanState.RETURNED]
        if req.since is not None:
            found = [x for x in found if x.returned_at and x.returned_at >= req.since]
    else:
        assert req.since is not None
        found = loan_store.ended_since(coll.gln, req.since)
    found.sort(key=lambda x: (x.returned_at or x.created_at, x.loan_id))
    return found


def already_ended(loan: Loan) -> Refused:
    return Refused(Reason.ALREADY_ENDED, order_line_id=loan.order_line_id, loan_id=loan.loan_id)


def _outbox(loan: Loan, when: datetime) -> dict[str, Any] | None:
    """The early-return notification, written with the return itself so it can never be lost: the
    loan's event id; its body is the loan's (notify.events.from_outbox: every field comes from the
    return, so every copy is the same bytes)."""
    if not loan.callback_url:
        return None
    return loan_store.carried_event(str(uuid.uuid4()))


RECHECKS = 3  # a drift must hold this many times to be reported
RECHECK_PAUSE = 1.0  # seconds: past the lag of the line index the loans are read from


ORPHAN_GRACE = timedelta(minutes=15)  # a seat with no detail this old was cut short: released


def release_orphans(now: datetime) -> int:
    """Seats no running loan stands behind, given back once (each write conditioned on the seat):
    - a seat whose loan detail was never written (a crash between the line's write and the detail's, and
      no replay since): after ORPHAN_GRACE, released with its place and access (store.loans.release:
      also conditioned on the detail still absent: a replay may write it between this read and the
      release);
    - a seat whose loan is ended (a return or an expiry cut short between its detail's write and its
      seat's, and no replay since): taken off as the end would have (services.holds.free_place: the
      place to a waiting hold, else back to the licence).
    Returns how many."""
    from . import holds

    done = 0
    ctx = Ctx(now=now)
    for lic in line_store.all_licences(now):
        if not lic.seats:
            continue
        young = {k for k, seat in lic.seats.items() if seat.created > now - ORPHAN_GRACE}
        found = {x.loan_id: x for x in loan_store.get_many(lic.gln_coll, list(lic.seats))}
        for loan_id, seat in lic.seats.items():
            detail = found.get(loan_id)
            if detail is not None:
                if detail.state is not LoanState.ACTIVE and detail.order_line_id == lic.order_line_id:
                    done += holds.free_place(ctx, detail)
                continue
            if loan_id in young:
                continue
            done += loan_store.release(Loan(gln_coll=lic.gln_coll, loan_id=loan_id, order_line_id=lic.order_line_id,
                                            ean13=lic.ean13, gln_distributor=lic.gln_distributor, pool=seat.pool,
                                            created_at=seat.created, end_date=seat.end, fingerprint=seat.mark),
                                       orphan=True)
    return done


def reconcile(pause: Callable[[float], None] | None = None, now: datetime | None = None) -> tuple[int, list[Drift]]:
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
        return drifts(lic, loan_store.of_line(lic.order_line_id), hold_store.reserved_on_line(lic.order_line_id),
                      at)

    at = now or clock_now()
    release_orphans(at)
    licences = line_store.all_licences(at)
    suspects = {lic.order_line_id for lic in licences if check(lic)}
    found: list[Drift] = []
    for order_line_id in sorted(suspects):
        seen: list[Drift] = []
        for _ in range(RECHECKS):
            pause(RECHECK_PAUSE)
            item = line_store.get_line(order_line_id)
            seen = check(line_store.licence(item, at)) if item else []
            if not seen:
                break
        found.extend(seen)
    return len(licences), found
