"""Loans: lending and ending are single transactions with the licence counters (and the outbox)."""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from ..domain.dates import from_store, iso
from ..domain.licences import Pool
from ..domain.loans import Loan, LoanState
from ..domain.renewals import loan_days
from . import table
from .licences import HELD_ATTRS, POOL_ATTRS, line_key

if TYPE_CHECKING:
    from ..domain.holds import Hold
    from .patrons import PatronWrite

DUE_SHARDS = 8  # spreads the active-by-end-time index over a few partitions


def loan_key(gln_coll: str, loan_id: str) -> tuple[str, str]:
    return f"LOAN#{gln_coll}#{loan_id}", "LOAN"


def _due_shard(gln_coll: str, loan_id: str) -> str:
    return f"DUE#{zlib.crc32(f'{gln_coll}#{loan_id}'.encode()) % DUE_SHARDS}"


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
    if loan.state is LoanState.ACTIVE:
        item["gsi2pk"] = _due_shard(loan.gln_coll, loan.loan_id)
        item["gsi2sk"] = f"{iso(loan.end_date)}#{loan.gln_coll}#{loan.loan_id}"
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


def lend(new: Loan, now: datetime, patron: PatronWrite | None = None, reservation: Hold | None = None) -> None:
    """Put the loan and take one access and one place of its pool, atomically; with `patron` (v1: the
    patron's record, list item and email claim) and `reservation` (the hold whose reserved place the loan
    takes, claimed) in the same transaction.

    The line's condition holds every rule of a loan (owner, EAN, status, window, duration, NTA, pool).
    Raises LoanExists (the loanId is taken), PatronMoved (a condition of the patron's or the hold's
    writes) or LicenceRefused (with the line as it was, or {})."""
    try:
        table.transact(lend_items(new, now, companions(new, now, patron, reservation), reservation is not None))
    except table.TransactionFailed as e:
        if 0 in e.failed:
            raise LoanExists(loan(e.failed[0] or {})) from None
        if any(i >= 2 for i in e.failed):
            raise PatronMoved from None
        raise LicenceRefused(e.failed.get(1) or {}) from None


def companions(new: Loan, now: datetime, patron: PatronWrite | None,
               reservation: Hold | None) -> list[dict[str, Any]]:
    """The operations written with a loan besides its own and its line's: the patron's, and the claim of
    the hold whose place it takes (a reservation with no window has nothing to claim)."""
    from .holds import claim_op

    items = patron.items(new.loan_id, now) if patron is not None else []
    if reservation is not None and reservation.expires_at:
        items.append(claim_op(reservation, new.loan_id, now, new.pool))
    return items


def carried_event(gln_coll: str, loan_id: str, event_id: str, url: str, body: dict[str, Any],
                  created_at: str) -> dict[str, Any]:
    """A loan's own callback event, written on the loan item with its end (`end`): pending in the outbox
    index until its first delivery claim takes it out (no outbox item of its own: docs/cost.md)."""
    from .outbox import PENDING

    pk, sk = loan_key(gln_coll, loan_id)
    return {"pk": pk, "sk": sk, "type": "loan", "eventId": event_id, "url": url, "glnColl": gln_coll,
            "body": body, "createdAt": created_at, "gsi2pk": PENDING, "gsi2sk": f"{created_at}#{event_id}"}


