"""Declared IP addresses of a collectivity: single addresses and ranges "a,b" (at most 1000)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from .refusals import Reason, Refused
from .values import Value

MAX_RANGE = 1000

IpAddr = ipaddress.IPv4Address | ipaddress.IPv6Address


class IpRange(Value):
    """Declared addresses of a collectivity, `first` to `last` (one address: both the same)."""

    first: IpAddr
    last: IpAddr

    def __init__(self, first: IpAddr, last: IpAddr) -> None:
        self._init(first, last)

    @property
    def text(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first},{self.last}"

    def __contains__(self, ip: IpAddr) -> bool:
        return ip.version == self.first.version and self.first <= ip <= self.last  # type: ignore[operator]


def parse_declaration(text: str) -> IpRange:
    """One entry of declareIp's ips[]: an address, or a range "first,last" of at most 1000."""
    parts = [p.strip() for p in str(text).split(",")]
    try:
        if len(parts) == 1:
            ip = ipaddress.ip_address(parts[0])
            return IpRange(ip, ip)
        if len(parts) != 2:
            raise ValueError(text)
        first, last = ipaddress.ip_address(parts[0]), ipaddress.ip_address(parts[1])
    except ValueError:
        raise Refused(Reason.INVALID_IP_RANGE, text=text) from None
    if first.version != last.version or int(last) < int(first):
        raise Refused(Reason.INVALID_IP_RANGE, text=text)
    if int(last) - int(first) + 1 > MAX_RANGE:
        raise Refused(Reason.IP_RANGE_TOO_LARGE, text=text)
    return IpRange(first, last)


def parse_address(text: object) -> IpAddr | None:
    try:
        return ipaddress.ip_address(str(text).strip())
    except ValueError:
        return None


def covers(declared: list[IpRange], ip: IpAddr) -> bool:
    return any(ip in r for r in declared)


def within(ranges: Iterable[IpRange], r: IpRange) -> bool:
    """Is every address of `r` in the union of `ranges` (each of them may cover only a part)?"""
    lo, hi = int(r.first), int(r.last)
    for first, last in sorted((int(x.first), int(x.last)) for x in ranges if x.first.version == r.first.version):
        if first > lo:
            return False  # sorted by start: nothing later covers `lo`
        lo = max(lo, last + 1)
        if lo > hi:
            return True
    return False


def already_declared(known: Sequence[IpRange], new: Sequence[IpRange]) -> list[str]:
    """The entries of a declaration that add no address: covered by what was declared before, or by
    earlier entries of the same request (declareIp's "already declared" warning)."""
    seen, out = list(known), []
    for r in new:
        if within(seen, r):
            out.append(r.text)
        seen.append(r)
    return out
