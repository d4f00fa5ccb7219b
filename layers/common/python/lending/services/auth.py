"""Authentication on every call, with a short warm-container cache of successful checks.

PNB sends the password with every request; a slow hash per call would dominate latency, so a
success is remembered for CACHE_SECONDS, keyed by an HMAC of the password under a per-process key
(the plain password is never kept).

Guessing is made slow and silent: an unknown account costs the same hash as a wrong password (which
accounts exist does not show by timing), and failed sign-ins are counted per account and per source
address in fixed windows (store.signins): past the limit, every sign-in of that account or from that
address is refused for the rest of the window, the right password included, without hashing anything."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime

from .. import clock
from ..cache import TtlCache
from ..domain.accounts import Account, Role, verify_secret
from ..domain.dates import iso
from ..domain.identifiers import PASSWORD_MAX, is_alnum, is_gln
from ..domain.refusals import Reason, Refused
from ..store import accounts as store
from ..store import signins

WINDOW_SECONDS = 15 * 60
FAILURES_PER_ACCOUNT = 10  # a person mistyping does not get there; a guesser gets 10 tries a quarter hour
FAILURES_PER_SOURCE = 100  # one address trying many accounts (several libraries may share a NAT)

CACHE_SECONDS = 60.0
_PROCESS_KEY = secrets.token_bytes(32)
_verified: TtlCache[tuple[str, str], Account] = TtlCache(CACHE_SECONDS)
_accounts: TtlCache[str, Account | None] = TtlCache(CACHE_SECONDS)


def _digest(secret: str) -> str:
    return hmac.new(_PROCESS_KEY, secret.encode(), hashlib.sha256).hexdigest()


def authenticate(gln: object, password: object, roles: tuple[Role, ...], *, now: datetime | None = None,
                 source: str | None = None) -> Account:
    """The account behind (gln, password): AUTHENTICATION_ERROR "Bad credentials" when there is none;
    ACCES_DENIED "Authorization failure" when it has none of `roles` (spec, base codes: "the user has no
    right of access to the service"), said only once the password is proven, so it reveals nothing.
    TOO_MANY_SIGNINS (with `retry_after`, the window's end) past the limits of failures of the account
    or of the `source` address in the current window of `now` (the request's time, the clock seam's
    when not given)."""
    if not is_gln(gln) or not is_alnum(password, PASSWORD_MAX):
        raise Refused(Reason.BAD_CREDENTIALS)
    assert isinstance(gln, str) and isinstance(password, str)
    cache_key = (gln, _digest(password))
    hit, known = _verified.get(cache_key)
    if hit and known is not None:
        account = known
    else:
        account = _verified.put(cache_key, _sign_in(gln, password, now or clock.now(), source))
    if account.role not in roles:
        raise Refused(Reason.NOT_AUTHORIZED)
    return account


def _sign_in(gln: str, password: str, now: datetime, source: str | None) -> Account:
    epoch = int(now.timestamp())
    window = epoch - epoch % WINDOW_SECONDS
    subjects = [("account", gln)] + ([("source", source)] if source else [])
    failed = signins.failures(subjects, window)
    if failed[("account", gln)] >= FAILURES_PER_ACCOUNT or (
            source and failed[("source", source)] >= FAILURES_PER_SOURCE):
        raise Refused(Reason.TOO_MANY_SIGNINS, retry_after=iso(datetime.fromtimestamp(window + WINDOW_SECONDS, UTC)))
    found = store.get(gln)
    # An unknown account is hashed as much as a wrong password is (verify_secret with no hash still hashes).
    proven = verify_secret(password, found.secret_hash if found else None)
    if found is None or not proven:
        signins.record_failure(subjects, window, WINDOW_SECONDS)
        raise Refused(Reason.BAD_CREDENTIALS)
    return found


def account(gln: str) -> Account | None:
    """Another party's account (collectivity, distributor, contractor), cached as briefly."""
    return _accounts.get_or_load(gln, lambda: store.get(gln))


def check_contractor(gln: str | None) -> None:
    """A contractor named in a request (glnContractor) is a known contractor, when one is named."""
    if gln is None:
        return
    found = account(gln)
    if found is None or found.role is not Role.CONTRACTOR:
        raise Refused(Reason.UNKNOWN_CONTRACTOR, gln=gln)


def forget() -> None:
    """Tests that change accounts between calls."""
    _verified.clear()
    _accounts.clear()
