"""Failed sign-ins, counted per account and per source address in fixed windows.

One counter item per (subject, window): `SIGNIN#<kind>#<id>` / `WINDOW#<start epoch>`, raised with an
atomic ADD (no read first), expiring through the table's TTL (`purgeAt`, epoch seconds) one window after
its own ends: nothing to clean up, and the table holds at most two windows of them per subject."""

from __future__ import annotations

from . import table


def _key(kind: str, subject: str, window: int) -> tuple[str, str]:
    return f"SIGNIN#{kind}#{subject}", f"WINDOW#{window}"


def failures(subjects: list[tuple[str, str]], window: int) -> dict[tuple[str, str], int]:
    """The failures counted so far in `window` (its start, epoch seconds) for each (kind, subject)."""
    keys = {_key(kind, subject, window): (kind, subject) for kind, subject in subjects}
    found = {(x["pk"], x["sk"]): int(x.get("failures", 0)) for x in table.batch_get(list(keys))}
    return {subject: found.get(k, 0) for k, subject in keys.items()}


def record_failure(subjects: list[tuple[str, str]], window: int, window_seconds: int) -> None:
    expires = window + 2 * window_seconds
    for kind, subject in subjects:
        pk, sk = _key(kind, subject, window)
        table.client().update_item(
            TableName=table.table_name(), Key=table.key(pk, sk),
            UpdateExpression="ADD failures :one SET #t = :type, purgeAt = :exp",
            ExpressionAttributeNames={"#t": "type"},
            ExpressionAttributeValues={":one": table.val(1), ":type": table.val("signin"),
                                       ":exp": table.val(expires)})
