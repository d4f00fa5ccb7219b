"""Signed, time-limited links to a loan's file (the fulfillment URL)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from datetime import UTC, datetime

from ..text import same_secret

_DEV_KEY = "local-only-signing-key"  # the deployed stack sets LINK_SIGNING_KEY from a secret parameter


def signing_key() -> bytes:
    """The hub's secret for links and keyed digests (each use prefixes its own purpose)."""
    return os.environ.get("LINK_SIGNING_KEY", _DEV_KEY).encode()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


FOLLOWS_LOAN = "L"  # marks a link that lasts as long as its loan, renewals included


def sign_loan_link(base_url: str, gln_coll: str, loan_id: str, expires: datetime, follows_loan: bool = False) -> str:
    """A link to the loan's file. `expires` bounds a short-lived link (a fulfillment document's hour). A
    link given as the loan's own (`follows_loan`: loanBook's link.url, the warehouse URL, v1's url) lives
    as long as the loan does: its end is read from the loan when it is opened, so a renewal carries it on
    and a return or an expiry ends it at once. Such a link is given the loan's start as `expires`: a fixed
    instant of the loan, so the link a renewal or a replay answers is the one first given."""
    payload = f"{gln_coll}.{loan_id}.{int(expires.timestamp())}"
    if follows_loan:
        payload += f".{FOLLOWS_LOAN}"
    sig = hmac.new(signing_key(), payload.encode(), hashlib.sha256).digest()[:20]
    return f"{base_url}/fulfillment/{_b64(payload.encode())}.{_b64(sig)}"


def verify_loan_link(token: str, now: datetime) -> tuple[str, str] | None:
    """(gln_coll, loan_id) of a genuine link that is not past its own end; None otherwise. A link that
    follows its loan has no end of its own: the caller checks the loan (active, end not passed)."""
    try:
        raw, sig = token.split(".")
        payload = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        gln_coll, loan_id, exp, *flag = payload.split(".")
        good = hmac.new(signing_key(), payload.encode(), hashlib.sha256).digest()[:20]
        if not same_secret(_b64(good), sig) or flag not in ([], [FOLLOWS_LOAN]):
            return None
        if not flag and datetime.fromtimestamp(int(exp), UTC) <= now:
            return None
    except (ValueError, UnicodeDecodeError):
        return None
    return gln_coll, loan_id


def _resource_sig(gln_coll: str, loan_id: str, path: str, exp: int) -> str:
    payload = f"reader\0{gln_coll}\0{loan_id}\0{path}\0{exp}"
    return _b64(hmac.new(signing_key(), payload.encode(), hashlib.sha256).digest()[:20])


def sign_resource(gln_coll: str, loan_id: str, path: str, expires: datetime) -> str:
    """The query (`e`, `s`) that opens one resource of a loan's book in the reader until `expires`: an
    HMAC over the loan, the resource's path in the EPUB and the expiry."""
    exp = int(expires.timestamp())
    return f"e={exp}&s={_resource_sig(gln_coll, loan_id, path, exp)}"


def verify_resource(gln_coll: str, loan_id: str, path: str, exp: str, sig: str, now: datetime) -> bool:
    """A genuine signature of this resource of this loan, not yet expired."""
    if not (exp.isascii() and exp.isdigit() and len(exp) <= 12) or len(sig) > 64:
        return False
    good = _resource_sig(gln_coll, loan_id, path, int(exp))
    return same_secret(good, sig) and datetime.fromtimestamp(int(exp), UTC) > now
