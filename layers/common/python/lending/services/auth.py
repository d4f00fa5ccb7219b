"""Authentication on every call, with a short warm-container cache of successful checks.

PNB sends the password with every request; a slow hash per call would dominate latency, so a
success is remembered for CACHE_SECONDS, keyed by an HMAC of the password under a per-process key
(the plain password is never kept)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from ..cache import TtlCache
from ..domain.accounts import Account, Role, verify_secret
from ..domain.identifiers import is_alnum, is_gln
from ..domain.refusals import Reason, Refused
from ..store import accounts as store

CACHE_SECONDS = 60.0
_PROCESS_KEY = secrets.token_bytes(32)
_verified: TtlCache[tuple[str, str], Account] = TtlCache(CACHE_SECONDS)
_accounts: TtlCache[str, Account | None] = TtlCache(CACHE_SECONDS)


def _digest(secret: str) -> str:
    return hmac.new(_PROCESS_KEY, secret.encode(), hashlib.sha256).hexdigest()


def authenticate(gln: object, password: object, roles: tuple[Role, ...]) -> Account:
    """The account behind (gln, password): AUTHENTICATION_ERROR "Bad credentials" when there is none;
    ACCES_DENIED "Authorization failure" when it has none of `roles` (spec, base codes: "the user has no
    right of access to the service"), said only once the password is proven, so it reveals nothing."""
    if not is_gln(gln) or not is_alnum(password, 25):
        raise Refused(Reason.BAD_CREDENTIALS)
    assert isinstance(gln, str) and isinstance(password, str)
    cache_key = (gln, _digest(password))
    hit, known = _verified.get(cache_key)
    if hit and known is not None:
        account = known
    else:
        found = store.get(gln)
        if found is None or not verify_secret(password, found.secret_hash):
            raise Refused(Reason.BAD_CREDENTIALS)
        account = found
        _verified.put(cache_key, account)
    if account.role not in roles:
        raise Refused(Reason.NOT_AUTHORIZED)
    return account


def account(gln: str) -> Account | None:
    """Another party's account (collectivity, distributor, contractor), cached as briefly."""
    return _accounts.get_or_load(gln, lambda: store.get(gln))


def forget() -> None:
    """Tests that change accounts between calls."""
    _verified.clear()
    _accounts.clear()
