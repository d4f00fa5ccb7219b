"""Library API v1 authentication: the X-Api-Key header names a collectivity. Keys are stored as their
SHA-256 (long random tokens: no slow hash needed); a success is remembered briefly per warm container."""

from __future__ import annotations

import hashlib
import time

from ..domain.accounts import Account, Role
from ..store import accounts as store

CACHE_SECONDS = 60.0
MAX_KEY_LENGTH = 200
_known: dict[str, tuple[float, Account]] = {}


def library(key: object) -> Account | None:
    """The collectivity whose API key this is, or None."""
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_LENGTH:
        return None
    digest = hashlib.sha256(key.encode()).hexdigest()
    now = time.monotonic()
    hit = _known.get(digest)
    if hit and hit[0] > now:
        return hit[1]
    account = store.by_api_key(key)
    if account is None or account.role is not Role.COLLECTIVITY:
        return None
    _known[digest] = (now + CACHE_SECONDS, account)
    return account


def forget() -> None:
    """Tests that change a library's settings between calls."""
    _known.clear()
