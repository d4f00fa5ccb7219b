"""Authentication on every call, with a short warm-container cache of successful checks.

PNB sends the password with every request; a slow hash per call would dominate latency, so a
success is remembered for CACHE_SECONDS, keyed by an HMAC of the password under a per-process key
(the plain password is never kept)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

from ..domain.accounts import Account, Role, verify_secret
from ..domain.codes import BAD_CREDENTIALS, Refused, Status
from ..domain.identifiers import is_alnum, is_gln
from ..store import accounts as store

CACHE_SECONDS = 60.0
_PROCESS_KEY = secrets.token_bytes(32)
_verified: dict[tuple[str, str], tuple[float, Account]] = {}
_accounts: dict[str, tuple[float, Account | None]] = {}


def _digest(secret: str) -> str:
    return hmac.new(_PROCESS_KEY, secret.encode(), hashlib.sha256).hexdigest()


def authenticate(gln: object, password: object, roles: tuple[Role, ...]) -> Account:
    """The account behind (gln, password) if it has one of `roles`; AUTHENTICATION_ERROR otherwise."""
    if not is_gln(gln) or not is_alnum(password, 25):
        raise Refused(Status.AUTHENTICATION_ERROR, BAD_CREDENTIALS)
    assert isinstance(gln, str) and isinstance(password, str)
    now = time.monotonic()
    cache_key = (gln, _digest(password))
    hit = _verified.get(cache_key)
    if hit and hit[0] > now and hit[1].role in roles:
        return hit[1]
    account = store.get(gln)
    if account is None or account.role not in roles or not verify_secret(password, account.secret_hash):
        raise Refused(Status.AUTHENTICATION_ERROR, BAD_CREDENTIALS)
    _verified[cache_key] = (now + CACHE_SECONDS, account)
    return account


def account(gln: str) -> Account | None:
    """Another party's account (collectivity, distributor, contractor), cached as briefly."""
    now = time.monotonic()
    hit = _accounts.get(gln)
    if hit and hit[0] > now:
        return hit[1]
    found = store.get(gln)
    _accounts[gln] = (now + CACHE_SECONDS, found)
    return found


def forget() -> None:
    """Tests that change accounts between calls."""
    _verified.clear()
    _accounts.clear()
