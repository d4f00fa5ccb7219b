"""Hold use cases, for every door that lends to patrons (library API v1 today, the staff console and the
patron space later): place, list, read and cancel holds, and the hooks that hand a freed place to the
head of a title's queue (a loan's end by any door, a new licence, a reservation passed on).

The rules are domain.holds; every move of a place is one conditional write in store.holds (or in the
loan's own transaction), so a place is never given twice, and a reserved place is never free."""

from __future__ import annotations

import contextlib
import random
import time
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from ..domain.accounts import Account
from ..domain.dates import iso
from ..domain.holds import (
    Hold,
    HoldSettings,
    HoldState,
    check_new_hold,
    expected_at,
    expected_wait_days,
    head,
    position,
    reserve,
)
from ..domain.identifiers import is_ean13
from ..domain.licences import Licence, Pool, check_loan
from ..domain.loans import Loan, LoanState
from ..domain.patrons import Limits
from ..domain.refusals import Reason, Refused
from ..domain.values import Record
from ..store import accounts as account_store
from ..store import holds as hold_store
from ..store import licences as line_store
from ..store import loans as loan_store
from ..store import outbox as outbox_store
from ..store import patrons as patron_store
from .clock import now as clock_now
from .context import Ctx

ATTEMPTS = 8
PLACE_ATTEMPTS = 32  # every hold of a title takes the next ticket of one counter: a busy title retries
HANDOVER_ATTEMPTS = 4
HOLD_EVENT = "hold.reserved"


def hold_not_found() -> Refused:
    return Refused(Reason.HOLD_NOT_FOUND)


def busy() -> Refused:
    return Refused(Reason.BUSY)


class HoldView(Record):
    """A hold as a patron sees it: its place in the queue and when a place may come (worst case)."""

    hold: Hold
    position: int
    expected_at: datetime | None
    expected_wait_days: int | None

    def __init__(self, hold: Hold, position: int = 0, expected_at: datetime | None = None,
                 expected_wait_days: int | None = None) -> None:
        self._init(hold, position, expected_at, expected_wait_days)


class NewHold(Record):
    member_id: str
    ean13: str
    email: str | None  # where to tell the patron that a place waits for them (notify=1)
    callback_url: str | None  # else the library's `holdCallbackUrl` setting
    pool: Pool  # the place waited for: a download (v1), or a stream (the patron space)

    def __init__(self, member_id: str, ean13: str, email: str | None = None, callback_url: str | None = None,
                 pool: Pool = Pool.DOWNLOAD) -> None:
        self._init(member_id, ean13, email, callback_url, pool)


# --- reading ---

def _fresh_licences(gln_coll: str, ean13: str, now: datetime, known: Iterable[str] = ()) -> list[Licence]:
    """The collectivity's OK licences of a title, their counters read consistently (the title index lags:
    `known` names lines the caller just wrote)."""
    ids = list(dict.fromkeys([*known, *(lic.order_line_id for lic in line_store.licences_of(gln_coll, ean13, now))]))
    items = line_store.get_lines(ids) if ids else {}
    return [line_store.licence(i, now) for i in items.values()
            if i.get("status") == "OK" and line_store.is_licence(i) and i.get("ean13") == ean13
            and i.get("glnColl") == gln_coll]


def _lendable(licences: Iterable[Licence], now: datetime, pool: Pool = Pool.DOWNLOAD) -> list[Licence]:
    """Licences with a place of `pool` free now (and an access for it), the one that ends soonest first."""
    out = []
    for lic in licences:
        try:
            check_loan(lic, pool, now)
            out.append(lic)
        except Refused:
            pass
    return sorted(out, key=lambda x: (x.end_date, x.dmd_date, x.order_line_id))


def _settings(gln_coll: str) -> tuple[HoldSettings, dict[str, Any]]:
    account = account_store.get(gln_coll)
    settings = account.settings if account else {}
    return HoldSettings.of(settings), settings


