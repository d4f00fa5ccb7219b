"""The daily summary's items: subscriptions (`SUMMARY#<gln>` / `SUBSCRIPTION`, listed through GSI1
`SUMMARYSUBS`), one marker per account and day (`SUMMARY#<gln>` / `SENT#<day>`, put only if absent: the
guard against a second email), the ONIX records a sync rejected (`REJECTS#<gln>` / `<time>#<n>`), and
the day's activity read for the job."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ..domain.values import Value
from . import table


class Subscription(Value):
    gln: str
    role: str  # distributor | reseller | collectivity
    email: str
    lang: str
    tz: str

    def __init__(self, gln: str, role: str, email: str, lang: str = "en", tz: str = "Europe/Paris") -> None:
        self._init(gln, role, email, lang, tz)


def subscribe(s: Subscription) -> None:
    table.put({"pk": f"SUMMARY#{s.gln}", "sk": "SUBSCRIPTION", "type": "summarysub", "gsi1pk": "SUMMARYSUBS",
               "gsi1sk": s.gln, "gln": s.gln, "role": s.role, "email": s.email, "lang": s.lang, "tz": s.tz})


def unsubscribe(gln: str) -> None:
    table.client().delete_item(TableName=table.table_name(), Key=table.key(f"SUMMARY#{gln}", "SUBSCRIPTION"))


def subscription(gln: str) -> Subscription | None:
    item = table.get(f"SUMMARY#{gln}", "SUBSCRIPTION")
    return _sub(item) if item else None


def _sub(i: dict[str, Any]) -> Subscription:
    return Subscription(i["gln"], i["role"], i["email"], i.get("lang", "en"), i.get("tz", "Europe/Paris"))


def subscriptions() -> list[Subscription]:
    return [_sub(i) for i in table.query("gsi1", "gsi1pk", "SUMMARYSUBS")]


def claim(gln: str, day: str, now: str) -> bool:
    """Put the day's marker if there is none: True for the one run that may send."""
    try:
        table.put({"pk": f"SUMMARY#{gln}", "sk": f"SENT#{day}", "type": "summarysent", "state": "sending",
                   "claimedAt": now}, condition="attribute_not_exists(pk)")
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def confirm(gln: str, day: str, now: str, message_id: str) -> None:
    table.client().update_item(
        TableName=table.table_name(), Key=table.key(f"SUMMARY#{gln}", f"SENT#{day}"),
        UpdateExpression="SET #s = :s, sentAt = :t, messageId = :m", ExpressionAttributeNames={"#s": "state"},
        ExpressionAttributeValues={":s": table.val("sent"), ":t": table.val(now), ":m": table.val(message_id)})


def marker(gln: str, day: str) -> dict[str, Any] | None:
    return table.get(f"SUMMARY#{gln}", f"SENT#{day}")


def record_rejections(gln: str, at: str, rejected: list[tuple[str, str]]) -> None:
    for n, (identifier, reason) in enumerate(rejected):
        table.put({"pk": f"REJECTS#{gln}", "sk": f"{at}#{n:05d}", "type": "onixreject", "identifier": identifier,
                   "reason": reason[:500]})


def rejections(gln: str, start: str, end: str) -> list[tuple[str, str]]:
    items = table.query(None, "pk", f"REJECTS#{gln}", sk_name="sk", sk_between=(start, end))
    return [(i["identifier"], i["reason"]) for i in items if i["sk"] < end]


def activity(start: str, end: str) -> list[dict[str, Any]]:
    """Orders, order lines and loans created, returned or ended in [start, end): one filtered Scan of the
    table, read by the job once per run for every account due (see docs/distributor.md on its cost)."""
    names = {"#t": "type", "#c": "createdAt", "#r": "returnedAt", "#e": "endDate"}
    values = {":o": table.val("order"), ":l": table.val("line"), ":n": table.val("loan"),
              ":a": table.val(start), ":b": table.val(end)}
    args: dict[str, Any] = {
        "TableName": table.table_name(),
        "FilterExpression": "#t IN (:o, :l, :n) AND (#c BETWEEN :a AND :b OR #r BETWEEN :a AND :b "
                            "OR #e BETWEEN :a AND :b)",
        "ExpressionAttributeNames": names, "ExpressionAttributeValues": values,
    }
    out: list[dict[str, Any]] = []
    while True:
        page = table.client().scan(**args)
        out.extend(table.de(i) or {} for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return out
        args["ExclusiveStartKey"] = page["LastEvaluatedKey"]
