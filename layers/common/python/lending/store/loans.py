"""Loans: a loan is its seat on the licence line (one conditional write) and its detail record; ending
one early is two writes, the detail (with its event) then the seat off the line; its end frees its place
with no write."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..domain.dates import from_store, iso
from ..domain.licences import Pool, Seat, lapsed
from ..domain.loans import Loan, LoanState
from ..domain.values import replace
from . import licences, table
from .licences import (
    HELD_ATTRS,
    MARK,
    POOL_ATTRS,
    QUEUED,
    SEATS,
    line_key,
    lines_key,
    running,
    seat_text,
    seat_value,
    seats,
    with_terms,
)

if TYPE_CHECKING:
    from ..domain.holds import Hold
    from .patrons import PatronWrite

def loan_key(gln_coll: str, loan_id: str) -> tuple[str, str]:
    return f"LOAN#{gln_coll}#{loan_id}", "LOAN"


def _item(loan: Loan) -> dict[str, Any]:
    pk, sk = loan_key(loan.gln_coll, loan.loan_id)
    item: dict[str, Any] = {
        "pk": pk,
        "sk": sk,
        "type": "loan",
        "glnColl": loan.gln_coll,
        "loanId": loan.loan_id,
        "orderLineId": loan.order_line_id,
        "ean13": loan.ean13,
        "glnDistributor": loan.gln_distributor or None,  # known when the licence was read
        "pool": loan.pool.value,
        "state": loan.state.value,
        "createdAt": iso(loan.created_at),
        "endDate": iso(loan.end_date),
        "returnedAt": iso(loan.returned_at) if loan.returned_at else None,
        "fingerprint": loan.fingerprint,
        "answer": loan.answer or None,
        "callbackUrl": loan.callback_url,
        "origin": loan.origin,
        "extra": loan.extra or None,
        "gsi1pk": f"LINE#{loan.order_line_id}",
        "gsi1sk": f"{iso(loan.created_at)}#{loan.loan_id}",
    }
    member = loan.extra.get("memberId") if loan.origin == "v1" else None
    if member:  # library API v1: a patron's loans by creation time
        item["gsi4pk"] = f"MEMBER#{loan.gln_coll}#{member}"
        item["gsi4sk"] = f"{iso(loan.created_at)}#{loan.loan_id}"
    # No due index entry: a loan's end frees its place by itself (its seat on the line lapses).
    return item


def loan(item: dict[str, Any]) -> Loan:
    return Loan(
        gln_coll=item["glnColl"],
        loan_id=item["loanId"],
        order_line_id=item["orderLineId"],
        ean13=item["ean13"],
        gln_distributor=item.get("glnDistributor", ""),
        pool=Pool(item["pool"]),
        created_at=from_store(item["createdAt"]),  # type: ignore[arg-type]
        end_date=from_store(item["endDate"]),  # type: ignore[arg-type]
        state=LoanState(item["state"]),
        returned_at=from_store(item.get("returnedAt")),
        fingerprint=item.get("fingerprint", ""),
        answer=item.get("answer") or {},
        callback_url=item.get("callbackUrl"),
        origin=item.get("origin", "pnb"),
        extra=item.get("extra") or {},
    )


class LoanExists(Exception):
    def __init__(self, existing: Loan) -> None:
        super().__init__(existing.loan_id)
        self.existing = existing


class LicenceRefused(Exception):
    """The licence's condition failed: `item` is the licence as it was, for the core to explain why."""

    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__("licence condition failed")
        self.item = item


class PatronMoved(Exception):
    """A condition of the patron's writes (record, email claim, listing) or of the hold's claim failed:
    something moved since the caller read it; it reads again and decides again."""


class Lapsed(Exception):
    """The line holds seats whose end has passed (`ids`) and its title may have a waiting hold (the line's
    `QUEUED` mark): the caller hands them to the title's hold queue, then lends again with `prune` (the
    loan's own write then frees the rest)."""

    def __init__(self, ids: list[str], line: dict[str, Any]) -> None:
        super().__init__("lapsed seats")
        self.ids = ids
        self.line = line  # as read: lent again from it when the queue took none (its write's conditions hold)


