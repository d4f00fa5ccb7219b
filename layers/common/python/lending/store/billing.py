"""Loans for the monthly DRM billing report (warehouse lending URL): the loans a lending URL gave,
created in a time range.

A Scan, filtered and projected: the report runs once a month, so one paginated pass over the table
is cheaper than keeping another index up to date on every loan. If the table grows to where that
pass is too long, a sparse index keyed on the loan's month is the next step."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain.dates import iso
from ..domain.loans import Loan
from . import table
from .loans import loan

# Every projected attribute goes through a name placeholder: no DynamoDB reserved word can bite.
_FIELDS = ("glnColl", "loanId", "orderLineId", "ean13", "glnDistributor", "pool", "createdAt", "endDate",
           "state", "returnedAt", "origin", "extra")
_NAMES = {f"#f{i}": name for i, name in enumerate(_FIELDS)}


def loans_created(origin: str, start: datetime, end: datetime) -> list[Loan]:
    """Every loan of `origin` created in [start, end), whatever its state now."""
    args: dict[str, Any] = {
        "TableName": table.table_name(),
        "FilterExpression": "#type = :loan AND #origin = :origin AND #created >= :start AND #created < :end",
        "ProjectionExpression": ", ".join(_NAMES),
        "ExpressionAttributeNames": {"#type": "type", "#origin": "origin", "#created": "createdAt", **_NAMES},
        "ExpressionAttributeValues": {":loan": table.val("loan"), ":origin": table.val(origin),
                                      ":start": table.val(iso(start)), ":end": table.val(iso(end))},
        "ConsistentRead": True,
    }
    return [loan(i) for i in table.pages("scan", args)]
