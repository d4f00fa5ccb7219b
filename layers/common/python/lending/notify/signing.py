"""X-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes>, keyed with the collectivity's secret."""

from __future__ import annotations

import hashlib
import hmac

from ..text import same_secret

PREFIX = "sha256="


def sign(secret: str, body: bytes) -> str:
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str | None) -> bool:
    """What a receiver does (and the tests): constant-time comparison."""
    return bool(header) and same_secret(sign(secret, body), header or "")
