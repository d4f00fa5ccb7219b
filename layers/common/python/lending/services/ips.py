"""Declared IP addresses and ranges of a collectivity (on-site use): the declareIp rules, for the console.
Same domain rules as PNB declareIp (domain.ips): entries of at most 1000 addresses, and a warning for
every entry that adds no address."""

from __future__ import annotations

from ..domain.ips import already_declared, parse_declaration
from ..store import ips as ip_store


def declared(gln_coll: str) -> list[str]:
    return sorted(r.text for r in ip_store.declared(gln_coll))


def declare(gln_coll: str, entries: list[str]) -> list[str]:
    """Declare `entries` (each "a.b.c.d" or "first,last"); returns those already declared. One bad entry
    refuses the whole declaration (INVALID_ARGUMENTS naming it), as declareIp does."""
    ranges = [parse_declaration(t) for t in entries]
    already = already_declared(ip_store.declared(gln_coll), ranges)
    ip_store.add(gln_coll, ranges)
    return already