def _views(ctx: Ctx, holds: list[Hold]) -> list[HoldView]:
    """Position and expected wait of each waiting hold (each title's queue and loans read once)."""
    titles: dict[tuple[str, str, Pool], tuple[list[Hold], list[datetime], list[datetime], int]] = {}
    out = []
    for h in holds:
        if h.state is not HoldState.WAITING:
            out.append(HoldView(h))
            continue
        title = (h.gln_coll, h.ean13, h.pool)
        if title not in titles:
            _, queue = hold_store.queue(h.gln_coll, h.ean13)
            lines = line_store.licences_of(h.gln_coll, h.ean13, ctx.now)
            loans = [x for lic in lines for x in loan_store.of_line(lic.order_line_id)]
            loan_ends = [x.end_date for x in loans if x.active(ctx.now) and x.pool is h.pool]
            reserved = [x.expires_at for x in queue
                        if x.state is HoldState.RESERVED and x.expires_at and x.pool is h.pool]
            _, settings = _settings(h.gln_coll)
            titles[title] = (queue, loan_ends, reserved, Limits.of(settings).default_days)
        queue, loan_ends, reserved, days = titles[title]
        place = position(queue, h)
        out.append(HoldView(h, place, expected_at(place, loan_ends, reserved, days, ctx.now),
                            expected_wait_days(place, loan_ends, reserved, days, ctx.now)))
    return out


def own_hold(coll: Account, hold_id: str) -> Hold:
    found = hold_store.get(coll.gln, hold_id) if 0 < len(hold_id) <= 64 else None
    if found is None:
        raise hold_not_found()
    return found


def get_hold(ctx: Ctx, coll: Account, hold_id: str) -> HoldView:
    return _views(ctx, [own_hold(coll, hold_id)])[0]


def list_holds(ctx: Ctx, coll: Account, member_id: str | None = None, page: int = 1,
               per_page: int = 50) -> tuple[list[HoldView], bool]:
    """One page of the library's (or one patron's) holds, newest first, and whether more follow."""
    skip = (page - 1) * per_page
    if member_id:
        holds, more = hold_store.member_holds(coll.gln, member_id, skip, per_page)
    else:
        holds, more = hold_store.library_holds(coll.gln, skip, per_page)
    return _views(ctx, holds), more


# --- placing and cancelling ---

def place_hold(ctx: Ctx, coll: Account, req: NewHold) -> tuple[HoldView, bool]:
    """Put the patron in the title's queue: (hold, True) when placed, (their open hold of it, False) when
    they already have one. Refused when they borrow it already, when a place is free (borrow it), or past
    the library's `maxHolds`. A place that freed meanwhile goes to the queue at once (`pump`)."""
    if not is_ean13(req.ean13):
        raise Refused(Reason.MEDIUM_NOT_FOUND)
    settings = HoldSettings.of(coll.settings)
    for attempt in range(PLACE_ATTEMPTS):
        licences = _fresh_licences(coll.gln, req.ean13, ctx.now)
        if not licences:
            raise Refused(Reason.MEDIUM_NOT_FOUND)
        version, believed = hold_store.patron_holds(coll.gln, req.member_id)
        mine = [h for h in hold_store.get_many(coll.gln, list(believed)) if h.open]
        for h in mine:
            if h.ean13 == req.ean13:
                return _views(ctx, [h])[0], False
        last, queue = hold_store.queue(coll.gln, req.ean13)
        available = bool(_lendable(licences, ctx.now, req.pool)) and head(queue, req.pool) is None
        check_new_hold(settings, len(mine), _borrows(ctx, coll.gln, req.member_id, req.ean13), available)
        new = Hold(gln_coll=coll.gln, ean13=req.ean13, ticket=last + 1, member_id=req.member_id,
                   placed_at=ctx.now, email=req.email, callback_url=req.callback_url, pool=req.pool)
        try:
            hold_store.place(new, last, version, {**{h.hold_id: h.ean13 for h in mine}, new.hold_id: new.ean13},
                             lines=[lic.order_line_id for lic in licences])
        except hold_store.Moved:  # another hold took the ticket, or the patron's holds changed: again
            time.sleep(random.uniform(0, min(0.2, 0.005 * 2**attempt)))
            continue
        pump(ctx, coll.gln, req.ean13)
        return get_hold(ctx, coll, new.hold_id), True
    raise busy()


