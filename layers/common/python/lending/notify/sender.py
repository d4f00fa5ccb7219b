"""One signed POST with http.client, to the address the guard checked, with a short timeout.
No redirects are followed (a redirect could lead anywhere): only a 2xx acknowledges."""

from __future__ import annotations

import http.client
import os
import socket
import ssl
from typing import Any

from ..domain.values import Value
from .guard import Target

USER_AGENT = "lending-hub-callbacks/1"
_tls: ssl.SSLContext | None = None


def timeout_s() -> float:
    return float(os.environ.get("CALLBACK_TIMEOUT_S", "5"))


class Reply(Value):
    status: int | None  # None: no HTTP answer (refused, timeout, TLS...)
    error: str | None

    def __init__(self, status: int | None, error: str | None = None) -> None:
        self._init(status, error)

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def post(target: Target, body: bytes, headers: dict[str, str], timeout: float | None = None) -> Reply:
    global _tls
    timeout = timeout_s() if timeout is None else timeout
    conn: http.client.HTTPConnection
    if target.scheme == "https":
        _tls = _tls or ssl.create_default_context()
        conn = http.client.HTTPSConnection(target.host, target.port, timeout=timeout, context=_tls)
    else:
        conn = http.client.HTTPConnection(target.host, target.port, timeout=timeout)

    def pinned(address: tuple[str, int], *args: Any, **kw: Any) -> socket.socket:
        # http.client connects through this hook: the checked address, never a fresh lookup of the host.
        return socket.create_connection((target.address, address[1]), *args, **kw)

    conn._create_connection = pinned  # type: ignore[attr-defined]
    try:
        conn.request("POST", target.path, body=body, headers={
            "Content-Type": "application/json", "User-Agent": USER_AGENT, "Connection": "close", **headers})
        response = conn.getresponse()
        response.read(4096)
        return Reply(response.status, None if 200 <= response.status < 300 else f"HTTP {response.status}")
    except TimeoutError:
        return Reply(None, f"timeout after {timeout:g}s")
    except (OSError, http.client.HTTPException) as e:
        return Reply(None, f"{type(e).__name__}: {e}"[:300])
    finally:
        conn.close()