def lend(new: Loan, now: datetime, patron: PatronWrite | None = None, reservation: Hold | None = None,
         prune: bool = True, line: dict[str, Any] | None = None) -> None:
    """Take one access and one place of the loan's pool: ONE conditional write of its licence line (the
    loan's seat added, the seats whose end has passed dropped and their places freed), then the loan's
    detail record. With `patron` (v1: the patron's record, list item and email claim) and `reservation`
    (the hold whose reserved place the loan takes, claimed) the line, the detail and theirs are one
    transaction instead.

    The rules on the licence's immutable terms (owner, EAN, window, duration) are judged on the line as
    read (`terms_allow`: they cannot have changed); the line's condition holds every other (status, NTA,
    pool) and that the seats it drops are still there as read (a racing loan that dropped them first, or a
    renewal that moved one's end, makes it read again). The write targets the line's hot item only
    (store.licences.HOT: under 1 KB with 20 live seats).
    The seat is the loan: a detail not written after it (a crash) is written by a replay of the same
    request (`_seated`) or released by the reconcile job (`release_orphans`); never counted twice.
    Raises LoanExists (the loanId is taken), PatronMoved (a condition of the patron's or the hold's
    writes), LicenceRefused (with the line as it was, or {}) or, without `prune`, Lapsed when the line's
    title may have a waiting hold (its `QUEUED` mark). Without the mark, the lapsed seats are dropped with
    no queue read, on condition the mark is still absent (a hold placed meanwhile fails the write).

    The line is read eventually consistent (half a read unit): everything the write relies on is in its
    conditions, so a stale line fails them, and the failure returns the line as it is (LicenceRefused's
    item: ALL_OLD), which the caller lends again from with no second read. `line`: the line as the caller
    read it just before (Lapsed's, or a failed write's), not read again."""
    # An absent line read eventually may be a line just written (an order a moment ago): read it again.
    line = line or licences.get_line(new.order_line_id, consistent=False) or licences.get_line(new.order_line_id)
    if line is None:
        raise LicenceRefused({})
    held = seats(line)
    if new.loan_id in held:
        try:
            existing = _seated(new, held[new.loan_id])
        except LicenceRefused as e:
            raise LicenceRefused(with_terms(line, e.item)) from None
        raise LoanExists(existing)
    gone = lapsed(held, now)
    unqueued = bool(gone) and not prune and not line.get(QUEUED)
    if gone and not prune and not unqueued:
        raise Lapsed(sorted(gone), line)
    if not terms_allow(new, now, line):  # immutable: as read is as it is (the write conditions on the rest)
        raise LicenceRefused(line)
    take = take_op(new, now, line, gone, reservation is not None, unqueued=unqueued)
    others = companions(new, now, patron, reservation)
    if others:
        try:
            table.transact([{"Update": take}, detail_put(new), *others])
        except table.TransactionFailed as e:
            if 1 in e.failed:
                raise LoanExists(loan(e.failed[1] or {})) from None
            if any(i >= 2 for i in e.failed):
                raise PatronMoved from None
            raise LicenceRefused(with_terms(line, e.failed.get(0) or {})) from None
        return
    try:
        table.update(take)
    except table.ConditionFailed as e:
        raise LicenceRefused(with_terms(line, e.item)) from None
    _record(new, line_owned=True)


def _need(new: Loan, now: datetime) -> Decimal:
    """Days the loan needs, rounded up at the microsecond: against the licence's maxLoanDays."""
    return Decimal(math.ceil((new.end_date - now).total_seconds() * 1e6)) / Decimal(86_400_000_000)


def terms_allow(new: Loan, now: datetime, line: dict[str, Any]) -> bool:
    """The rules of a loan on the licence's immutable terms (owner, EAN, window, the loan's end within
    the licence's, its length within maxLoanDays), judged on the line as read: they never change, so the
    line's write conditions only on what does (status, NTA, places, seats)."""
    return (line.get("glnColl") == new.gln_coll and line.get("ean13") == new.ean13 and running(line, now)
            and line["endDate"] >= iso(new.end_date) and "maxLoanDays" in line
            and int(line["maxLoanDays"]) >= _need(new, now))


def detail_put(new: Loan) -> dict[str, Any]:
    return {"Put": {"TableName": table.table_name(), "Item": table.ser(_item(new)),
                    "ConditionExpression": "attribute_not_exists(pk)"}}


