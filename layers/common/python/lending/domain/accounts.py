"""Accounts and their secrets. Secrets are kept only as salted, slow hashes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from enum import StrEnum
from typing import Any

from .values import Record

_ITERATIONS = 120_000


class Role(StrEnum):
    RESELLER = "reseller"
    COLLECTIVITY = "collectivity"
    LIBRARY = "library"  # member library of a collectivity (loanerColl)
    CONTRACTOR = "contractor"
    DISTRIBUTOR = "distributor"


class Account(Record):
    gln: str
    role: Role
    name: str
    country: str
    secret_hash: str | None
    members: tuple[str, ...]  # collectivity: its member libraries (loanerColl)
    parent: str | None  # library: its collectivity
    distributors: tuple[str, ...] | None  # reseller/collectivity: allowed distributors (None: all)
    callback_secret: str | None  # collectivity: HMAC key of early-return notifications
    settings: dict[str, Any]  # collectivity: v1 limits

    def __init__(self, gln: str, role: Role, name: str = "", country: str = "FR", secret_hash: str | None = None,
                 members: tuple[str, ...] = (), parent: str | None = None, distributors: tuple[str, ...] | None = None,
                 callback_secret: str | None = None, settings: dict[str, Any] | None = None) -> None:
        self._init(gln, role, name, country, secret_hash, members, parent, distributors, callback_secret,
                   {} if settings is None else settings)

    def may_order_from(self, gln_distributor: str) -> bool:
        return self.distributors is None or gln_distributor in self.distributors

    def lends_for(self, loaner: str) -> bool:
        """A collectivity lends for itself and for its member libraries."""
        return loaner == self.gln or loaner in self.members


def hash_secret(secret: str, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt, _ITERATIONS)
    return f"pbkdf2_sha256${_ITERATIONS}${salt.hex()}${digest.hex()}"


# What an account without a usable hash (or no account at all) is checked against: the same work as a
# real check, so that a wrong password and an unknown account take the same time. Nothing matches it.
_DECOY = f"pbkdf2_sha256${_ITERATIONS}${'00' * 16}$"


def verify_secret(secret: str, stored: str | None) -> bool:
    """Always one PBKDF2 of `secret` (a missing or malformed `stored` is checked against a decoy)."""
    try:
        algo, iterations, salt, digest = (stored or _DECOY).split("$")
        rounds, salt_bytes = int(iterations), bytes.fromhex(salt)
        if algo != "pbkdf2_sha256" or not 1 <= rounds <= 10 * _ITERATIONS:
            raise ValueError(algo)
    except ValueError:
        algo, iterations, salt, digest = _DECOY.split("$")
        rounds, salt_bytes = _ITERATIONS, bytes.fromhex(salt)
    got = hashlib.pbkdf2_hmac("sha256", secret.encode(), salt_bytes, rounds)
    return bool(digest) and hmac.compare_digest(got.hex(), digest)


def api_key_id(key: str) -> str:
    """API keys are long random tokens: a plain SHA-256 is a safe lookup key for them."""
    return hashlib.sha256(key.encode()).hexdigest()
