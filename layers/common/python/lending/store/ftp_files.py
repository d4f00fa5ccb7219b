"""What the FTP files job reads and remembers.

- accounts by role         GSI1 ACCOUNTS#<role> / <gln>                (store/accounts.py writes it)
- a reseller's orders      GSI3 RESELLER#<glnReseller> / <createdAt>#<orderId>  (store/licences.py)
- running loans            GSI2 DUE#<shard> / <endDate>#<glnColl>#<loanId>, every shard, end after now
- account files state      FTPFILES#<gln> / STATE          fullDay (YYYYMMDD), digest, version
- ONIX catalogue state     FTPFILES#ONIX#<glnDistributor> / STATE   fullDay, version
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from ..domain.accounts import Role
from ..domain.offers import Offer
from . import table
from .loans import DUE_SHARDS
from .offers import _offer


@dataclass
class FilesState:
    full_day: str | None = None  # YYYYMMDD of the newest full file
    digest: str | None = None  # what the newest file (full or update) said, hashed
    version: int = 0


class StateConflict(Exception):
    """Another run wrote this state meanwhile."""


def accounts_of(role: Role) -> list[str]:
    return [i["gln"] for i in table.query("gsi1", "gsi1pk", f"ACCOUNTS#{role.value}")]


def orders_of_reseller(gln_reseller: str, since: str | None = None) -> list[dict[str, Any]]:
    if since:
        return table.query("gsi3", "gsi3pk", f"RESELLER#{gln_reseller}", sk_name="gsi3sk", sk_between=(since, "~"))
    return table.query("gsi3", "gsi3pk", f"RESELLER#{gln_reseller}")


def running_loans(now: str) -> dict[str, list[tuple[str, str]]]:
    """(orderLineId, loanId) of every active loan whose end is after `now`, by collectivity: the active
    loans index, every shard, only the attributes needed."""
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for shard in range(DUE_SHARDS):
        args: dict[str, Any] = {
            "TableName": table.table_name(), "IndexName": "gsi2",
            "KeyConditionExpression": "gsi2pk = :p AND gsi2sk > :now",
            "ProjectionExpression": "glnColl, loanId, orderLineId",
            "ExpressionAttributeValues": {":p": table.val(f"DUE#{shard}"), ":now": table.val(now)},
        }
        while True:
            page = table.client().query(**args)
            for raw in page.get("Items", []):
                item = table.de(raw) or {}
                out[item["glnColl"]].append((item["orderLineId"], item["loanId"]))
            if "LastEvaluatedKey" not in page:
                break
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return out


def offers_of(gln_distributor: str) -> Iterator[Offer]:
    """Every offer of a distributor, page by page (bounded memory)."""
    args: dict[str, Any] = {
        "TableName": table.table_name(), "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :p",
        "ExpressionAttributeValues": {":p": table.val(f"DIST#{gln_distributor}")},
    }
    while True:
        page = table.client().query(**args)
        for raw in page.get("Items", []):
            yield _offer(table.de(raw) or {})
        if "LastEvaluatedKey" not in page:
            return
        args["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _key(owner: str) -> tuple[str, str]:
    return f"FTPFILES#{owner}", "STATE"


def state(owner: str) -> FilesState:
    """`owner`: an account's GLN, or ONIX#<glnDistributor> for a distributor's catalogue."""
    item = table.get(*_key(owner))
    if not item:
        return FilesState()
    return FilesState(item.get("fullDay"), item.get("digest"), int(item.get("version", 0)))


def save_state(owner: str, new: FilesState) -> None:
    """Written only if nobody wrote it since it was read (version); raises StateConflict."""
    pk, sk = _key(owner)
    try:
        table.put({"pk": pk, "sk": sk, "type": "ftpfiles", "fullDay": new.full_day, "digest": new.digest,
                   "version": new.version + 1},
                  "attribute_not_exists(pk) OR version = :v", ExpressionAttributeValues={":v": table.val(new.version)})
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            raise StateConflict(owner) from None
        raise
    new.version += 1