def _record(new: Loan, line_owned: bool) -> None:
    """The loan's detail, after its seat: written once (a replay finds it). When the id is another loan's
    (a request that took the same loanId on another line, or before), the seat just written is released
    (`line_owned`) and the caller gets that loan (LoanExists)."""
    try:
        table.put_new(_item(new))
        return
    except table.ConditionFailed as e:
        existing = loan(e.item) if e.item else get(new.gln_coll, new.loan_id)
    if existing is None:  # cannot be: a detail is never deleted
        raise RuntimeError(f"loan {new.loan_id} neither written nor found")
    same = existing.order_line_id == new.order_line_id and existing.created_at == new.created_at.replace(
        microsecond=0) and existing.fingerprint == new.fingerprint
    if line_owned and not same:
        release(new)
    raise LoanExists(existing)


def _seated(new: Loan, seat: Seat) -> Loan:
    """The line already holds a seat under the request's loanId: the loan as it is (a replay), its detail
    written now if a crash cut the first request short (the same request: its seat's mark), or a stand-in
    carrying only the seat's mark (another request's: DUPLICATED)."""
    existing = get(new.gln_coll, new.loan_id)
    if existing is not None:
        return existing
    if seat.mark != new.fingerprint[:MARK]:
        return replace(new, created_at=seat.created, end_date=seat.end, fingerprint=seat.mark)
    first = replace(new, created_at=seat.created, end_date=seat.end)
    # The detail only with its seat still there as read: reconcile may have released it meanwhile (an
    # orphan past its grace); a detail written after that would be a loan no line counts.
    lpk, lsk = line_key(new.order_line_id)
    check = {"ConditionCheck": {"Key": table.key(lpk, lsk), "ConditionExpression": f"{SEATS}.#n = :seat",
                                "ExpressionAttributeNames": {"#n": new.loan_id},
                                "ExpressionAttributeValues": {":seat": table.val(seat_text(seat))}}}
    try:
        table.transact([detail_put(first), check])
    except table.TransactionFailed as e:
        if 0 in e.failed:
            return loan(e.failed[0] or {}) if e.failed[0] else get(new.gln_coll, new.loan_id) or first
        raise LicenceRefused(e.failed.get(1) or {}) from None  # released: the caller reads and lends again
    return first


def release(new: Loan, orphan: bool = False) -> bool:
    """Give back a seat whose loan was never recorded (its id was taken): its place and its access.
    With `orphan` (reconcile: no detail was found) only while the loan still has no detail, in the same
    transaction: a replay that wrote it since made the loan real. Returns whether it was released."""
    free, _ = POOL_ATTRS[new.pool]
    lpk, lsk = line_key(new.order_line_id)
    op = {"Key": table.key(lpk, lsk),
          "UpdateExpression": f"SET #f = #f + :one, nta = nta + :one REMOVE {SEATS}.#n",
          "ConditionExpression": f"{SEATS}.#n = :seat",
          "ExpressionAttributeNames": {"#f": free, "#n": new.loan_id},
          "ExpressionAttributeValues": {":one": table.val(1), ":seat": table.val(_seat_of(new))}}
    try:  # a failed condition: already released (a concurrent replay, reconcile) or recorded since
        if orphan:
            table.transact([{"Update": op}, {"ConditionCheck": {
                "Key": table.key(*loan_key(new.gln_coll, new.loan_id)),
                "ConditionExpression": "attribute_not_exists(pk)"}}])
        else:
            table.update(op)
    except (table.ConditionFailed, table.TransactionFailed):
        return False
    return True


def _seat_of(x: Loan) -> str:
    return seat_value(x.pool, x.end_date, x.created_at, x.fingerprint)


def companions(new: Loan, now: datetime, patron: PatronWrite | None,
               reservation: Hold | None) -> list[dict[str, Any]]:
    """The operations written with a loan besides its own and its line's: the patron's, and the claim of
    the hold whose place it takes (a reservation with no window has nothing to claim)."""
    from .holds import claim_op

    items = patron.items(new.loan_id, now) if patron is not None else []
    if reservation is not None and reservation.expires_at:
        items.append(claim_op(reservation, new.loan_id, now, new.pool))
    return items


