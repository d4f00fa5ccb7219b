"""SSRF guard: a callback URL is resolved once, every address it resolves to is checked, and the
connection then goes to the checked address (no second lookup a DNS rebinding could answer).

Deployed, only globally routable addresses pass: private, loopback, link-local (the instance metadata
service), shared, reserved, multicast and unspecified ones are refused. The local stack (HUB_LOCAL=1)
also allows loopback, so tests can listen on 127.0.0.1."""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from ..domain.values import Value
from ..text import allow_loopback, secure_scheme

Resolver = Callable[..., list[Any]]
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeUrl(ValueError):
    """The URL can never be delivered to (bad form, or a forbidden address): not worth a retry."""


class ResolveFailed(OSError):
    """DNS gave no answer now: worth a retry."""


class Target(Value):
    scheme: str
    host: str  # as written (Host header, TLS server name)
    port: int
    path: str  # path and query
    address: str  # the checked address to connect to

    def __init__(self, scheme: str, host: str, port: int, path: str, address: str) -> None:
        self._init(scheme, host, port, path, address)




# IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64, RFC 6052 and RFC 8215): in a VPC
# with DNS64 they reach that IPv4 address, so it is the one to judge.
_NAT64 = (ipaddress.IPv6Network("64:ff9b::/96"), ipaddress.IPv6Network("64:ff9b:1::/48"))


def embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one leads to: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d, deprecated
    but still routed by some stacks), NAT64, 6to4."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if any(ip in net for net in _NAT64) or (int(ip) >> 32 == 0 and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def allowed(ip: IPAddress, loopback: bool) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        ip = embedded_v4(ip) or ip
    if ip.is_loopback:
        return loopback
    return ip.is_global and not ip.is_multicast


def check(url: str, loopback: bool | None = None, resolve: Resolver = socket.getaddrinfo) -> Target:
    loopback = allow_loopback() if loopback is None else loopback
    if _CONTROL.search(url):
        raise UnsafeUrl("spaces or control characters in the URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise UnsafeUrl(f"malformed URL ({e})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UnsafeUrl("only http(s) URLs with a host")
    if parts.username is not None or parts.password is not None:
        raise UnsafeUrl("credentials in the URL")
    if not secure_scheme(url, loopback):
        raise UnsafeUrl("plain http:// is refused: an https:// URL is required")
    host = parts.hostname
    port = port or (443 if parts.scheme == "https" else 80)
    try:
        infos = resolve(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as e:
        raise ResolveFailed(f"cannot resolve the callback host ({e})") from None
    addresses = list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos))
    if not addresses:
        raise ResolveFailed("the callback host has no address")
    for ip in addresses:
        if not allowed(ip, loopback):
            raise UnsafeUrl("the callback host resolves to a private, loopback or link-local address")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(parts.scheme, host, port, path, str(addresses[0]))
