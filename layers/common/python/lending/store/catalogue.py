"""The catalogue's own items: distributor feeds, their sync cursors and leases, the ONIX update files
published by each sync, and what getOffers remembers of its callers (last call, lastConnection rate).

- feed config     FEED#<glnDistributor> / FEED        GSI1 FEEDS / <glnDistributor>
- sync state      FEED#<glnDistributor> / STATE       position (connector cursor), unfiled run stamps, version
- sync lease      FEED#<glnDistributor> / LEASE       owner, until (one sync per distributor at a time)
- update file     ONIXFILE#<glnDistributor> / <publishedAt>#<name>
                                                      GSI1 ONIXFILES / <publishedAt>#<gln>#<name>
- last call       OFFERSCALL#<glnCaller> / <scope>    lastAt (scope: ALL, or a distributor's GLN)
- rate log        RATE#<service>#<glnCaller> / LASTCONNECTION   calls (times in the last 24 h), version
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ..domain.values import Record, Value
from . import table


class Feed(Value):
    """Where a distributor's offers come from. kind: "s3" (bucket + prefix: every object under it is an
    ONIX file, taken in key order), "http" (url: one ONIX file, re-read when its validators change) or
    "pnb" (an upstream PNB-compatible platform: wsdl, gln_reseller and the SSM parameter holding its
    password; getOffersForDistributor gives the ONIX file URLs)."""

    gln_distributor: str
    kind: str
    bucket: str | None
    prefix: str
    url: str | None
    wsdl: str | None
    gln_reseller: str | None
    password_parameter: str | None
    enabled: bool

    def __init__(self, gln_distributor: str, kind: str, bucket: str | None = None, prefix: str = "",
                 url: str | None = None, wsdl: str | None = None, gln_reseller: str | None = None,
                 password_parameter: str | None = None, enabled: bool = True) -> None:
        self._init(gln_distributor, kind, bucket, prefix, url, wsdl, gln_reseller, password_parameter, enabled)

    def source(self) -> str:
        """What the cursor is a position in: a cursor of another source means nothing here."""
        where = {"s3": f"{self.bucket}/{self.prefix}", "http": self.url,
                 "pnb": f"{self.wsdl}#{self.gln_reseller}"}
        return f"{self.kind}:{where.get(self.kind, '')}"


class State(Record):
    position: str | None
    unfiled: list[str]
    version: int
    source: str | None  # Feed.source() the position belongs to

    def __init__(self, position: str | None = None, unfiled: list[str] | None = None, version: int = 0,
                 source: str | None = None) -> None:
        self._init(position, [] if unfiled is None else unfiled, version, source)


class UpdateFile(Value):
    gln_distributor: str
    published_at: str
    name: str
    key: str
    count: int

    def __init__(self, gln_distributor: str, published_at: str, name: str, key: str, count: int) -> None:
        self._init(gln_distributor, published_at, name, key, count)


def _is_condition_failure(e: ClientError) -> bool:
    return e.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"


# --- feeds --------------------------------------------------------------------------------------------

def save_feed(feed: Feed) -> None:
    table.put({"pk": f"FEED#{feed.gln_distributor}", "sk": "FEED", "type": "feed", "gsi1pk": "FEEDS",
               "gsi1sk": feed.gln_distributor, "glnDistributor": feed.gln_distributor, "kind": feed.kind,
               "bucket": feed.bucket, "prefix": feed.prefix, "url": feed.url, "wsdl": feed.wsdl,
               "glnReseller": feed.gln_reseller, "passwordParameter": feed.password_parameter,
               "enabled": feed.enabled})


def _feed(item: dict[str, Any]) -> Feed:
    return Feed(gln_distributor=item["glnDistributor"], kind=item["kind"], bucket=item.get("bucket"),
                prefix=item.get("prefix", ""), url=item.get("url"), wsdl=item.get("wsdl"),
                gln_reseller=item.get("glnReseller"), password_parameter=item.get("passwordParameter"),
                enabled=bool(item.get("enabled", True)))


def feeds() -> list[Feed]:
    return [_feed(i) for i in table.query("gsi1", "gsi1pk", "FEEDS")]


def feed(gln_distributor: str) -> Feed | None:
    item = table.get(f"FEED#{gln_distributor}", "FEED")
    return _feed(item) if item else None


# --- sync state: cursor and the run stamps whose update file is not yet published ---------------------

def state(gln_distributor: str) -> State:
    item = table.get(f"FEED#{gln_distributor}", "STATE")
    if not item:
        return State()
    return State(item.get("position"), list(item.get("unfiled") or []), int(item.get("version", 0)),
                 item.get("source"))


def save_state(gln_distributor: str, new: State, expected_version: int) -> None:
    """Write the state if nobody else did since it was read (version check); raises StateConflict."""
    item = {"pk": f"FEED#{gln_distributor}", "sk": "STATE", "type": "feedstate", "position": new.position,
            "unfiled": new.unfiled or None, "version": expected_version + 1, "source": new.source}
    try:
        table.put(item, "attribute_not_exists(pk) OR version = :v",
                  ExpressionAttributeValues={":v": table.val(expected_version)})
    except ClientError as e:
        if _is_condition_failure(e):
            raise StateConflict(gln_distributor) from None
        raise
    new.version = expected_version + 1


class StateConflict(Exception):
    """Another sync changed this distributor's state meanwhile (the lease should make this rare)."""