def carried_event(event_id: str) -> dict[str, Any]:
    """A loan's own `loan.returned` event, written on the loan item with its end (`end`): its id. The
    body is rebuilt from the loan (notify.events.from_outbox); the write itself, read from the table's
    stream, hands it to the delivery (no outbox item, no pending index entry, no queue message)."""
    return {"eventId": event_id}


def take_op(new: Loan, now: datetime, line: dict[str, Any], gone: dict[str, Seat] | None = None,
            reserved: bool = False, unqueued: bool = False) -> dict[str, Any]:
    """The UpdateItem of the line that lends `new` (also what the loanBook bench replays bare): its seat
    added, the lapsed seats `gone` dropped and their places given back to their pools. `unqueued`: they
    are dropped with no hold queue read, so only while the line's title has no hold (no `QUEUED` mark).

    Places reserved for holds are out of `free` already; the accesses they will spend are kept: a loan
    needs `nta > held`. A loan made from a reservation takes its place from `held` instead of `free`."""
    gone = gone or {}
    names: dict[str, str] = {"#s": "status", "#n": new.loan_id}
    values: dict[str, Any] = {":one": 1, ":zero": 0, ":ok": "OK", ":now": iso(now), ":seat": _seat_of(new)}
    back = {p: sum(1 for x in gone.values() if x.pool is p) for p in Pool}
    sets, conds, removes = [], [], []
    if SEATS in line:
        sets.append(f"{SEATS}.#n = :seat")
        conds.append(f"attribute_not_exists({SEATS}.#n)")
    else:  # a line no loan was seated on yet (or not backfilled): its map starts with this one
        sets.append(f"{SEATS} = :seats")
        values[":seats"] = {new.loan_id: values.pop(":seat")}
        names.pop("#n")
        conds.append(f"attribute_not_exists({SEATS})")
    for i, old in enumerate(sorted(gone)):
        names[f"#l{i}"] = old
        removes.append(f"{SEATS}.#l{i}")
        # the seat as read, not any seat under that id: a renewal landing meanwhile moved its end (live)
        values[f":l{i}"] = seat_text(gone[old])
        conds.append(f"{SEATS}.#l{i} = :l{i}")
    if unqueued:  # a hold placed since the line was read marks it: the freed places go to its queue first
        conds.append(f"attribute_not_exists({QUEUED})")
    for pool in Pool:
        delta = back[pool] - (1 if pool is new.pool and not reserved else 0)
        if delta:
            names[f"#{pool.value}"] = POOL_ATTRS[pool][0]
            values[f":{pool.value}"] = abs(delta)
            sets.append(f"#{pool.value} = #{pool.value} {'+' if delta > 0 else '-'} :{pool.value}")
    sets += ["nta = nta - :one", "beginDate = if_not_exists(beginDate, :now)"]
    # The licence's terms (owner, EAN, window, end, maxLoanDays) are judged from the read (terms_allow)
    conds.append("#s = :ok AND nta > :zero")
    stream_held = HELD_ATTRS.get(new.pool) if reserved else None
    if reserved:  # a reservation's place comes out of `held` (and a streaming pool's own count, `#h`)
        sets.append("held = held - :one")
        conds.append("held > :zero")
        if stream_held:
            names["#h"] = stream_held
            sets.append("#h = #h - :one")
            conds.append("#h > :zero")
    else:  # a place of the pool free once its lapsed seats are dropped: stored free > -(lapsed)
        names["#f"] = POOL_ATTRS[new.pool][0]
        values[":lapsed"] = -back[new.pool]
        conds.append("#f > :lapsed AND (attribute_not_exists(held) OR nta > held)")
    lpk, lsk = line_key(new.order_line_id)
    return {"TableName": table.table_name(), "Key": table.key(lpk, lsk),
            "UpdateExpression": "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else ""),
            "ConditionExpression": " AND ".join(conds), "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": {k: table.val(v) for k, v in values.items()}}


class AlreadyEnded(Exception):
    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__("loan already ended")
        self.item = item


class HandoverFailed(Exception):
    """A condition of the hand-over items failed (the hold moved, or the licence can reserve no more)."""


class Queued(Exception):
    """A seat's write conditioned on the line's `QUEUED` mark being absent found it: a hold was placed
    since the line was read, and the freed place goes to the title's queue first."""


