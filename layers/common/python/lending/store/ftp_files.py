"""What the FTP files job reads and remembers.

- accounts by role         GSI1 ACCOUNTS#<role> / <gln>                (store/accounts.py writes it)
- a reseller's orders      GSI3 RESELLER#<glnReseller> / <createdAt>#<orderId>  (store/licences.py)
- running loans            GSI1 LINES#<glnColl> / <licence end>#<orderLineId>: the live seats of its lines
- account files state      FTPFILES#<gln> / STATE          fullDay (YYYYMMDD), digest, version
- ONIX catalogue state     FTPFILES#ONIX#<glnDistributor> / STATE   fullDay, version
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from botocore.exceptions import ClientError

from ..domain.accounts import Role
from ..domain.offers import Offer
from ..domain.values import Record
from . import table
from .licences import lines_key, seats
from .offers import _offer


class FilesState(Record):
    full_day: str | None  # YYYYMMDD of the newest full file
    digest: str | None  # what the newest file (full or update) said, hashed
    version: int

    def __init__(self, full_day: str | None = None, digest: str | None = None, version: int = 0) -> None:
        self._init(full_day, digest, version)


class StateConflict(Exception):
    """Another run wrote this state meanwhile."""


def accounts_of(role: Role) -> list[str]:
    return [i["gln"] for i in table.query("gsi1", "gsi1pk", f"ACCOUNTS#{role.value}")]


def orders_of_reseller(gln_reseller: str, since: str | None = None) -> list[dict[str, Any]]:
    if since:
        return table.query("gsi4", "gsi4pk", f"RESELLER#{gln_reseller}", sk_name="gsi4sk", sk_between=(since, "~"))
    return table.query("gsi4", "gsi4pk", f"RESELLER#{gln_reseller}")


def running_loans(gln_coll: str, now: str) -> list[tuple[str, str]]:
    """(orderLineId, loanId) of the collectivity's loans whose end is after `now`: the live seats of its
    licences not over yet (gsi1 `LINES#<glnColl>`, by licence end): what it reads is bounded by the
    collectivity's own licences, not by the table (offers, other collectivities, ended loans)."""
    from ..domain.dates import from_store

    at = from_store(now)
    assert at is not None
    out: list[tuple[str, str]] = []
    for line in table.query("gsi1", "gsi1pk", lines_key(gln_coll), sk_name="gsi1sk", sk_between=(now, "~")):
        out.extend((line["orderLineId"], loan_id) for loan_id, seat in seats(line).items() if seat.live(at))
    return sorted(out)


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
