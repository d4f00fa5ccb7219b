"""Holds in the table: the queue of each title, the patron's holds, and the conditional writes that move
a place between a loan, a reservation and the licence's free places without ever giving it twice.

Keys and access patterns:

- queue counter   HOLDQ#<glnColl>#<ean13> / QUEUE       `next`: the last ticket given (tickets from 1);
                                                         `low`: no open hold has a lower ticket;
                                                         `linesQueued`: the title's lines carry the mark;
                                                         GSI1 HOLDQUEUES / <glnColl>#<ean13> (held titles)
- hold            HOLDQ#<glnColl>#<ean13> / H#<ticket>   the queue itself: the counter, then one consistent
                                                         Query from H#<low> gives the open holds in order
- patron's holds  PATRON#<glnColl>#<memberId> / HOLDS    `holds` {holdId: ean13} believed open, `version`
- library's list  GSI1 HOLDS#<glnColl> / <placedAt>#<holdId>                  (GET /v1/holds, newest first)
- patron's list   GSI4 MEMBERHOLDS#<glnColl>#<memberId> / <placedAt>#<holdId> (GET /v1/holds?member_id=)
- reservations    GSI2 HOLDDUE / <holdExpiresAt>#<glnColl>#<holdId>, while RESERVED (the expiry job)
- per licence     GSI3 HELD#<orderLineId> / <holdId>, while RESERVED (reconcile: the line's `held`)

A licence line carries `held`: its places reserved for holds (and `heldOn`/`heldOff`: those of the
streaming pools; a hold waits for a place of one pool, its `pool`, and only a place of that pool serves
it). A reserved place is out of its pool's `free` (every door sees it taken) and keeps one access of
`nta` (store.loans.lend_items: other loans need nta > held).

- placing: the queue counter (`next = :read`), the hold (new), the patron's holds (`version = :read`)
  and the `QUEUED` mark on each of the title's lines in one transaction: tickets follow commit order, one
  patron never passes their limit by racing, and a loan dropping lapsed seats with no queue read (only
  from a line without the mark, on condition it is still absent) can no longer land once a hold waits.
  The expiry job marks the lines a hold waits for that lack it (a line bought meanwhile, or written
  before the mark existed) and removes the marks once no hold waits (`unqueue`, guarded by `next`).
- hand-over on a loan's end (store.loans.end, `handover_ops`): the hold WAITING -> RESERVED and the line
  `held + 1` in the end's own transaction, instead of `free + 1`.
- reserve a free place (`reserve_free`): the hold WAITING -> RESERVED, the line `free - 1, held + 1`
  under `free > 0` (a new licence, or a hold placed as a place freed).
- claim (`claim_op`, in the loan's transaction): the hold RESERVED -> CLAIMED while its window runs, on
  that very line; the loan takes `held - 1` instead of `free - 1`.
- pass on (`pass_on`): RESERVED -> EXPIRED/CANCELLED; the place to the next hold (line unchanged) or back
  to the line (`free + 1, held - 1`)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from ..domain.dates import from_store, iso
from ..domain.holds import Hold, HoldState, parse_hold_id
from ..domain.licences import Pool
from . import table
from .licences import HELD_ATTRS, POOL_ATTRS, QUEUED, line_key, running, terms

QUEUE_SK = "QUEUE"


def queue_pk(gln_coll: str, ean13: str) -> str:
    return f"HOLDQ#{gln_coll}#{ean13}"


def hold_key(gln_coll: str, ean13: str, ticket: int) -> tuple[str, str]:
    return queue_pk(gln_coll, ean13), f"H#{ticket:011d}"


def key_of_id(gln_coll: str, hold_id: str) -> tuple[str, str] | None:
    parsed = parse_hold_id(hold_id)
    return hold_key(gln_coll, *parsed) if parsed else None


def patron_holds_key(gln_coll: str, member_id: str) -> tuple[str, str]:
    return f"PATRON#{gln_coll}#{member_id}", "HOLDS"


def _item(hold: Hold) -> dict[str, Any]:
    pk, sk = hold_key(hold.gln_coll, hold.ean13, hold.ticket)
    item: dict[str, Any] = {
        "pk": pk, "sk": sk, "type": "hold", "glnColl": hold.gln_coll, "ean13": hold.ean13, "ticket": hold.ticket,
        "holdId": hold.hold_id, "memberId": hold.member_id, "state": hold.state.value,
        "placedAt": iso(hold.placed_at), "email": hold.email, "callbackUrl": hold.callback_url,
        "gsi1pk": f"HOLDS#{hold.gln_coll}", "gsi1sk": f"{iso(hold.placed_at)}#{hold.hold_id}",
        "gsi4pk": f"MEMBERHOLDS#{hold.gln_coll}#{hold.member_id}",
        "gsi4sk": f"{iso(hold.placed_at)}#{hold.hold_id}", "pool": hold.pool.value,
    }
    return item


def hold(item: dict[str, Any]) -> Hold:
    return Hold(gln_coll=item["glnColl"], ean13=item["ean13"], ticket=int(item["ticket"]),
                member_id=item["memberId"], placed_at=from_store(item["placedAt"]),  # type: ignore[arg-type]
                state=HoldState(item["state"]), order_line_id=item.get("orderLineId"),
                reserved_at=from_store(item.get("reservedAt")), expires_at=from_store(item.get("holdExpiresAt")),
                ended_at=from_store(item.get("endedAt")), loan_id=item.get("loanId"), email=item.get("email"),
                callback_url=item.get("callbackUrl"),
                extra={k: item[k] for k in ("notifiedAt",) if k in item}, pool=Pool(item.get("pool", "dl")))


# --- reads ---

LOW_STEP = 16  # how far the queue's low-water mark must move before it is written


def queue(gln_coll: str, ean13: str) -> tuple[int, list[Hold]]:
    """The queue's last ticket and its open holds (waiting or reserved) in ticket order, read consistently.

    Ended holds stay in the partition; the counter's `low` (no open hold has a lower ticket) keeps this
    read from growing with the title's history: only tickets from `low` are read, and `low` moves up as
    the queue is served."""
    last, holds, _ = queue_state(gln_coll, ean13)
    return last, holds


def queue_state(gln_coll: str, ean13: str) -> tuple[int, list[Hold], bool]:
    """`queue`, and whether the title's lines were marked (`QUEUED`) since the marks were last removed."""
    qpk = queue_pk(gln_coll, ean13)
    counter = table.get(qpk, QUEUE_SK)
    if counter is None:  # never held: no hold to read (a return of such a title costs one GetItem more)
        return 0, [], False
    last, low = int(counter.get("next", 0)), int(counter.get("low", 1))
    items = table.query(None, "pk", qpk, sk_name="sk", sk_between=(f"H#{low:011d}", "H#~"), consistent=True)
    out = [hold(i) for i in items if i.get("state") in (HoldState.WAITING.value, HoldState.RESERVED.value)]
    lowest = min((h.ticket for h in out), default=last + 1)
    if lowest >= low + LOW_STEP:
        _raise_low(qpk, lowest)
    return last, sorted(out, key=lambda h: h.ticket), bool(counter.get(LINES_QUEUED))