def end(current: Loan, state: LoanState, now: datetime, outbox: dict[str, Any] | None = None) -> Loan:
    """The first of an end's two writes: ACTIVE -> RETURNED/EXPIRED on the loan's detail alone (one
    conditional UpdateItem, no transaction), with its event. The second takes its seat off the line
    (`free_seat`). A crash between the two leaves the seat on the line, the loan ended: a replay of the
    same return finishes it (services.lending.return_early), or the reconcile job does
    (services.lending.release_orphans); each is conditioned on the seat, so a place is freed once.
    Until then the place stays taken, never given twice (the seat lapses at the loan's end at worst).

    `outbox` (carried_event): the loan's own `loan.returned` event. It is no item of its own: the loan
    item carries it (`callbackEventId`), written with the return itself, so it is never lost; this very
    write, read from the table's stream, is what hands it to the delivery (docs/callbacks.md).

    The condition makes a second end a clear error (AlreadyEnded, with the loan as it is), never a
    second place freed. An expiry also requires the end date to have passed, so it can't overtake a
    renewal or a return. Returns the loan as written (its end as it is: a renewal may have moved it
    since `current` was read), whose seat the line's write is conditioned on."""
    expr, cond = _end_expr(current.gln_coll, current.loan_id, state, now, outbox)
    if state is LoanState.EXPIRED:
        cond += " AND #endDate <= :now"
        expr["ExpressionAttributeNames"]["#endDate"] = "endDate"
        expr["ExpressionAttributeValues"][":now"] = table.val(iso(now))
    try:
        item = table.update({"Key": table.key(*loan_key(current.gln_coll, current.loan_id)),
                             "ConditionExpression": cond, "ReturnValues": "ALL_NEW", **expr})
    except table.ConditionFailed as e:
        raise AlreadyEnded(e.item) from None
    return loan(item)


def _end_expr(gln_coll: str, loan_id: str, state: LoanState, when: datetime,
              outbox: dict[str, Any] | None) -> tuple[dict[str, Any], str]:
    """The detail's write of an end (`end`, `return_in_line`) and its first condition: still ACTIVE."""
    sets = {"state": state.value, "returnedAt": iso(when)} if state is LoanState.RETURNED else {"state": state.value}
    if state is LoanState.RETURNED:
        sets["gsi3pk"] = f"ENDED#{gln_coll}"
        sets["gsi3sk"] = f"{iso(when)}#{loan_id}"
    if outbox:  # the loan's own event, folded into it: the stream hands this write to the delivery
        sets["callbackEventId"] = outbox["eventId"]
    expr = table.update_expr(sets, remove=("gsi2pk", "gsi2sk"))  # a due entry of a loan written before seats
    expr["ExpressionAttributeValues"][":active"] = table.val(LoanState.ACTIVE.value)
    return expr, "#state = :active"


class NotReturned(Exception):
    """`return_in_line`'s condition failed: `item` is the loan as it is (read by the write itself, as a
    consistent read would), {} when there is none; the caller decides from it as from a read."""

    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__("loan not returned")
        self.item = item


def return_in_line(gln_coll: str, loan_id: str, order_line_id: str, when: datetime, now: datetime,
                   asked: datetime | None, outbox: dict[str, Any]) -> Loan:
    """An early return with no read of the loan before it (PNB endLoan's common path): `end`'s write of
    the detail, conditioned on everything the read was for - the loan exists on `order_line_id`, ACTIVE,
    its end not passed at `now`, and, when the caller gave a return date (`asked`), created no later
    than it (domain.loans.return_date). Returns the loan as written (ALL_NEW: its seat as it is). Its
    event is always written (`outbox`: the loan is not known before the write): an event id on a loan
    without `callbackUrl` is inert (the stream's filter, the sweeper and the delivery all require both).

    Raises NotReturned with the loan as it is when any condition fails: nothing written, and the
    caller's decision code (ALREADY_ENDED, LOAN_NOT_IN_LINE, a return cut short finished by its replay,
    an expiry on the way, INVALID_RETURN_DATE) runs on it exactly as on a consistent read."""
    expr, cond = _end_expr(gln_coll, loan_id, LoanState.RETURNED, when, outbox)
    names, values = expr["ExpressionAttributeNames"], expr["ExpressionAttributeValues"]
    names.update({"#line": "orderLineId", "#endDate": "endDate"})
    values.update({":line": table.val(order_line_id), ":now": table.val(iso(now))})
    # ISO to the second (sortable): the stored dates are whole seconds, so `end > now` and `created <=
    # asked` compare as the domain's datetimes do
    cond += " AND #line = :line AND #endDate > :now"
    if asked is not None:
        names["#createdAt"] = "createdAt"
        values[":asked"] = table.val(iso(asked))
        cond += " AND #createdAt <= :asked"
    try:
        item = table.update({"Key": table.key(*loan_key(gln_coll, loan_id)), "ConditionExpression": cond,
                             "ReturnValues": "ALL_NEW", **expr})
    except table.ConditionFailed as e:
        raise NotReturned(e.item) from None
    return loan(item)