def lend_items(new: Loan, now: datetime, extra_items: Sequence[dict[str, Any]] = (),
               reserved: bool = False) -> list[dict[str, Any]]:
    """The TransactWriteItems operations of one loan (also what the loanBook bench replays bare).

    Places reserved for holds are out of `free` already; the accesses they will spend are kept: a loan
    needs `nta > held`. A loan made from a reservation takes its place from `held` instead of `free`."""
    free, _ = POOL_ATTRS[new.pool]
    # A reservation's place comes out of `held` (and a streaming pool's own reserved count, `#h`).
    stream_held = HELD_ATTRS.get(new.pool) if reserved else None
    # Days the loan needs, rounded up at the microsecond: compared with the licence's maxLoanDays.
    need = Decimal(math.ceil((new.end_date - now).total_seconds() * 1e6)) / Decimal(86_400_000_000)
    lpk, lsk = line_key(new.order_line_id)
    items: list[dict[str, Any]] = [
        {"Put": {"TableName": table.table_name(), "Item": table.ser(_item(new)),
                 "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Update": {
            "TableName": table.table_name(),
            "Key": table.key(lpk, lsk),
            "UpdateExpression": f"SET {'held = held' if reserved else '#f = #f'} - :one, nta = nta - :one, "
                                + ("#h = #h - :one, " if stream_held else "")
                                + "beginDate = if_not_exists(beginDate, :now)",
            "ConditionExpression": "glnColl = :coll AND ean13 = :ean AND #s = :ok AND dmdDate <= :now "
                                   "AND endDate > :now AND endDate >= :end AND maxLoanDays >= :need "
                                   "AND nta > :zero AND " + ("held > :zero" if reserved else
                                   "#f > :zero AND (attribute_not_exists(held) OR nta > held)")
                                   + (" AND #h > :zero" if stream_held else ""),
            "ExpressionAttributeNames": ({"#s": "status"} if reserved else {"#f": free, "#s": "status"})
                                        | ({"#h": stream_held} if stream_held else {}),
            "ExpressionAttributeValues": {":one": table.val(1), ":zero": table.val(0), ":ok": table.val("OK"),
                                          ":now": table.val(iso(now)), ":end": table.val(iso(new.end_date)),
                                          ":need": table.val(need), ":coll": table.val(new.gln_coll),
                                          ":ean": table.val(new.ean13)},
        }},
        *extra_items,
    ]
    return items


class AlreadyEnded(Exception):
    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__("loan already ended")
        self.item = item


class HandoverFailed(Exception):
    """A condition of the hand-over items failed (the hold moved, or the licence can reserve no more)."""


def end(current: Loan, state: LoanState, now: datetime, outbox: dict[str, Any] | None = None,
        handover: Sequence[dict[str, Any]] | None = None, guard: Sequence[dict[str, Any]] = ()) -> bool:
    """ACTIVE -> RETURNED/EXPIRED and the place freed, with the outbox event, in one transaction.

    `outbox` (services.lending.outbox_event): the loan's own `loan.returned` event. It is no item of its
    own: the loan item carries it (`callbackEventId`, and its place in the pending index gsi2 `OUTBOX`,
    where the loan's due entry was), so the return is one 2-item transaction, not three; the first
    delivery claim takes it out of the pending index (store.callbacks.claim), no separate write.

    `handover` (store.holds.handover_ops): the place goes to the head of the title's hold queue instead
    of back to `free`, in this same transaction (a reserved place never passes through `free`, so no
    other patron can take it). Raises HandoverFailed when one of its conditions fails: the caller
    decides again (the next hold, or no hand-over). `guard` (store.holds.queue_guard): checks that the
    title's queue is as read when there is no hand-over (a hold placed meanwhile fails it the same way).

    The loan's condition makes a second end a clear error (AlreadyEnded), never a second place freed.
    An expiry also requires the end date to have passed, so it can't overtake a renewal or a return.
    The pool is clamped at its size; returns False when clamping had to drop the increment (drift)."""
    pk, sk = loan_key(current.gln_coll, current.loan_id)
    free, size = POOL_ATTRS[current.pool]
    sets = {"state": state.value, "returnedAt": iso(now)} if state is LoanState.RETURNED else {"state": state.value}
    if state is LoanState.RETURNED:
        sets["gsi3pk"] = f"ENDED#{current.gln_coll}"
        sets["gsi3sk"] = f"{iso(now)}#{current.loan_id}"
    if outbox:  # the loan's own event, folded into it: pending on gsi2 until its first delivery claim
        sets.update(callbackEventId=outbox["eventId"], gsi2pk=outbox["gsi2pk"], gsi2sk=outbox["gsi2sk"])
    expr = table.update_expr(sets, remove=() if outbox else ("gsi2pk", "gsi2sk"))
    cond = "#state = :active"
    expr["ExpressionAttributeValues"][":active"] = table.val(LoanState.ACTIVE.value)
    if state is LoanState.EXPIRED:
        cond += " AND #endDate <= :now"
        expr["ExpressionAttributeNames"]["#endDate"] = "endDate"
        expr["ExpressionAttributeValues"][":now"] = table.val(iso(now))
    loan_update = {"Update": {"Key": table.key(pk, sk), "ConditionExpression": cond, **expr}}
    lpk, lsk = line_key(current.order_line_id)
    line_update = {"Update": {
        "Key": table.key(lpk, lsk),
        "UpdateExpression": "SET #f = #f + :one",
        "ConditionExpression": "#f < #z",
        "ExpressionAttributeNames": {"#f": free, "#z": size},
        "ExpressionAttributeValues": {":one": table.val(1)},
    }}
    try:
        moves = list(handover) if handover is not None else [line_update]
        table.transact([loan_update, *moves, *guard])
        return True
    except table.TransactionFailed as e:
        if 0 in e.failed:
            raise AlreadyEnded(e.failed[0] or {}) from None
        if handover is not None or any(1 + len(moves) <= i < 1 + len(moves) + len(guard) for i in e.failed):
            raise HandoverFailed() from None
    # The pool was already full: end the loan anyway, the counter stays clamped at its size.
    loan_update = {"Update": {"Key": table.key(pk, sk), "ConditionExpression": cond, **expr}}
    try:
        table.transact([loan_update, *guard])
    except table.TransactionFailed as e:
        if 0 not in e.failed and any(1 <= i <= len(guard) for i in e.failed):
            raise HandoverFailed() from None
        raise AlreadyEnded(e.failed.get(0) or {}) from None
    return False


class LoanChanged(Exception):
    """The loan is no longer as it was read (returned, expired or renewed meanwhile): `item` is how it is."""

    def __init__(self, item: dict[str, Any]) -> None:
        super().__init__("loan changed")
        self.item = item


def renew(current: Loan, new_end: datetime, now: datetime) -> None:
    """Move an active loan's end to `new_end` in one transaction: the loan must still be active, not past
    its end, and still end when it did when read (so the rules were judged on the loan as it is); the
    licence must still be OK, end no earlier, and allow the whole loan's length. Nothing is taken.

    An expiry requires the end to have passed and a return requires the loan active (`end`): whichever
    lands first, the other's condition fails, so no loan is both renewed and returned or expired.
    Raises LoanChanged (with the loan as it is) or LicenceRefused (with the licence as it is)."""
    pk, sk = loan_key(current.gln_coll, current.loan_id)
    sets: dict[str, Any] = {"endDate": iso(new_end), "gsi2sk": f"{iso(new_end)}#{current.gln_coll}#{current.loan_id}"}
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
    line_check = {"ConditionCheck": {
        "Key": table.key(lpk, lsk),
        "ConditionExpression": "glnColl = :coll AND #s = :ok AND endDate >= :end AND maxLoanDays >= :need",
        "ExpressionAttributeNames": {"#s": "status"},
        "ExpressionAttributeValues": {":coll": table.val(current.gln_coll), ":ok": table.val("OK"),
                                      ":end": table.val(iso(new_end)),
                                      ":need": table.val(loan_days(current.created_at, new_end))},
    }}
    try:
        table.transact([loan_update, line_check])
    except table.TransactionFailed as e:
        if 0 in e.failed:
            raise LoanChanged(e.failed[0] or {}) from None
        raise LicenceRefused(e.failed.get(1) or {}) from None


def get(gln_coll: str, loan_id: str) -> Loan | None:
    item = table.get(*loan_key(gln_coll, loan_id))
    return loan(item) if item else None


def get_many(gln_coll: str, loan_ids: list[str]) -> list[Loan]:
    return [loan(i) for i in table.batch_get([loan_key(gln_coll, x) for x in loan_ids])]


def of_line(order_line_id: str) -> list[Loan]:
    return [loan(i) for i in table.query("gsi1", "gsi1pk", f"LINE#{order_line_id}")]


def due(now: datetime, limit: int = 500) -> list[Loan]:
    """Active loans whose end has come, over every shard of the due index."""
    out: list[Loan] = []
    for shard in range(DUE_SHARDS):
        items = table.query("gsi2", "gsi2pk", f"DUE#{shard}", sk_name="gsi2sk", sk_below=iso(now), limit=limit)
        out.extend(loan(i) for i in items)
    return out


def ended_since(gln_coll: str, since: datetime) -> list[Loan]:
    items = table.query("gsi3", "gsi3pk", f"ENDED#{gln_coll}", sk_name="gsi3sk", sk_between=(iso(since), "~"))
    return [loan(i) for i in items]
