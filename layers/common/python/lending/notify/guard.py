"""SSRF guard: a callback URL is resolved once, every address it resolves to is checked, and the
connection then goes to the checked address (no second lookup a DNS rebinding could answer).

Deployed, only globally routable addresses pass: private, loopback, link-local (the instance metadata
service), shared, reserved, multicast and unspecified ones are refused. The local stack (HUB_LOCAL=1)
also allows loopback, so tests can listen on 127.0.0.1."""

from __future__ import annotations

import ipaddress
import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

Resolver = Callable[..., list[Any]]
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeUrl(ValueError):
    """The URL can never be delivered to (bad form, or a forbidden address): not worth a retry."""


class ResolveFailed(OSError):
    """DNS gave no answer now: worth a retry."""


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as written (Host header, TLS server name)
    port: int
    path: str  # path and query
    address: str  # the checked address to connect to


def allow_loopback() -> bool:
    return os.environ.get("HUB_LOCAL") == "1"


def allowed(ip: IPAddress, loopback: bool) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
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
