"""Patron space sessions. Access pattern:

- patron session  PSESSION#<sha256(token)> / SESSION   collectivity, member, csrf, key generation, times

Like the console's sessions, the cookie holds the token and the table only its digest; `ttl` is a bound
for a clean-up, never the rule (domain.staff's lifetimes, checked when the session is presented)."""

from __future__ import annotations

from datetime import datetime

from ..domain.dates import iso
from ..domain.staff import SESSION_IDLE, SESSION_MAX
from ..domain.values import Record
from . import table


class PatronSession(Record):
    token_id: str
    gln_coll: str
    member_id: str
    csrf: str
    generation: int  # of the patron's API key at sign-in: a new key ends the session
    created_at: datetime
    seen_at: datetime

    def __init__(self, token_id: str, gln_coll: str, member_id: str, csrf: str, generation: int, created_at: datetime,
                 seen_at: datetime) -> None:
        self._init(token_id, gln_coll, member_id, csrf, generation, created_at, seen_at)

    def alive(self, now: datetime, generation: int) -> bool:
        return (generation == self.generation and now - self.seen_at < SESSION_IDLE
                and now - self.created_at < SESSION_MAX)


def save(s: PatronSession) -> None:
    table.put({"pk": f"PSESSION#{s.token_id}", "sk": "SESSION", "type": "patronSession", "glnColl": s.gln_coll,
               "memberId": s.member_id, "csrf": s.csrf, "generation": s.generation, "createdAt": iso(s.created_at),
               "seenAt": iso(s.seen_at), "ttl": int((s.created_at + SESSION_MAX).timestamp())})


def get(token_id: str) -> PatronSession | None:
    item = table.get(f"PSESSION#{token_id}", "SESSION")
    if item is None:
        return None
    return PatronSession(token_id, item["glnColl"], item["memberId"], item["csrf"], int(item.get("generation", 0)),
                         datetime.fromisoformat(item["createdAt"]), datetime.fromisoformat(item["seenAt"]))


def touch(token_id: str, now: datetime) -> None:
    table.client().update_item(TableName=table.table_name(), Key=table.key(f"PSESSION#{token_id}", "SESSION"),
                               UpdateExpression="SET seenAt = :n", ConditionExpression="attribute_exists(pk)",
                               ExpressionAttributeValues={":n": table.val(iso(now))})


def delete(token_id: str) -> None:
    table.client().delete_item(TableName=table.table_name(), Key=table.key(f"PSESSION#{token_id}", "SESSION"))
