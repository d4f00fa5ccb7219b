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
from ..domain.identifiers import is_alnum, is_gln
from ..domain.refusals import Reason, Refused
from ..store import accounts as store

CACHE_SECONDS = 60.0
_PROCESS_KEY = secrets.token_bytes(32)
_verified: dict[tuple[str, str], tuple[float, Account]] = {}
_accounts: dict[str, tuple[float, Account | None]] = {}


def _digest(secret: str) -> str:
    return hmac.new(_PROCESS_KEY, secret.encode(), hashlib.sha256).hexdigest()


def authenticate(gln: object, password: object, roles: tuple[Role, ...]) -> Account:
    """The account behind (gln, password): AUTHENTICATION_ERROR "Bad credentials" when there is none;
    ACCES_DENIED "Authorization failure" when it has none of `roles` (spec, base codes: "the user has no
    right of access to the service"), said only once the password is proven, so it reveals nothing."""
    if not is_gln(gln) or not is_alnum(password, 25):
        raise Refused(Reason.BAD_CREDENTIALS)
    assert isinstance(gln, str) and isinstance(password, str)
    now = time.monotonic()
    cache_key = (gln, _digest(password))
    hit = _verified.get(cache_key)
    if hit and hit[0] > now:
        account = hit[1]
    else:
        found = store.get(gln)
        if found is None or not verify_secret(password, found.secret_hash):
            raise Refused(Reason.BAD_CREDENTIALS)
        account = found
        _verified[cache_key] = (now + CACHE_SECONDS, account)
    if account.role not in roles:
        raise Refused(Reason.NOT_AUTHORIZED)
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
