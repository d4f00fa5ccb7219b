"""When a loan's file was delivered: `downloads` (its fulfillment document or file was fetched) and
`shippings` (its link was emailed to the patron), lists of ISO dates on the loan item.

Each is an atomic list_append under a size cap, so that a loan item stays small whatever a client
does: past MAX_ENTRIES the first ones are kept and later ones are not recorded."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain.dates import iso
from ..domain.loans import LoanView
from . import table
from .loans import loan, loan_key

MAX_ENTRIES = 100


def view(item: dict[str, Any]) -> LoanView:
    return LoanView(loan(item), list(item.get("downloads") or []), list(item.get("shippings") or []))


def get(gln_coll: str, loan_id: str) -> LoanView | None:
    item = table.get(*loan_key(gln_coll, loan_id))
    return view(item) if item else None


def _append(gln_coll: str, loan_id: str, name: str, when: datetime) -> bool:
    pk, sk = loan_key(gln_coll, loan_id)
    try:
        table.client().update_item(
            TableName=table.table_name(), Key=table.key(pk, sk),
            UpdateExpression="SET #l = list_append(if_not_exists(#l, :empty), :when)",
            ConditionExpression="attribute_exists(pk) AND (attribute_not_exists(#l) OR size(#l) < :cap)",
            ExpressionAttributeNames={"#l": name},
            ExpressionAttributeValues={":empty": table.val([]), ":when": table.val([iso(when)]),
                                       ":cap": table.val(MAX_ENTRIES)})
        return True
    except table.client().exceptions.ConditionalCheckFailedException:
        return False


def record_download(gln_coll: str, loan_id: str, when: datetime) -> bool:
    return _append(gln_coll, loan_id, "downloads", when)


def record_shipping(gln_coll: str, loan_id: str, when: datetime) -> bool:
    return _append(gln_coll, loan_id, "shippings", when)
