"""Orders and their lines. Every line is an item (OK lines carry the licence: pools, NTA, dates)."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import Any

from ..domain.dates import from_store, iso
from ..domain.licences import Licence, Pool, Seat, live_free
from . import table

POOL_ATTRS = {
    Pool.DOWNLOAD: ("dlFree", "dlSize"),
    Pool.ONSITE: ("onFree", "onSize"),
    Pool.OFFSITE: ("offFree", "offSize"),
}
# A line's places reserved for holds: `held` counts them all (each keeps one access of `nta`); those of a
# streaming pool are counted again per pool (a download reservation is `held` less these).
HELD_ATTRS = {Pool.ONSITE: "heldOn", Pool.OFFSITE: "heldOff"}


# The line's active loans (docs/cost.md): {loanId: "pool|end|created|mark"}, one seat per loan, its times
# in seconds since the epoch written base 36 (7 characters) and the request fingerprint's first 6: a line
# is written whole at every loan, in 1 KB steps, so its seats are kept short (~35 bytes each). The pool
# counters (`dlFree`...) are the size less every seat written and every reserved place; a seat whose end
# has passed frees its place at once for every reader (domain.licences.live_free) and is dropped by the
# line's next loan, so an expiry writes nothing.
SEATS = "loans"
MARK = 6
# Written on every OK line of a title when a hold of it is placed (store.holds.place, in the hold's own
# transaction), removed by the expiry job once no hold waits (store.holds.unqueue): a loan dropping lapsed
# seats from a line without it reads no hold queue, on condition it is still absent (store.loans.take_op).
QUEUED = "holdq"


def _b36(moment: datetime) -> str:
    n, out = int(moment.timestamp()), ""
    while n:
        n, r = divmod(n, 36)
        out = "0123456789abcdefghijklmnopqrstuvwxyz"[r] + out
    return out.rjust(7, "0")


def _from_b36(text: str) -> datetime:
    return datetime.fromtimestamp(int(text, 36), UTC)


def seat_value(pool: Pool, end: datetime, created: datetime, fingerprint: str) -> str:
    return f"{pool.value}|{_b36(end)}|{_b36(created)}|{fingerprint[:MARK]}"


def seat_text(s: Seat) -> str:
    """A seat as written (its mark is already the fingerprint's head): what a drop is conditioned on."""
    return seat_value(s.pool, s.end, s.created, s.mark)


def seat(value: str) -> Seat:
    pool, end, created, mark = value.split("|")
    return Seat(Pool(pool), _from_b36(end), _from_b36(created), mark)


def seats(item: dict[str, Any]) -> dict[str, Seat]:
    return {k: seat(v) for k, v in (item.get(SEATS) or {}).items()}


def line_key(order_line_id: str) -> tuple[str, str]:
    """The line's mutable half: what every conditional write of a loan, an end or a hold targets."""
    return f"LINE#{order_line_id}", "LINE"


def terms_key(order_line_id: str) -> tuple[str, str]:
    """The licence's immutable half, in the same partition: written once with its order, in the indexes."""
    return f"LINE#{order_line_id}", TERMS


# A licence line is two items of one partition (docs/line-split.md). Every write of a loan, an end or a
# hold is a conditional write of the line; DynamoDB bills it by the whole item's size in 1 KB steps, and
# each live seat adds ~36 bytes. So the item those writes target (`LINE`) holds only what a condition or
# an update reads or moves: HOT. The rest (order fields, the licence's token, prices, dates, the three
# index keys) never changes after the order and lives in `TERMS`; a rule on it is judged from the line
# as read (it cannot have changed since). Readers get both merged (`merged`): one Query of the partition.
TERMS = "TERMS"
HOT = frozenset({"pk", "sk", "status", "nta", "ntaTotal", *(a for pair in POOL_ATTRS.values() for a in pair),
                 "held", *HELD_ATTRS.values(), QUEUED, SEATS, "beginDate", "cancelledAt"})


def split(line: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """A licence line as written at its order: (its hot item, its terms item); (the line, None) for a
    refused line (no licence: never lent from, nothing to keep small)."""
    if "ntaTotal" not in line:
        return line, None
    hot = {k: v for k, v in line.items() if k in HOT}
    # ntaTotal on both: the terms item is the line for scans (summaries), the hot one conditions on it
    terms = {k: v for k, v in line.items() if k not in HOT or k == "ntaTotal"}
    return {**hot, "sk": "LINE"}, {**terms, "pk": line["pk"], "sk": TERMS}


def merged(items: list[dict[str, Any]]) -> dict[str, Any] | None:
    """One line from the items of its partition (a line written before the split is its one item)."""
    hot = next((i for i in items if i.get("sk") == "LINE"), None)
    if hot is None:
        return None
    terms = next((i for i in items if i.get("sk") == TERMS), {})
    return {**terms, **hot}


def terms_of(line: dict[str, Any]) -> dict[str, Any]:
    """The immutable part of a line as read: what a failed write's ALL_OLD (the hot item only) lacks."""
    return {k: v for k, v in line.items() if k not in HOT}


def with_terms(line: dict[str, Any], hot: dict[str, Any]) -> dict[str, Any]:
    """The line as a failed conditional write found it: its hot item (ALL_OLD) and the terms as read."""
    return {**terms_of(line), **hot} if hot else {}


def lines_key(gln_coll: str) -> str:
    return f"LINES#{gln_coll}"


def order_key(gln_reseller: str, order_id: str) -> tuple[str, str]:
    return f"ORDER#{gln_reseller}#{order_id}", "ORDER"


def sales_key(gln_distributor: str, ean13: str) -> str:
    return f"SALES#{gln_distributor}#{ean13}"


def licence_fields(lic: Licence) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ntaTotal": lic.nta_total,
        "nta": lic.nta,
        "dmdDate": iso(lic.dmd_date),
        "endDate": iso(lic.end_date),
        "maxLoanDays": lic.max_loan_days,
        "beginDate": iso(lic.begin_date) if lic.begin_date else None,
        "lendingToken": lic.lending_token,
        SEATS: {},
        "gsi2pk": f"COLLEAN#{lic.gln_coll}#{lic.ean13}",
        "gsi2sk": iso(lic.end_date),
        # a collectivity's licences by end (the FTP files' running loans are their lines' live seats)
        "gsi1pk": lines_key(lic.gln_coll),
        "gsi1sk": f"{iso(lic.end_date)}#{lic.order_line_id}",
        # sales points of a publication (distributor console): every licence of one EAN of one distributor
        "gsi3pk": sales_key(lic.gln_distributor, lic.ean13),
        "gsi3sk": f"{iso(lic.dmd_date)}#{lic.order_line_id}",
    }
    for pool, (free, size) in POOL_ATTRS.items():
        out[free] = lic.free[pool]
        out[size] = lic.sizes[pool]
    return out


def licence(item: dict[str, Any], now: datetime) -> Licence:
    """The licence of an OK (or cancelled OK) line item as it stands at `now`: its free places count the
    seats still live then (domain.licences.live_free)."""
    held = seats(item)
    stored = {p: int(item[f]) for p, (f, _) in POOL_ATTRS.items()}
    return Licence(
        order_line_id=item["orderLineId"],
        gln_coll=item["glnColl"],
        gln_reseller=item["glnReseller"],
        order_id=item["orderId"],
        ean13=item["ean13"],
        gln_distributor=item["glnDistributor"],
        status=item["status"],
        sizes={p: int(item[s]) for p, (_, s) in POOL_ATTRS.items()},
        free=live_free(stored, held, now),
        nta_total=int(item["ntaTotal"]),
        nta=int(item["nta"]),
        dmd_date=from_store(item["dmdDate"]),  # type: ignore[arg-type]
        end_date=from_store(item["endDate"]),  # type: ignore[arg-type]
        max_loan_days=int(item["maxLoanDays"]),
        begin_date=from_store(item.get("beginDate")),
        lending_token=item.get("lendingToken"),
        held=int(item.get("held", 0)),
        held_streams={p: int(item.get(a, 0)) for p, a in HELD_ATTRS.items()},
        seats=held,
        queued=bool(item.get(QUEUED)),
    )


def is_licence(item: dict[str, Any]) -> bool:
    return "ntaTotal" in item


def create_order(order: dict[str, Any], lines: list[dict[str, Any]]) -> None:
    """One transaction: the order (unique per reseller) and all its lines, or nothing at all."""
    pk, sk = order_key(order["glnReseller"], order["orderId"])
    # A collectivity's orders by creation time (getOrders by sinceDate).
    by_coll = {"gsi1pk": f"COLL#{order['glnColl']}",
               "gsi1sk": f"{order['createdAt']}#{order['glnReseller']}#{order['orderId']}"}
    # getOrders by orderIdColl reads only that reference's orders (gsi3, sparse: orders and ended loans).
    by_ref = {"gsi3pk": f"COLLREF#{order['glnColl']}#{order['orderIdColl']}", "gsi3sk": by_coll["gsi1sk"]}
    items: list[dict[str, Any]] = [
        {"Put": {"Item": table.ser({"pk": pk, "sk": sk, "type": "order", **order, **by_coll, **by_ref,
                                    # a reseller's orders by creation time (its FTP files)
                                    "gsi4pk": f"RESELLER#{order['glnReseller']}",
                                    "gsi4sk": f"{order['createdAt']}#{order['orderId']}"}),
                 "ConditionExpression": "attribute_not_exists(pk)"}}
    ]
    # A transaction holds 100 items: an order of up to 99 lines writes as many split as fit, the others
    # whole, then splits those after (split_line: a whole line reads and lends as it is meanwhile).
    room = MAX_TRANSACTION - 1 - len(lines)
    whole = []
    for line in lines:
        lpk, lsk = line_key(line["orderLineId"])
        hot, terms = split({"pk": lpk, "sk": lsk, "type": "line", **line})
        if terms is not None and room <= 0:
            hot, terms = {"pk": lpk, "sk": lsk, "type": "line", **line}, None
            whole.append(hot)
        room -= terms is not None
        for item in (hot, terms) if terms else (hot,):
            items.append({"Put": {"Item": table.ser(item), "ConditionExpression": "attribute_not_exists(pk)"}})
    table.transact(items)
    for item in whole:
        split_line(item)


MAX_TRANSACTION = 100


def get_order(gln_reseller: str, order_id: str) -> dict[str, Any] | None:
    return table.get(*order_key(gln_reseller, order_id))


def get_line(order_line_id: str, consistent: bool = True) -> dict[str, Any] | None:
    """The line, both its items in one Query of its partition (under 4 KB together: one read unit, half
    eventually consistent)."""
    pk, _ = line_key(order_line_id)
    line = merged(table.partition(pk, consistent=consistent))
    if line is not None and not consistent and "ntaTotal" in line and "glnColl" not in line:
        return get_line(order_line_id)  # its terms not seen yet by an eventual read (written together)
    return line


def get_lines(ids: list[str]) -> dict[str, dict[str, Any]]:
    parts: dict[str, list[dict[str, Any]]] = {}
    for i in table.batch_get([k for x in ids for k in (line_key(x), terms_key(x))]):
        parts.setdefault(i["pk"], []).append(i)
    out = {}
    for items in parts.values():
        line = merged(items)
        if line is not None:
            out[line["orderLineId"]] = line
    return out


def terms(order_line_id: str) -> dict[str, Any]:
    """The licence's immutable terms (a line written before the split: its one item), {} when none.
    Read eventually consistent (they never change), strongly when not seen yet (an order just written)."""
    return (table.get(*terms_key(order_line_id), consistent=False) or table.get(*terms_key(order_line_id))
            or table.get(*line_key(order_line_id)) or {})


def running(terms: dict[str, Any], now: datetime, begun: bool = True) -> bool:
    """The licence's window holds `now` (`begun`: its start too), as the line's conditions judged it
    (ISO strings compared, as DynamoDB compares them)."""
    at = iso(now)
    if "endDate" not in terms or not at < terms["endDate"]:
        return False
    return not begun or ("dmdDate" in terms and terms["dmdDate"] <= at)


def orders_of_coll(gln_coll: str, since: str | None = None) -> list[dict[str, Any]]:
    if since:
        return table.query("gsi1", "gsi1pk", f"COLL#{gln_coll}", sk_name="gsi1sk", sk_between=(since, "~"))
    return table.query("gsi1", "gsi1pk", f"COLL#{gln_coll}")


def orders_page(gln_coll: str, since: str | None, order_id_coll: str | None,
                max_lines: int) -> tuple[list[dict[str, Any]], str | None]:
    """A collectivity's orders, oldest first, whole, holding at most `max_lines` lines between them
    (an order has at most 99); by its reference (`orderIdColl`) and/or created since `since` (ISO).
    Returns them and, when more remain, the creation time of the first order left out."""
    if order_id_coll is not None:
        index, pk_name, pk, sk_name = "gsi3", "gsi3pk", f"COLLREF#{gln_coll}#{order_id_coll}", "gsi3sk"
    else:
        index, pk_name, pk, sk_name = "gsi1", "gsi1pk", f"COLL#{gln_coll}", "gsi1sk"
    cond = f"{pk_name} = :p" + (f" AND {sk_name} >= :since" if since else "")
    values = {":p": table.val(pk), **({":since": table.val(since)} if since else {})}
    args: dict[str, Any] = {"TableName": table.table_name(), "IndexName": index, "KeyConditionExpression": cond,
                            "ExpressionAttributeValues": values, "Limit": 100}
    out: list[dict[str, Any]] = []
    lines = 0
    for order in table.pages("query", args):  # read back from the index, 100 at a time, lazily
        if lines + len(order["lineIds"]) > max_lines:
            return out, str(order["createdAt"])
        out.append(order)
        lines += len(order["lineIds"])
    return out, None


def backfill_order_refs() -> int:
    """Once, on a table holding orders written before getOrders had a key for orderIdColl (no gsi3 entry,
    or the reseller's `RESELLER#` one, since moved to gsi4): give each its gsi3 `COLLREF#` entry and its
    gsi4 reseller entry (a scan; safe to run again, and alongside traffic). Returns how many were updated."""
    args: dict[str, Any] = {
        "TableName": table.table_name(),
        "FilterExpression": "#t = :order AND (attribute_not_exists(gsi3pk) OR NOT begins_with(gsi3pk, :ref))",
        "ExpressionAttributeNames": {"#t": "type"},
        "ExpressionAttributeValues": {":order": table.val("order"), ":ref": table.val("COLLREF#")},
    }
    done = 0
    for order in table.pages("scan", args):
        try:
            table.client().update_item(
                TableName=table.table_name(), Key=table.key(order["pk"], order["sk"]),
                UpdateExpression="SET gsi3pk = :p, gsi3sk = :s, gsi4pk = :r, gsi4sk = :t",
                ConditionExpression="attribute_not_exists(gsi3pk) OR NOT begins_with(gsi3pk, :ref)",
                ExpressionAttributeValues={
                    ":p": table.val(f"COLLREF#{order['glnColl']}#{order['orderIdColl']}"),
                    ":s": table.val(order["gsi1sk"]), ":ref": table.val("COLLREF#"),
                    ":r": table.val(f"RESELLER#{order['glnReseller']}"),
                    ":t": table.val(f"{order['createdAt']}#{order['orderId']}")})
            done += 1
        except table.client().exceptions.ConditionalCheckFailedException:
            pass
    return done


def prune(order_line_id: str, now: datetime) -> int:
    """Drop the line's lapsed seats and give their places back to their pools, in one conditional write
    (each dropped seat must still be there as read: a place is given back once, and a seat a renewal
    moved meanwhile is live again, so not dropped). For the writes that need a
    free place without lending one (a hold's reservation). Returns how many were dropped."""
    from ..domain.licences import lapsed

    item = get_line(order_line_id)
    gone = lapsed(seats(item), now) if item else {}
    if not gone:
        return 0
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    sets, removes, conds = [], [], []
    for i, loan_id in enumerate(sorted(gone)):
        names[f"#l{i}"] = loan_id
        removes.append(f"{SEATS}.#l{i}")
        values[f":l{i}"] = table.val(seat_text(gone[loan_id]))
        conds.append(f"{SEATS}.#l{i} = :l{i}")
    for pool, (free, _) in POOL_ATTRS.items():
        n = sum(1 for x in gone.values() if x.pool is pool)
        if n:
            names[f"#{pool.value}"], values[f":{pool.value}"] = free, table.val(n)
            sets.append(f"#{pool.value} = #{pool.value} + :{pool.value}")
    lpk, lsk = line_key(order_line_id)
    try:
        table.update({"Key": table.key(lpk, lsk), "ExpressionAttributeNames": names,
                      "ExpressionAttributeValues": values, "ConditionExpression": " AND ".join(conds),
                      "UpdateExpression": "SET " + ", ".join(sets) + " REMOVE " + ", ".join(removes)})
    except table.ConditionFailed:
        return 0  # another write dropped them first
    return len(gone)


def licences_of(gln_coll: str, ean13: str, now: datetime) -> list[Licence]:
    """OK lines of a collectivity for one EAN, the licence that ends soonest first (v1 look-up)."""
    # "0", not "": DynamoDB refuses an empty string as a key condition value.
    items = table.query("gsi2", "gsi2pk", f"COLLEAN#{gln_coll}#{ean13}", sk_name="gsi2sk", sk_between=("0", "~"))
    return [licence(i, now) for i in items if i.get("status") == "OK"]


def cancel_line(order_line_id: str, now: str, *, require_unused: bool) -> dict[str, Any] | None:
    """Mark a line CANCELLED. An OK line only while no access was ever taken (a racing loan either
    lands first and the cancel fails, or finds the line cancelled). Returns the old item on refusal."""
    pk, sk = line_key(order_line_id)
    cond = "attribute_exists(pk)"
    values: dict[str, Any] = {":c": table.val("CANCELLED"), ":now": table.val(now)}
    if require_unused:  # a place reserved for a patron's hold is a use too
        cond += " AND nta = ntaTotal AND attribute_not_exists(beginDate) AND (attribute_not_exists(held) OR held = :z)"
        values[":z"] = table.val(0)
    try:
        table.client().update_item(
            TableName=table.table_name(),
            Key=table.key(pk, sk),
            # gsi2 REMOVE: a line written before the split carries its index keys itself
            UpdateExpression="SET #s = :c, cancelledAt = :now REMOVE gsi2pk, gsi2sk",
            ConditionExpression=cond,
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=values,
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except table.client().exceptions.ConditionalCheckFailedException as e:
        return table.de(e.response.get("Item")) or {}
    # Then out of the v1 look-up index (its terms'): a crash before it leaves an entry readers skip (the
    # line, read whole, is CANCELLED); the cancel itself is the write above.
    with contextlib.suppress(table.client().exceptions.ConditionalCheckFailedException):
        table.client().update_item(TableName=table.table_name(), Key=table.key(*terms_key(order_line_id)),
                                   UpdateExpression="REMOVE gsi2pk, gsi2sk", ConditionExpression="attribute_exists(pk)")
    return None


def all_licences(now: datetime) -> list[Licence]:
    """Every licence (reconcile job): a scan, filtered on the licence attributes (both items of a line
    carry `ntaTotal`; they are merged by partition)."""
    args: dict[str, Any] = {
        "TableName": table.table_name(),
        "FilterExpression": "begins_with(pk, :p) AND attribute_exists(ntaTotal)",
        "ExpressionAttributeValues": {":p": {"S": "LINE#"}},
    }
    parts: dict[str, list[dict[str, Any]]] = {}
    for i in table.pages("scan", args):
        parts.setdefault(i["pk"], []).append(i)
    lines = [merged(x) for x in parts.values()]
    return [licence(x, now) for x in lines if x is not None and "glnColl" in x]


def split_lines() -> int:
    """Once, on a table whose licence lines were written whole (before docs/line-split.md): each becomes
    its hot item and its terms item, in one transaction conditioned on the line being still whole and its
    status as read (a cancel landing meanwhile is read again). Safe to run again, and alongside traffic:
    readers take a whole line as it is, and the writes of loans and ends touch only hot attributes.
    Returns how many lines were split."""
    args: dict[str, Any] = {
        "TableName": table.table_name(),
        "FilterExpression": ("begins_with(pk, :p) AND sk = :s AND attribute_exists(ntaTotal) "
                             "AND attribute_exists(glnColl)"),
        "ExpressionAttributeValues": {":p": {"S": "LINE#"}, ":s": {"S": "LINE"}},
    }
    return sum(split_line(item) for item in table.pages("scan", args))


def split_line(item: dict[str, Any]) -> bool:
    """A whole licence line (as read) becomes its hot item and its terms item: one transaction, the terms
    put where none is, the line's other attributes removed on condition it is still whole and its status
    as read (a cancel landing meanwhile: read again from the failure's answer). Returns whether it split."""
    for _ in range(5):
        if not item or "glnColl" not in item or "ntaTotal" not in item:
            return False  # split meanwhile (another run), gone, or no licence
        _, terms = split(item)
        assert terms is not None
        names = {f"#d{n}": k for n, k in enumerate(sorted(k for k in item if k not in HOT))}
        try:
            table.transact([
                {"Put": {"Item": table.ser(terms), "ConditionExpression": "attribute_not_exists(pk)"}},
                {"Update": {"Key": table.key(item["pk"], "LINE"),
                            "UpdateExpression": "REMOVE " + ", ".join(names),
                            "ConditionExpression": "attribute_exists(glnColl) AND #st = :st",
                            "ExpressionAttributeNames": {**names, "#st": "status"},
                            "ExpressionAttributeValues": {":st": table.val(item["status"])}}}])
            return True
        except table.TransactionFailed as e:
            item = e.failed.get(1) or {}  # the line as it is now: split again from it (or not at all)
    return False


def sales_of(gln_distributor: str, ean13: str) -> list[dict[str, Any]]:
    """Every licence line (OK or cancelled since) of one EAN of one distributor, oldest first."""
    return table.query("gsi3", "gsi3pk", sales_key(gln_distributor, ean13))