def _borrows(ctx: Ctx, gln_coll: str, member_id: str, ean13: str) -> bool:
    patron = patron_store.get(gln_coll, member_id)
    loans = loan_store.get_many(gln_coll, list(patron.active)) if patron.active else []
    return any(x.ean13 == ean13 and x.active(ctx.now) for x in loans)


def cancel_hold(ctx: Ctx, coll: Account, hold_id: str) -> HoldView:
    """Cancel a hold for the patron (or the staff): a waiting one leaves the queue; a reserved one gives
    its place to the next in line (or back to the licence). Refused once the hold is over."""
    for _ in range(ATTEMPTS):
        current = own_hold(coll, hold_id)
        if current.state is HoldState.WAITING:
            try:
                hold_store.cancel_waiting(current, ctx.now)
            except hold_store.Moved:
                continue  # reserved meanwhile: cancel the reservation
        elif current.state is HoldState.RESERVED:
            if not release(ctx, current, HoldState.CANCELLED):
                continue
        else:
            raise Refused(Reason.HOLD_ENDED)
        return HoldView(own_hold(coll, hold_id))
    raise busy()


# --- moving places ---

def _outbox(ctx: Ctx, reserved: Hold, settings: dict[str, Any]) -> dict[str, Any] | None:
    """The `hold.reserved` callback, written in the reservation's own transaction (never lost)."""
    url = reserved.callback_url or settings.get("holdCallbackUrl")
    if not isinstance(url, str) or not url:
        return None
    event_id = str(uuid.uuid4())
    body = {"event": HOLD_EVENT, "holdId": reserved.hold_id, "orderLineId": reserved.order_line_id,
            "ean13": reserved.ean13, "memberId": reserved.member_id, "reservedAt": iso(ctx.now),
            "holdExpiresAt": iso(reserved.expires_at) if reserved.expires_at else None}
    return outbox_store.event_item(event_id, url, reserved.gln_coll, body, iso(ctx.now))


def _announce(ctx: Ctx, reserved: Hold, event: dict[str, Any] | None) -> None:
    """After a reservation landed: the callback to the queue at once, the email to the patron. Both best
    effort: the outbox sweeper sends the callback, and the scheduled job the email (`notify_pending`)."""
    if event is not None:
        with contextlib.suppress(Exception):
            from ..notify.outbox import enqueue_now

            enqueue_now(event, ctx.now)
    if reserved.email:
        notify(ctx, reserved)


def notify(ctx: Ctx, reserved: Hold) -> bool:
    """Email the patron that a place waits for them; the address is then forgotten."""
    from ..observability import logger
    from . import mailer

    if not reserved.email or not reserved.expires_at:
        return False
    title = title_of(reserved)
    try:
        mailer.send(reserved.email, *mailer.hold_email(title, reserved.expires_at))
    except Exception as e:  # its message may carry the address: not logged
        logger.warning("hold email not sent", extra={"holdId": reserved.hold_id, "error": type(e).__name__})
        return False
    hold_store.mark_notified(reserved, ctx.now)
    return True


def title_of(h: Hold) -> str:
    from ..store import offers

    for lic in line_store.licences_of(h.gln_coll, h.ean13, clock_now()):
        offer = offers.get(h.ean13, lic.gln_distributor)
        if offer and offer.title:
            return offer.title
    return h.ean13


def end_loan(ctx: Ctx, loan: Loan, state: LoanState, when: datetime,
             outbox: dict[str, Any] | None = None, line: dict[str, Any] | None = None) -> bool:
    """Every loan's end (services.lending.return_early and expire), in two writes (docs/cost.md): the
    detail first (the end and its event, store.loans.end: raises AlreadyEnded), then its seat off the
    line (`free_place`, `line` as the caller read it, if it did). Returns whether a place was given back."""
    return free_place(ctx, loan_store.end(loan, state, when, outbox), line)