def seat_held(ended: Loan) -> bool:
    """Whether the line still holds the loan's own seat (an end cut short after its detail's write)."""
    item = table.get(*line_key(ended.order_line_id))
    return item is not None and (item.get(SEATS) or {}).get(ended.loan_id) == _seat_of(ended)


def free_seat(ended: Loan, handover: Sequence[dict[str, Any]] | None = None, unqueued: bool = False) -> bool:
    """The second of an end's writes: the loan's seat off its line (`REMOVE loans.<id>`, on condition that
    it is there as the loan says: a place is given back once, whoever comes first among the end itself,
    its replay and reconcile), its place back to the pool (one UpdateItem) or, with `handover`
    (store.holds.handover_ops), to the head of the title's hold queue in one transaction with the
    reservation (a reserved place never passes through `free`, so no other patron can take it).

    `unqueued`: the caller read the line without the mark and no queue: the write also requires the mark
    still absent (a hold placed since marks the line in its own transaction), else raises Queued with the
    seat still there, and the caller serves the queue (services.holds.free_place).

    Raises HandoverFailed when a condition of the hand-over failed with the seat still there: the caller
    decides again (the next hold, or no hand-over). Returns False when nothing was given back: the seat
    was gone (dropped at its end by a later loan, or taken off by a replay or reconcile), or the pool was
    already full (drift: the seat comes off, nothing is added)."""
    lpk, lsk = line_key(ended.order_line_id)
    mine = _seat_of(ended)

    def gone(item: dict[str, Any] | None) -> bool:
        return (item is not None and item.get("pk") == lpk and item.get("sk") == lsk
                and (item.get(SEATS) or {}).get(ended.loan_id) != mine)

    if handover is not None:
        try:
            table.transact([unseat(op, lpk, ended.loan_id, mine) for op in handover])
            return True
        except table.TransactionFailed as e:
            if any(gone(item) for item in e.failed.values()):
                return False
            raise HandoverFailed() from None
    free, size = POOL_ATTRS[ended.pool]
    # `unqueued`: a hold placed since the line was read marks it, and fails this write
    cond = f"#f < #z AND attribute_not_exists({QUEUED})" if unqueued else "#f < #z"
    op = {"Key": table.key(lpk, lsk), "UpdateExpression": "SET #f = #f + :one",
          "ConditionExpression": cond, "ExpressionAttributeNames": {"#f": free, "#z": size},
          "ExpressionAttributeValues": {":one": table.val(1)}}
    try:
        table.update(unseat({"Update": op}, lpk, ended.loan_id, mine)["Update"])
        return True
    except table.ConditionFailed as e:
        if not e.item or gone(e.item):
            return False
        if unqueued and e.item.get(QUEUED):
            raise Queued() from None
    with contextlib.suppress(table.ConditionFailed):  # clamped: the seat off, the pool left at its size
        table.update({"Key": table.key(lpk, lsk), "UpdateExpression": f"REMOVE {SEATS}.#n",
                      "ConditionExpression": f"{SEATS}.#n = :seat", "ExpressionAttributeNames": {"#n": ended.loan_id},
                      "ExpressionAttributeValues": {":seat": table.val(mine)}})
    return False


class LoanChanged(Exception):
    """The loan is no longer as it was read (returned, expired or renewed meanwhile): `item` is how it is."""

    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__("loan changed")
        self.item = item


