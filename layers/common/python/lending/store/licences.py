"""Orders and their lines. Every line is an item (OK lines carry the licence: pools, NTA, dates)."""

from __future__ import annotations

from typing import Any

from ..domain.dates import from_store, iso
from ..domain.licences import Licence, Pool
from . import table

POOL_ATTRS = {
    Pool.DOWNLOAD: ("dlFree", "dlSize"),
    Pool.ONSITE: ("onFree", "onSize"),
    Pool.OFFSITE: ("offFree", "offSize"),
}


def line_key(order_line_id: str) -> tuple[str, str]:
    return f"LINE#{order_line_id}", "LINE"


def order_key(gln_reseller: str, order_id: str) -> tuple[str, str]:
    return f"ORDER#{gln_reseller}#{order_id}", "ORDER"


def licence_fields(lic: Licence) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ntaTotal": lic.nta_total,
        "nta": lic.nta,
        "dmdDate": iso(lic.dmd_date),
        "endDate": iso(lic.end_date),
        "maxLoanDays": lic.max_loan_days,
        "beginDate": iso(lic.begin_date) if lic.begin_date else None,
        "lendingToken": lic.lending_token,
        "gsi2pk": f"COLLEAN#{lic.gln_coll}#{lic.ean13}",
        "gsi2sk": iso(lic.end_date),
    }
    for pool, (free, size) in POOL_ATTRS.items():
        out[free] = lic.free[pool]
        out[size] = lic.sizes[pool]
    return out


def licence(item: dict[str, Any]) -> Licence:
    """The licence of an OK (or cancelled OK) line item."""
    return Licence(
        order_line_id=item["orderLineId"],
        gln_coll=item["glnColl"],
        gln_reseller=item["glnReseller"],
        order_id=item["orderId"],
        ean13=item["ean13"],
        gln_distributor=item["glnDistributor"],
        status=item["status"],
        sizes={p: int(item[s]) for p, (_, s) in POOL_ATTRS.items()},
        free={p: int(item[f]) for p, (f, _) in POOL_ATTRS.items()},
        nta_total=int(item["ntaTotal"]),
        nta=int(item["nta"]),
        dmd_date=from_store(item["dmdDate"]),  # type: ignore[arg-type]
        end_date=from_store(item["endDate"]),  # type: ignore[arg-type]
        max_loan_days=int(item["maxLoanDays"]),
        begin_date=from_store(item.get("beginDate")),
        lending_token=item.get("lendingToken"),
        held=int(item.get("held", 0)),
    )


def is_licence(item: dict[str, Any]) -> bool:
    return "ntaTotal" in item


def create_order(order: dict[str, Any], lines: list[dict[str, Any]]) -> None:
    """One transaction: the order (unique per reseller) and all its lines, or nothing at all."""
    pk, sk = order_key(order["glnReseller"], order["orderId"])
    items: list[dict[str, Any]] = [
        {"Put": {"Item": table.ser({"pk": pk, "sk": sk, "type": "order", **order,
                                    # a reseller's orders by creation time (its FTP files)
                                    "gsi3pk": f"RESELLER#{order['glnReseller']}",
                                    "gsi3sk": f"{order['createdAt']}#{order['orderId']}"}),
                 "ConditionExpression": "attribute_not_exists(pk)"}}
    ]
    for line in lines:
        lpk, lsk = line_key(line["orderLineId"])
        items.append({"Put": {"Item": table.ser({"pk": lpk, "sk": lsk, "type": "line", **line}),
                              "ConditionExpression": "attribute_not_exists(pk)"}})
    table.transact(items)


def get_order(gln_reseller: str, order_id: str) -> dict[str, Any] | None:
    return table.get(*order_key(gln_reseller, order_id))


def get_line(order_line_id: str) -> dict[str, Any] | None:
    return table.get(*line_key(order_line_id))


def get_lines(ids: list[str]) -> dict[str, dict[str, Any]]:
    return {i["orderLineId"]: i for i in table.batch_get([line_key(x) for x in ids])}


def orders_of_coll(gln_coll: str, since: str | None = None) -> list[dict[str, Any]]:
    if since:
        return table.query("gsi1", "gsi1pk", f"COLL#{gln_coll}", sk_name="gsi1sk", sk_between=(since, "~"))
    return table.query("gsi1", "gsi1pk", f"COLL#{gln_coll}")


def licences_of(gln_coll: str, ean13: str) -> list[Licence]:
    """OK lines of a collectivity for one EAN, the licence that ends soonest first (v1 look-up)."""
    # "0", not "": DynamoDB refuses an empty string as a key condition value.
    items = table.query("gsi2", "gsi2pk", f"COLLEAN#{gln_coll}#{ean13}", sk_name="gsi2sk", sk_between=("0", "~"))
    return [licence(i) for i in items if i.get("status") == "OK"]


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
            UpdateExpression="SET #s = :c, cancelledAt = :now REMOVE gsi2pk, gsi2sk",
            ConditionExpression=cond,
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues=values,
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except table.client().exceptions.ConditionalCheckFailedException as e:
        return table.de(e.response.get("Item")) or {}
    return None


def all_licences() -> list[Licence]:
    """Every licence (reconcile job): a scan, filtered on the licence attributes."""
    args: dict[str, Any] = {
        "TableName": table.table_name(),
        "FilterExpression": "#t = :t AND attribute_exists(ntaTotal)",
        "ExpressionAttributeNames": {"#t": "type"},
        "ExpressionAttributeValues": {":t": {"S": "line"}},
    }
    return [licence(i) for i in table.pages("scan", args)]