def free_place(ctx: Ctx, ended: Loan, line: dict[str, Any] | None = None) -> bool:
    """An ended loan's seat off its line: when the title's queue has a waiting head for the loan's pool,
    the place goes to it in the seat's own write (store.loans.free_seat `handover`), else back to the
    licence. Also how a replay or reconcile finishes an end cut short after its detail's write.

    `line`: the loan's line as the caller read it. Without the hold-queue mark (`QUEUED`) no hold may
    wait for the title: no queue read, and the seat's write requires the mark still absent, so a hold
    placed since (its transaction marks the line) fails it and the place goes to the queue below."""
    if line is not None and line.get("orderLineId") == ended.order_line_id and not line.get(line_store.QUEUED):
        try:
            return loan_store.free_seat(ended, unqueued=True)
        except loan_store.Queued:
            pass  # a hold was placed since the line was read: its queue first
    for _ in range(HANDOVER_ATTEMPTS):
        last, queue = hold_store.queue(ended.gln_coll, ended.ean13)
        first = head(queue, ended.pool)
        if first is None:  # back to the licence
            done = loan_store.free_seat(ended)
            # A hold placed since the queue was read may have looked for a place before this one was
            # freed: the place goes to the queue now (what the end's transaction used to guard).
            if done and hold_store.last_ticket(ended.gln_coll, ended.ean13) != last:
                pump(ctx, ended.gln_coll, ended.ean13)
            return done
        settings, raw = _settings(ended.gln_coll)
        reserved = reserve(first, ended.order_line_id, ctx.now, settings)
        event = _outbox(ctx, reserved, raw)
        try:
            done = loan_store.free_seat(ended, handover=hold_store.handover_ops(reserved, ctx.now, event))
        except loan_store.HandoverFailed:
            continue  # the queue moved (a hold placed, served or cancelled), or the licence can hold no more
        if done:
            _announce(ctx, reserved, event)
        return done
    return loan_store.free_seat(ended)  # the licence cannot hold it: the place is freed


def pump(ctx: Ctx, gln_coll: str, ean13: str, known: Iterable[str] = ()) -> int:
    """Give free places of the title to its queue, head first, one conditional write each (a new
    licence bought, a hold placed while a place freed). Returns how many were reserved."""
    given = 0
    settings: tuple[HoldSettings, dict[str, Any]] | None = None
    pools = list(Pool)
    marked = False
    for _ in range(ATTEMPTS * 4):
        if not pools:
            break
        pool = pools[0]
        _, queue = hold_store.queue(gln_coll, ean13)
        if not any(h.state is HoldState.WAITING for h in queue):
            break  # nobody waits (a title never held costs one read)
        first = head(queue, pool)
        lines = _fresh_licences(gln_coll, ean13, ctx.now, known) if first or not marked else []
        if not marked:  # holds wait: a line without the mark (a new licence) would let a loan skip the queue
            hold_store.mark(gln_coll, ean13, [lic.order_line_id for lic in lines if not lic.queued])
            marked = True
        free = _lendable(lines, ctx.now, pool) if first else []
        if first is None or not free:
            pools.pop(0)  # this pool's queue is served (or has no place): the next pool
            continue
        settings = settings or _settings(gln_coll)
        if any(not seat.live(ctx.now) for seat in free[0].seats.values()):
            line_store.prune(free[0].order_line_id, ctx.now)  # a lapsed loan's place, into `free` first
        reserved = reserve(first, free[0].order_line_id, ctx.now, settings[0])
        event = _outbox(ctx, reserved, settings[1])
        try:
            hold_store.reserve_free(reserved, ctx.now, event)
        except hold_store.Moved:
            continue  # the place or the hold went meanwhile: read again
        _announce(ctx, reserved, event)
        given += 1
    return given