def renew(current: Loan, new_end: datetime, now: datetime) -> None:
    """Move an active loan's end to `new_end` in one transaction: the loan must still be active, not past
    its end, and still end when it did when read (so the rules were judged on the loan as it is); the
    licence must still be OK and hold the loan's seat (its end and maxLoanDays, immutable, were judged by
    the caller on the line as read). Nothing is taken.

    An expiry requires the end to have passed and a return requires the loan active (`end`): whichever
    lands first, the other's condition fails, so no loan is both renewed and returned or expired.
    Raises LoanChanged (with the loan as it is) or LicenceRefused (with the licence as it is)."""
    pk, sk = loan_key(current.gln_coll, current.loan_id)
    sets: dict[str, Any] = {"endDate": iso(new_end)}
    expr = table.update_expr(sets)
    names, values = expr["ExpressionAttributeNames"], expr["ExpressionAttributeValues"]
    end_field = next((k for k in ("loanEndDate", "consultEndDate") if k in current.answer), None)
    if end_field:  # a loanBook replay within the hour answers the end as it now is
        expr["UpdateExpression"] += ", #answer.#endField = :endDate"
        names.update({"#answer": "answer", "#endField": end_field})
    names["#state"] = "state"
    values.update({":active": table.val(LoanState.ACTIVE.value), ":old": table.val(iso(current.end_date)),
                   ":now": table.val(iso(now))})
    loan_update = {"Update": {"Key": table.key(pk, sk), **expr,
                              "ConditionExpression": "#state = :active AND #endDate = :old AND #endDate > :now"}}
    lpk, lsk = line_key(current.order_line_id)
    # The seat moves with the loan's end (so the line keeps counting it until then). The licence's
    # immutable terms (its end, maxLoanDays) were judged on the line as read (domain.renewals.check_renewal).
    line_check = {"Update": {
        "Key": table.key(lpk, lsk),
        "UpdateExpression": f"SET {SEATS}.#n = :seat",
        "ConditionExpression": f"#s = :ok AND attribute_exists({SEATS}.#n)",
        "ExpressionAttributeNames": {"#s": "status", "#n": current.loan_id},
        "ExpressionAttributeValues": {":ok": table.val("OK"),
                                      ":seat": table.val(_seat_of(replace(current, end_date=new_end)))},
    }}
    try:
        table.transact([loan_update, line_check])
    except table.TransactionFailed as e:
        if 0 in e.failed:
            raise LoanChanged(e.failed[0] or {}) from None
        raise LicenceRefused(e.failed.get(1) or {}) from None


def get(gln_coll: str, loan_id: str, consistent: bool = True) -> Loan | None:
    item = table.get(*loan_key(gln_coll, loan_id), consistent=consistent)
    return loan(item) if item else None


def get_many(gln_coll: str, loan_ids: list[str]) -> list[Loan]:
    return [loan(i) for i in table.batch_get([loan_key(gln_coll, x) for x in loan_ids])]


def of_line(order_line_id: str) -> list[Loan]:
    return [loan(i) for i in table.query("gsi1", "gsi1pk", f"LINE#{order_line_id}")]


def unseat(op: dict[str, Any], line_pk: str, loan_id: str, seat: str | None = None) -> dict[str, Any]:
    """The line's update of an end (its place back to the pool, or to a hold) also takes the loan's
    seat off, on condition that it is there (as `seat`, when given): a seat is given back once."""
    body = op.get("Update")
    if body is None or table.de(body["Key"]) != {"pk": line_pk, "sk": "LINE"}:
        return op
    body = {**body, "ExpressionAttributeNames": {**body.get("ExpressionAttributeNames", {}), "#seat": loan_id}}
    body["UpdateExpression"] += f" REMOVE {SEATS}.#seat"
    if seat is None:
        there = f"attribute_exists({SEATS}.#seat)"
    else:
        there = f"{SEATS}.#seat = :seatAsEnded"
        body["ExpressionAttributeValues"] = {**body.get("ExpressionAttributeValues", {}),
                                             ":seatAsEnded": table.val(seat)}
    body["ConditionExpression"] = f"({body['ConditionExpression']}) AND {there}"
    return {"Update": body}


def ended_since(gln_coll: str, since: datetime) -> list[Loan]:
    items = table.query("gsi3", "gsi3pk", f"ENDED#{gln_coll}", sk_name="gsi3sk", sk_between=(iso(since), "~"))
    return [loan(i) for i in items]