def take_lease(gln_distributor: str, owner: str, now: str, until: str) -> bool:
    """One sync per distributor at a time; a lease left by a crashed run lapses at `until`."""
    try:
        table.put({"pk": f"FEED#{gln_distributor}", "sk": "LEASE", "type": "lease", "owner": owner,
                   "until": until},
                  "attribute_not_exists(pk) OR #u < :now", ExpressionAttributeNames={"#u": "until"},
                  ExpressionAttributeValues={":now": table.val(now)})
        return True
    except ClientError as e:
        if _is_condition_failure(e):
            return False
        raise


def release_lease(gln_distributor: str, owner: str) -> None:
    try:
        table.client().delete_item(TableName=table.table_name(),
                                   Key=table.key(f"FEED#{gln_distributor}", "LEASE"),
                                   ConditionExpression="#o = :o", ExpressionAttributeNames={"#o": "owner"},
                                   ExpressionAttributeValues={":o": table.val(owner)})
    except ClientError as e:
        if not _is_condition_failure(e):
            raise


# --- published ONIX update files ---------------------------------------------------------------------

def add_update_file(f: UpdateFile) -> None:
    table.put({"pk": f"ONIXFILE#{f.gln_distributor}", "sk": f"{f.published_at}#{f.name}", "type": "onixfile",
               "gsi1pk": "ONIXFILES", "gsi1sk": f"{f.published_at}#{f.gln_distributor}#{f.name}",
               "glnDistributor": f.gln_distributor, "publishedAt": f.published_at, "name": f.name,
               "key": f.key, "count": f.count})


def _file(item: dict[str, Any]) -> UpdateFile:
    return UpdateFile(item["glnDistributor"], item["publishedAt"], item["name"], item["key"],
                      int(item["count"]))


def update_files_since(since: str, gln_distributor: str | None = None) -> list[UpdateFile]:
    """Update files published at or after `since`, oldest first: one distributor's (consistent read of
    its partition) or every distributor's (GSI1)."""
    if gln_distributor:
        items = table.query(None, "pk", f"ONIXFILE#{gln_distributor}", sk_name="sk", sk_between=(since, "~"))
    else:
        items = table.query("gsi1", "gsi1pk", "ONIXFILES", sk_name="gsi1sk", sk_between=(since, "~"))
    return [_file(i) for i in items]


# --- getOffers callers ------------------------------------------------------------------------------

def last_call(gln_caller: str, scope: str) -> str | None:
    item = table.get(f"OFFERSCALL#{gln_caller}", scope)
    return item.get("lastAt") if item else None


def set_last_call(gln_caller: str, scope: str, at: str) -> None:
    table.put({"pk": f"OFFERSCALL#{gln_caller}", "sk": scope, "type": "offerscall", "lastAt": at})


def count_call(service: str, gln_caller: str, now: str, window_start: str, limit: int) -> bool:
    """Record one call if fewer than `limit` were recorded since `window_start` (a sliding window).

    The log is one item, written only if its version is still the one read: two racing calls cannot
    both take the last place."""
    for _ in range(20):
        item = table.get(f"RATE#{service}#{gln_caller}", "LASTCONNECTION") or {}
        version = int(item.get("version", 0))
        recent = [t for t in item.get("calls") or [] if t >= window_start]
        if len(recent) >= limit:
            return False
        try:
            table.put({"pk": f"RATE#{service}#{gln_caller}", "sk": "LASTCONNECTION", "type": "rate",
                       "calls": [*recent, now], "version": version + 1},
                      "attribute_not_exists(pk) OR version = :v",
                      ExpressionAttributeValues={":v": table.val(version)})
            return True
        except ClientError as e:
            if not _is_condition_failure(e):
                raise
    raise RuntimeError("rate log kept changing under concurrent calls")