def release(ctx: Ctx, current: Hold, state: HoldState) -> bool:
    """End a reservation (EXPIRED past its window, or CANCELLED): its place to the next in line, else back
    to the licence (and then to whoever asks). False when the hold changed meanwhile (read it again)."""
    following_allowed = True
    for _ in range(HANDOVER_ATTEMPTS):
        fresh = hold_store.get(current.gln_coll, current.hold_id)
        if fresh is None or fresh.state is not HoldState.RESERVED:
            return False
        if state is HoldState.EXPIRED and fresh.claimable(ctx.now):
            return False
        last, queue = hold_store.queue(current.gln_coll, current.ean13)
        nxt = head(queue, fresh.pool) if following_allowed else None
        settings, raw = _settings(current.gln_coll)
        following = reserve(nxt, fresh.order_line_id or "", ctx.now, settings) if nxt else None
        event = _outbox(ctx, following, raw) if following else None
        try:
            hold_store.pass_on(fresh, state, ctx.now, following, event, last)
        except hold_store.Moved:
            line = line_store.get_line(fresh.order_line_id or "")
            if line is None or line.get("status") != "OK" or str(line.get("endDate", "")) <= iso(ctx.now):
                following_allowed = False  # the licence can lend no more: the place goes back to it
            continue
        if following is not None:
            _announce(ctx, following, event)
        return True
    return False


def expire_reservations(ctx: Ctx) -> int:
    """The scheduled job: every reservation whose window passed goes to the next in line (or is freed)."""
    return sum(1 for h in hold_store.due(ctx.now) if release(ctx, h, HoldState.EXPIRED))


def notify_pending(ctx: Ctx) -> int:
    """The scheduled job's catch-up: reservations whose patron was not emailed yet (the function that
    made the reservation could not send it)."""
    return sum(1 for h in hold_store.reserved_unnotified(ctx.now) if notify(ctx, h))


# --- borrowing a reservation (services.patron_loans.create) ---

def reservation_of(ctx: Ctx, gln_coll: str, member_id: str, ean13: str,
                   believed: dict[str, str] | None = None, pool: Pool = Pool.DOWNLOAD) -> Hold | None:
    """The patron's reservation of the title that they may borrow now from `pool`, if any (`believed`:
    their holds record's map, when the caller read it already)."""
    if believed is None:
        _, believed = hold_store.patron_holds(gln_coll, member_id)
    ids = [k for k, v in believed.items() if v == ean13]
    for h in hold_store.get_many(gln_coll, ids) if ids else []:
        if h.claimable(ctx.now) and h.pool is pool:
            return h
    return None


def open_holds(ctx: Ctx, gln_coll: str, member_id: str) -> list[HoldView]:
    """The patron's holds still waiting or reserved, oldest placed first, with their positions (read from
    the patron's holds record: a few items, however long their history)."""
    _, believed = hold_store.patron_holds(gln_coll, member_id)
    found = [h for h in (hold_store.get_many(gln_coll, list(believed)) if believed else []) if h.open]
    return _views(ctx, sorted(found, key=lambda h: (h.placed_at, h.hold_id)))


def open_of(gln_coll: str, member_id: str, ean13: str, believed: dict[str, str] | None = None) -> list[Hold]:
    """The patron's open holds of the title."""
    if believed is None:
        _, believed = hold_store.patron_holds(gln_coll, member_id)
    ids = [k for k, v in believed.items() if v == ean13]
    return [h for h in (hold_store.get_many(gln_coll, ids) if ids else []) if h.open]


def close_after_loan(ctx: Ctx, coll: Account, member_id: str, ean13: str,
                     believed: dict[str, str] | None = None) -> None:
    """The patron borrowed the title another way (a free place): their open hold of it is no longer
    needed, and leaves the queue (a reservation made meanwhile passes to the next)."""
    for h in open_of(coll.gln, member_id, ean13, believed):
        with contextlib.suppress(Refused):
            cancel_hold(ctx, coll, h.hold_id)


def queue_length(gln_coll: str, ean13: str, pool: Pool | None = None) -> int:
    """How many patrons wait for the title (for a place of `pool`, or any); reservations not counted."""
    _, queue = hold_store.queue(gln_coll, ean13)
    return sum(1 for h in queue if h.state is HoldState.WAITING and (pool is None or h.pool is pool))
