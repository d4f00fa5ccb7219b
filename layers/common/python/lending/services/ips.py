"""declareIp: a collectivity's reader addresses and ranges (the IN_SITU rule reads them back)."""

from __future__ import annotations

from ..domain.accounts import Account
from ..domain.ips import already_declared, parse_declaration
from ..domain.values import Value
from ..store import ips as ip_store


class DeclareIps(Value):
    texts: list[str]  # "address" or "first,last", as the caller wrote them

    def __init__(self, texts: list[str]) -> None:
        self._init(texts)


class DeclaredIps(Value):
    already: list[str]  # the entries that were declared before (said back as a warning, not refused)

    def __init__(self, already: list[str]) -> None:
        self._init(already)


def declare(coll: Account, req: DeclareIps) -> DeclaredIps:
    """Parse every entry first (one bad entry refuses the whole call), then store them all."""
    ranges = [parse_declaration(t) for t in req.texts]
    already = already_declared(ip_store.declared(coll.gln), ranges)
    ip_store.add(coll.gln, ranges)
    return DeclaredIps(already)


def declared(gln_coll: str) -> list[str]:
    """The collectivity's declared entries, as written (the console's settings page)."""
    return sorted(r.text for r in ip_store.declared(gln_coll))