def last_ticket(gln_coll: str, ean13: str) -> int:
    """The queue's last ticket (0: never held), read consistently: whether a hold joined it since."""
    counter = table.get(queue_pk(gln_coll, ean13), QUEUE_SK)
    return int(counter.get("next", 0)) if counter else 0


def _raise_low(qpk: str, low: int) -> None:
    """Tickets below `low` are all ended (a ticket is never reused, an ended hold never reopens)."""
    try:
        table.client().update_item(
            TableName=table.table_name(), Key=table.key(qpk, QUEUE_SK), UpdateExpression="SET #l = :l",
            ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(#l) OR #l < :l)",
            ExpressionAttributeNames={"#l": "low"}, ExpressionAttributeValues={":l": table.val(low)})
    except table.client().exceptions.ConditionalCheckFailedException:
        pass  # another reader moved it as far or further


def get(gln_coll: str, hold_id: str) -> Hold | None:
    key = key_of_id(gln_coll, hold_id)
    item = table.get(*key) if key else None
    return hold(item) if item else None


def get_many(gln_coll: str, hold_ids: list[str]) -> list[Hold]:
    keys = [k for k in (key_of_id(gln_coll, x) for x in hold_ids) if k]
    return [hold(i) for i in table.batch_get(keys)]


def patron_holds(gln_coll: str, member_id: str) -> tuple[int, dict[str, str]]:
    """(version, {holdId: ean13}) of the patron's holds believed open; (0, {}) when there is no record."""
    item = table.get(*patron_holds_key(gln_coll, member_id))
    return (int(item.get("version", 0)), dict(item.get("holds") or {})) if item else (0, {})


def library_holds(gln_coll: str, skip: int, count: int) -> tuple[list[Hold], bool]:
    items = table.query("gsi1", "gsi1pk", f"HOLDS#{gln_coll}", forward=False, limit=skip + count + 1)
    return [hold(i) for i in items[skip:skip + count]], len(items) > skip + count


def member_holds(gln_coll: str, member_id: str, skip: int, count: int) -> tuple[list[Hold], bool]:
    items = table.query("gsi4", "gsi4pk", f"MEMBERHOLDS#{gln_coll}#{member_id}", forward=False,
                        limit=skip + count + 1)
    return [hold(i) for i in items[skip:skip + count]], len(items) > skip + count


def queue_entry(gln_coll: str, ean13: str) -> dict[str, str]:
    """The queue counter's place in the index of held titles (gsi1 `HOLDQUEUES`): the expiry job reads
    only these titles' lines, where a lapsed loan's place must go to the head of the queue."""
    return {"gsi1pk": "HOLDQUEUES", "gsi1sk": f"{gln_coll}#{ean13}"}


def held_titles() -> list[tuple[str, str]]:
    """(glnColl, ean13) of every title that ever had a hold queue."""
    return [(i["glnColl"], i["ean13"]) for i in table.query("gsi1", "gsi1pk", "HOLDQUEUES")]


def due(now: datetime, limit: int = 500) -> list[Hold]:
    """Reservations whose window has passed (GSI2, eventually consistent: the writes re-check)."""
    items = table.query("gsi2", "gsi2pk", "HOLDDUE", sk_name="gsi2sk", sk_below=iso(now), limit=limit)
    return [hold(i) for i in items]


def reserved_unnotified(now: datetime, limit: int = 500) -> list[Hold]:
    """Running reservations whose patron still waits for the email (the address is dropped once sent)."""
    items = table.query("gsi2", "gsi2pk", "HOLDDUE", sk_name="gsi2sk", sk_between=(iso(now), "~"), limit=limit,
                        filter_expr="attribute_exists(email)")
    return [hold(i) for i in items]


def reserved_on_line(order_line_id: str) -> dict[Pool, int]:
    """How many holds are RESERVED on a licence, per pool (GSI3: reconcile re-reads a drift before
    reporting it)."""
    out = dict.fromkeys(Pool, 0)
    for item in table.query("gsi3", "gsi3pk", f"HELD#{order_line_id}"):
        out[Pool(item.get("pool", "dl"))] += 1
    return out


# --- writes ---

class Moved(Exception):
    """A condition failed: the queue, the hold, the patron's holds or the licence changed meanwhile."""


def _transact(items: list[dict[str, Any]]) -> None:
    try:
        table.transact(items)
    except table.TransactionFailed:
        raise Moved() from None


LINES_QUEUED = "linesQueued"


def mark_op(order_line_id: str) -> dict[str, Any]:
    """The line's `QUEUED` mark (a line that exists: the mark never creates one)."""
    return {"Update": {"Key": table.key(*line_key(order_line_id)), "UpdateExpression": f"SET {QUEUED} = :t",
                       "ConditionExpression": "attribute_exists(pk)",
                       "ExpressionAttributeValues": {":t": table.val(True)}}}


def place(new: Hold, last_ticket: int, patron_version: int, patron_map: dict[str, str],
          lines: list[str] | tuple[str, ...] = ()) -> None:
    """The hold with ticket `last_ticket + 1`, the queue counter, the patron's holds and the `QUEUED`
    mark on the title's `lines`, in one transaction: raises Moved if another hold took the ticket, the
    patron's record changed or a line went."""
    qpk = queue_pk(new.gln_coll, new.ean13)
    counter = {"pk": qpk, "sk": QUEUE_SK, "type": "holdQueue", "glnColl": new.gln_coll, "ean13": new.ean13,
               "next": new.ticket, LINES_QUEUED: True, **queue_entry(new.gln_coll, new.ean13)}
    queue_op: dict[str, Any]
    if last_ticket == 0:
        queue_op = {"Put": {"Item": table.ser(counter), "ConditionExpression": "attribute_not_exists(pk)"}}
    else:  # an update, not a put: the counter's `low` stays
        queue_op = {"Update": {"Key": table.key(qpk, QUEUE_SK), "UpdateExpression": "SET #n = :n, #q = :t",
                               "ConditionExpression": "#n = :read",
                               "ExpressionAttributeNames": {"#n": "next", "#q": LINES_QUEUED},
                               "ExpressionAttributeValues": {":read": table.val(last_ticket),
                                                             ":n": table.val(new.ticket), ":t": table.val(True)}}}
    ppk, psk = patron_holds_key(new.gln_coll, new.member_id)
    record = {"pk": ppk, "sk": psk, "type": "patronHolds", "glnColl": new.gln_coll, "memberId": new.member_id,
              "version": patron_version + 1, "holds": patron_map}
    record_op: dict[str, Any] = {"Put": {"Item": table.ser(record), "ConditionExpression": (
        "attribute_not_exists(pk)" if patron_version == 0 else "version = :v")}}
    if patron_version:
        record_op["Put"]["ExpressionAttributeValues"] = {":v": table.val(patron_version)}
    _transact([queue_op, {"Put": {"Item": table.ser(_item(new)), "ConditionExpression": "attribute_not_exists(pk)"}},
               record_op, *(mark_op(x) for x in dict.fromkeys(lines))])


def mark(gln_coll: str, ean13: str, lines: list[str]) -> None:
    """Holds wait for the title and these lines of it lack the `QUEUED` mark (a line bought after the
    hold was placed, or written before the mark existed): the counter says so first, then each line (a
    line gone meanwhile is skipped)."""
    if not lines:
        return
    with_counter: list[dict[str, Any]] = [{"Update": {
        "Key": table.key(queue_pk(gln_coll, ean13), QUEUE_SK), "UpdateExpression": "SET #q = :t",
        "ConditionExpression": "attribute_exists(pk)", "ExpressionAttributeNames": {"#q": LINES_QUEUED},
        "ExpressionAttributeValues": {":t": table.val(True)}}}]
    for op in [*with_counter, *(mark_op(x) for x in lines)]:
        try:
            table.update(op["Update"])
        except table.ConditionFailed:
            pass


def unqueue(gln_coll: str, ean13: str, last_ticket: int, lines: list[str]) -> bool:
    """No hold of the title waits (read at ticket `last_ticket`): its lines' `QUEUED` marks and the
    counter's `linesQueued` go, in one transaction guarded by the counter's `next` (a hold placed
    meanwhile fails it: its own transaction marks the lines again). Returns whether it landed."""
    counter = {"Update": {"Key": table.key(queue_pk(gln_coll, ean13), QUEUE_SK), "UpdateExpression": "REMOVE #q",
                          "ConditionExpression": "#n = :read",
                          "ExpressionAttributeNames": {"#q": LINES_QUEUED, "#n": "next"},
                          "ExpressionAttributeValues": {":read": table.val(last_ticket)}}}
    unmark = [{"Update": {"Key": table.key(*line_key(x)), "UpdateExpression": f"REMOVE {QUEUED}",
                          "ConditionExpression": "attribute_exists(pk)"}} for x in dict.fromkeys(lines)]
    try:
        table.transact([counter, *unmark])
    except table.TransactionFailed:
        return False
    return True


def _reserve_op(reserved: Hold) -> dict[str, Any]:
    """The hold WAITING -> RESERVED on its line, until its window's end."""
    assert reserved.expires_at and reserved.reserved_at and reserved.order_line_id
    pk, sk = hold_key(reserved.gln_coll, reserved.ean13, reserved.ticket)
    expr = table.update_expr({
        "state": HoldState.RESERVED.value, "orderLineId": reserved.order_line_id,
        "reservedAt": iso(reserved.reserved_at), "holdExpiresAt": iso(reserved.expires_at),
        "gsi2pk": "HOLDDUE", "gsi2sk": f"{iso(reserved.expires_at)}#{reserved.gln_coll}#{reserved.hold_id}",
        "gsi3pk": f"HELD#{reserved.order_line_id}", "gsi3sk": reserved.hold_id})
    expr["ExpressionAttributeValues"][":waiting"] = table.val(HoldState.WAITING.value)
    return {"Update": {"Key": table.key(pk, sk), "ConditionExpression": "#state = :waiting", **expr}}


def _pruned(op: dict[str, Any]) -> dict[str, Any]:
    """DynamoDB refuses names and values an expression does not use: keep only the used ones."""
    text = " ".join(op.get(k, "") for k in ("UpdateExpression", "ConditionExpression"))
    for part in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
        kept = {k: v for k, v in op.get(part, {}).items() if re.search(re.escape(k) + r"\b", text)}
        if kept:
            op[part] = kept
        else:
            op.pop(part, None)
    return op


def _line_op(order_line_id: str, now: datetime, update: str, condition: str,
             pool: Pool = Pool.DOWNLOAD, window: bool = True, begun: bool = True) -> dict[str, Any]:
    """An update of the line: `#f`/`#z` name the free places and size of `pool`, `#h` its own reserved
    count (streaming pools; `held` for downloads, whose count is `held` itself).

    `window`: only while the licence runs (`begun`: and has started). Its dates are immutable terms, not
    on the item the write targets (store.licences.HOT): judged on the terms as read, a closed window
    makes the condition one that fails, so the write fails as it did when the dates were on the line."""
    lpk, lsk = line_key(order_line_id)
    if window and not running(terms(order_line_id), now, begun):
        condition = f"attribute_not_exists(pk) AND {condition}"
    free, size = POOL_ATTRS[pool]
    return {"Update": _pruned({
        "Key": table.key(lpk, lsk), "UpdateExpression": update,
        "ConditionExpression": condition,
        "ExpressionAttributeNames": {"#s": "status", "#f": free, "#z": size, "#h": HELD_ATTRS.get(pool, "held")},
        "ExpressionAttributeValues": {":one": table.val(1), ":zero": table.val(0), ":ok": table.val("OK"),
                                      ":now": table.val(iso(now))}})}


def _held_plus(pool: Pool, sign: str) -> str:
    """SET clauses that move `held` (and a streaming pool's own count) by one: sign "+" or "-"."""
    if sign == "+":
        out = "held = if_not_exists(held, :zero) + :one"
        return out if pool is Pool.DOWNLOAD else out + ", #h = if_not_exists(#h, :zero) + :one"
    return "held = held - :one" + ("" if pool is Pool.DOWNLOAD else ", #h = #h - :one")


def _held_positive(pool: Pool) -> str:
    return "held > :zero" + ("" if pool is Pool.DOWNLOAD else " AND #h > :zero")


# The licence can still lend (OK, running) and keeps an access for one more reservation.
# (Its window, dmdDate <= now < endDate, is judged on its terms: `_line_op`'s `window`.)
_CAN_HOLD = "#s = :ok AND nta > :zero AND (attribute_not_exists(held) OR nta > held)"


def _outbox_op(outbox: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not outbox:
        return []
    return [{"Put": {"Item": table.ser(outbox), "ConditionExpression": "attribute_not_exists(pk)"}}]


def queue_guard(gln_coll: str, ean13: str, last_ticket: int) -> dict[str, Any]:
    """A ConditionCheck that the title's queue took no new hold since it was read (its last ticket): a
    place freed to the licence while a hold is being placed would otherwise wait there, unserved."""
    check: dict[str, Any] = {"Key": table.key(queue_pk(gln_coll, ean13), QUEUE_SK)}
    if last_ticket == 0:
        check["ConditionExpression"] = "attribute_not_exists(pk)"
    else:
        check.update({"ConditionExpression": "#n = :read", "ExpressionAttributeNames": {"#n": "next"},
                      "ExpressionAttributeValues": {":read": table.val(last_ticket)}})
    return {"ConditionCheck": check}


def handover_ops(reserved: Hold, now: datetime, outbox: dict[str, Any] | None) -> list[dict[str, Any]]:
    """For store.loans.end: the ending loan's place goes to `reserved` (the head of its queue) instead of
    back to `free` (`#z`, the pool's size, is named for the expression's sake only)."""
    line = _line_op(reserved.order_line_id or "", now, f"SET {_held_plus(reserved.pool, '+')}",
                    f"{_CAN_HOLD} AND #f < #z", reserved.pool)
    return [_reserve_op(reserved), line, *_outbox_op(outbox)]


def reserve_free(reserved: Hold, now: datetime, outbox: dict[str, Any] | None) -> None:
    """A free place of the line to `reserved`: raises Moved if the hold or the place went meanwhile."""
    line = _line_op(reserved.order_line_id or "", now, f"SET #f = #f - :one, {_held_plus(reserved.pool, '+')}",
                    f"{_CAN_HOLD} AND #f > :zero AND #z > :zero", reserved.pool)
    _transact([_reserve_op(reserved), line, *_outbox_op(outbox)])


def _end_op(old: Hold, state: HoldState, now: datetime, condition: str,
            values: dict[str, Any], loan_id: str | None = None) -> dict[str, Any]:
    pk, sk = hold_key(old.gln_coll, old.ean13, old.ticket)
    fields: dict[str, Any] = {"state": state.value, "endedAt": iso(now)}
    if loan_id:
        fields["loanId"] = loan_id
    expr = table.update_expr(fields, remove=("gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk", "email"))
    expr["ExpressionAttributeValues"].update({k: table.val(v) for k, v in values.items()})
    for name in ("holdExpiresAt", "orderLineId"):
        expr["ExpressionAttributeNames"][f"#{name}"] = name
    return {"Update": _pruned({"Key": table.key(pk, sk), "ConditionExpression": condition, **expr})}


def claim_op(reserved: Hold, loan_id: str, now: datetime, pool: Pool = Pool.DOWNLOAD) -> dict[str, Any]:
    """For the loan's transaction: the reservation consumed, while its window runs, on its own line, by a
    loan of its own pool (`pool`: the loan's; holds written before pools existed are downloads)."""
    same_pool = "#pool = :pool" if pool is not Pool.DOWNLOAD else "(attribute_not_exists(#pool) OR #pool = :pool)"
    op = _end_op(reserved, HoldState.CLAIMED, now,
                 f"#state = :reserved AND #holdExpiresAt > :now AND #orderLineId = :line AND {same_pool}",
                 {":reserved": HoldState.RESERVED.value, ":now": iso(now), ":line": reserved.order_line_id,
                  ":pool": pool.value},
                 loan_id=loan_id)
    op["Update"]["ExpressionAttributeNames"]["#pool"] = "pool"
    return op


def cancel_waiting(old: Hold, now: datetime) -> None:
    """WAITING -> CANCELLED; raises Moved if it is no longer waiting (reserved meanwhile, or over)."""
    _transact([_end_op(old, HoldState.CANCELLED, now, "#state = :waiting",
                       {":waiting": HoldState.WAITING.value})])


def pass_on(old: Hold, state: HoldState, now: datetime, following: Hold | None,
            outbox: dict[str, Any] | None, last_ticket: int = 0) -> None:
    """End a reservation (EXPIRED once its window passed, or CANCELLED) and, in the same transaction, give
    its place to `following` (reserved on the same line, the line unchanged but still able to lend) or
    back to the line. Raises Moved when any of them changed meanwhile."""
    cond = "#state = :reserved AND #orderLineId = :line"
    values: dict[str, Any] = {":reserved": HoldState.RESERVED.value, ":line": old.order_line_id}
    if state is HoldState.EXPIRED:
        cond += " AND #holdExpiresAt <= :now"
        values[":now"] = iso(now)
    items = [_end_op(old, state, now, cond, values)]
    if following is not None:
        if following.pool is not old.pool:
            raise ValueError("a reserved place passes only to a hold of its own pool")
        items += [_reserve_op(following),
                  _line_op(old.order_line_id or "", now, "SET held = held + :zero",
                           "#s = :ok AND held > :zero", begun=False)]
        items += _outbox_op(outbox)
    else:  # back to the licence, unless a hold joined the queue meanwhile (`last_ticket`, as read)
        items.append(_line_op(old.order_line_id or "", now, f"SET #f = #f + :one, {_held_plus(old.pool, '-')}",
                              f"{_held_positive(old.pool)} AND #f < #z", old.pool, window=False))
        items.append(queue_guard(old.gln_coll, old.ean13, last_ticket))
    _transact(items)


def mark_notified(reserved: Hold, now: datetime) -> None:
    """The patron was emailed: the address is no longer needed, and is dropped."""
    pk, sk = hold_key(reserved.gln_coll, reserved.ean13, reserved.ticket)
    table.client().update_item(TableName=table.table_name(), Key=table.key(pk, sk),
                               **table.update_expr({"notifiedAt": iso(now)}, remove=("email",)))
