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
        return table.query("gsi4", "gsi4pk", f"RESELLER#{gln_reseller}", sk_name="gsi4sk", sk_between=(since, "~"))
    return table.query("gsi4", "gsi4pk", f"RESELLER#{gln_reseller}")


def running_loans(now: str) -> dict[str, list[tuple[str, str]]]:
    """(orderLineId, loanId) of every active loan whose end is after `now`, by collectivity: the active
    loans index, every shard (its entries read back: the index is KEYS_ONLY)."""
    out: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for shard in range(DUE_SHARDS):
        for item in table.query("gsi2", "gsi2pk", f"DUE#{shard}", sk_name="gsi2sk", sk_between=(now, "~")):
            if item.get("gsi2sk", "") > now:  # one ended meanwhile has none
                out[item["glnColl"]].append((item["orderLineId"], item["loanId"]))
    return out


def offers_of(gln_distributor: str) -> Iterator[Offer]:
    """Every offer of a distributor, page by page (bounded memory; gsi1 entries read back)."""
    args: dict[str, Any] = {
        "TableName": table.table_name(), "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :p",
        "ExpressionAttributeValues": {":p": table.val(f"DIST#{gln_distributor}")},
    }
    for item in table.pages("query", args):
        yield _offer(item)


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
