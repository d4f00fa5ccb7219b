"""Library API v1 authentication: the X-Api-Key header names a collectivity. Keys are stored as their
SHA-256 (long random tokens: no slow hash needed); a success is remembered briefly per warm container."""

from __future__ import annotations

import hashlib
import hmac

from ..cache import TtlCache
from ..domain.accounts import Account, Role
from ..store import accounts as store
from .links import signing_key

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


def derive_patron_key(gln_coll: str, member: str, generation: int) -> str:
    """A patron's API key, derived from the hub's signing key (the console shows it, the patron space checks it)."""
    raw = hmac.new(signing_key(), f"patron-key\0{gln_coll}\0{member}\0{generation}".encode(), hashlib.sha256)
    return raw.hexdigest()[:32]
