"""Library API v1 authentication: the X-Api-Key header names a collectivity. Keys are stored as their
SHA-256 (long random tokens: no slow hash needed); a success is remembered briefly per warm container."""

from __future__ import annotations

import hashlib

from ..cache import TtlCache
from ..domain.accounts import Account, Role
from ..store import accounts as store

CACHE_SECONDS = 60.0
MAX_KEY_LENGTH = 200
_known: TtlCache[str, Account] = TtlCache(CACHE_SECONDS)


def library(key: object) -> Account | None:
    """The collectivity whose API key this is, or None."""
    if not isinstance(key, str) or not 0 < len(key) <= MAX_KEY_LENGTH:
        return None
    digest = hashlib.sha256(key.encode()).hexdigest()
    found, known = _known.get(digest)
    if found:
        return known
    account = store.by_api_key(key)
    if account is None or account.role is not Role.COLLECTIVITY:
        return None
    return _known.put(digest, account)


def forget() -> None:
    """Tests that change a library's settings between calls."""
    _known.clear()
