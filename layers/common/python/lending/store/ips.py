"""Declared IP addresses and ranges of a collectivity (one item, a string set)."""

from __future__ import annotations

from ..domain.ips import IpRange, parse_declaration
from . import table


def declared(gln_coll: str) -> list[IpRange]:
    item = table.get(f"IP#{gln_coll}", "IP", consistent=False)
    return [parse_declaration(t) for t in sorted((item or {}).get("ranges", set()))]


def add(gln_coll: str, ranges: list[IpRange]) -> None:
    """ADD to a string set: concurrent declarations merge, never overwrite one another."""
    table.client().update_item(
        TableName=table.table_name(),
        Key=table.key(f"IP#{gln_coll}", "IP"),
        UpdateExpression="ADD #r :r SET #t = :t",
        ExpressionAttributeNames={"#r": "ranges", "#t": "type"},
        ExpressionAttributeValues={":r": {"SS": sorted({r.text for r in ranges})}, ":t": {"S": "ips"}},
    )