def backfill_seats() -> dict[str, int]:
    """Once, on a table written before lines held their loans (docs/cost.md, deployment): every ACTIVE
    loan gets its seat on its line (lapsed ones too: the line's counters still count them, the next loan
    of the line drops them and frees their places), every hold queue its entry in the held titles' index
    (`HOLDQUEUES`, for the expiry job), every licence line its entry in its collectivity's (`LINES#`, for
    the FTP files' running loans), and loans lose their old due index entry (`DUE#`). Safe to run
    again: each write is conditioned on what it adds not being there. Run it in the deployment's quiet
    hour, before the doors take traffic. Returns how many of each were written."""
    from .holds import queue_entry

    done = {"seats": 0, "queues": 0, "due_entries": 0, "lines": 0}
    lines: dict[str, list[Loan]] = {}
    args: dict[str, Any] = {"TableName": table.table_name(), "FilterExpression": "#t = :t",
                            "ExpressionAttributeNames": {"#t": "type"},
                            "ExpressionAttributeValues": {":t": {"S": "loan"}}}
    for item in table.pages("scan", args):
        x = loan(item)
        if x.state is LoanState.ACTIVE:
            lines.setdefault(x.order_line_id, []).append(x)
        if str(item.get("gsi2pk", "")).startswith("DUE#"):
            with contextlib.suppress(table.ConditionFailed):
                table.update({"Key": table.key(item["pk"], item["sk"]), "UpdateExpression": "REMOVE gsi2pk, gsi2sk",
                              "ConditionExpression": "begins_with(gsi2pk, :due)",
                              "ExpressionAttributeValues": {":due": table.val("DUE#")}})
                done["due_entries"] += 1
    for order_line_id, active in sorted(lines.items()):
        lpk, lsk = line_key(order_line_id)
        for x in active:
            line = table.get(lpk, lsk)
            if line is None or x.loan_id in seats(line):
                continue
            op: dict[str, Any] = {"Key": table.key(lpk, lsk), "ExpressionAttributeNames": {"#n": x.loan_id}}
            if SEATS in line:
                op.update(UpdateExpression=f"SET {SEATS}.#n = :seat",
                          ConditionExpression=f"attribute_not_exists({SEATS}.#n)",
                          ExpressionAttributeValues={":seat": table.val(_seat_of(x))})
            else:
                op.update(UpdateExpression=f"SET {SEATS} = :seats",
                          ConditionExpression=f"attribute_not_exists({SEATS})",
                          ExpressionAttributeValues={":seats": table.val({x.loan_id: _seat_of(x)})})
                op.pop("ExpressionAttributeNames")
            with contextlib.suppress(table.ConditionFailed):
                table.update(op)
                done["seats"] += 1
    args = {"TableName": table.table_name(), "FilterExpression": "#t = :t AND attribute_not_exists(gsi1pk)",
            "ExpressionAttributeNames": {"#t": "type"}, "ExpressionAttributeValues": {":t": {"S": "holdQueue"}}}
    for item in table.pages("scan", args):
        entry = queue_entry(item["glnColl"], item["ean13"])
        with contextlib.suppress(table.ConditionFailed):
            table.update({"Key": table.key(item["pk"], item["sk"]),
                          "UpdateExpression": "SET gsi1pk = :p, gsi1sk = :s",
                          "ConditionExpression": "attribute_not_exists(gsi1pk)",
                          "ExpressionAttributeValues": {":p": table.val(entry["gsi1pk"]),
                                                        ":s": table.val(entry["gsi1sk"])}})
            done["queues"] += 1
    args = {"TableName": table.table_name(),
            "FilterExpression": "#t = :t AND attribute_exists(ntaTotal) AND attribute_not_exists(gsi1pk)",
            "ExpressionAttributeNames": {"#t": "type"}, "ExpressionAttributeValues": {":t": {"S": "line"}}}
    for item in table.pages("scan", args):  # licences into their collectivity's index (FTP running loans)
        with contextlib.suppress(table.ConditionFailed):
            table.update({"Key": table.key(item["pk"], item["sk"]),
                          "UpdateExpression": "SET gsi1pk = :p, gsi1sk = :s",
                          "ConditionExpression": "attribute_not_exists(gsi1pk)",
                          "ExpressionAttributeValues": {
                              ":p": table.val(lines_key(item["glnColl"])),
                              ":s": table.val(f"{item['endDate']}#{item['orderLineId']}")}})
            done["lines"] += 1
    return done
