"""Declared IP addresses and ranges of a collectivity: one small item per range in the collectivity's
own partition (no 400 KB item ceiling however many it declares; a re-declaration is the same put)."""

from __future__ import annotations

from ..domain.ips import IpRange, parse_declaration
from . import table


def declared(gln_coll: str) -> list[IpRange]:
    items = table.query(None, "pk", f"IP#{gln_coll}", consistent=True)  # a declaration counts at once
    return [parse_declaration(i["range"]) for i in items if "range" in i]


def add(gln_coll: str, ranges: list[IpRange]) -> None:
    table.batch_put([{"pk": f"IP#{gln_coll}", "sk": f"RANGE#{text}", "type": "ip", "range": text}
                     for text in sorted({r.text for r in ranges})])
