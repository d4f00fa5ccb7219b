"""Staff of the library console: who they are, what they may do, and the rules of signing in.

Pure: no clock of its own (every rule takes `now`), no storage, no hashing library (services/staff.py
hashes). A staff member belongs to one collectivity: the network admin runs it (staff, settings,
audit), staff of a member library (or of the collectivity) serve its patrons."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum

from .refusals import Reason, Refused
from .values import Record

SESSION_IDLE = timedelta(hours=2)  # a session unused this long is over
SESSION_MAX = timedelta(hours=12)  # and none outlives a working day
PENDING_MFA = timedelta(minutes=5)  # password accepted, code not yet given
INVITE_TTL = timedelta(days=3)
RESET_TTL = timedelta(hours=1)
THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_ACCOUNT = 5  # wrong passwords or codes for one account per window
MAX_FAILURES_ADDRESS = 20  # for one client address per window, whatever the accounts
MIN_PASSWORD = 12
MAX_PASSWORD = 200
RECOVERY_CODES = 10
# as text: `re` compiles a pattern at its first use (and caches it), not at every cold start
EMAIL = r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$"


class StaffRole(StrEnum):
    ADMIN = "admin"  # network admin of the collectivity
    STAFF = "staff"  # staff of the collectivity or of one of its member libraries


class StaffState(StrEnum):
    INVITED = "invited"
    ACTIVE = "active"
    DISABLED = "disabled"


class Staff(Record):
    email: str  # normalised: the sign-in name
    gln_coll: str  # the collectivity: the only tenant this person ever sees
    role: StaffRole
    state: StaffState
    library: str | None  # member library GLN (loanerColl), for staff of a member library
    name: str
    password_hash: str | None
    totp_secret: str | None
    recovery: list[str]  # hashes of the unused recovery codes
    epoch: int  # bumped to revoke every session at once (password reset, disable)
    last_step: int  # the last TOTP time step accepted: a code is good once

    def __init__(self, email: str, gln_coll: str, role: StaffRole, state: StaffState = StaffState.INVITED,
                 library: str | None = None, name: str = "", password_hash: str | None = None,
                 totp_secret: str | None = None, recovery: list[str] | None = None, epoch: int = 0,
                 last_step: int = 0) -> None:
        self._init(email, gln_coll, role, state, library, name, password_hash, totp_secret,
                   [] if recovery is None else recovery, epoch, last_step)

    @property
    def admin(self) -> bool:
        return self.role is StaffRole.ADMIN


def normal_email(text: object) -> str | None:
    """The sign-in name: an email without case or surrounding blanks; None if it is not one."""
    if not isinstance(text, str):
        return None
    email = text.strip().lower()
    return email if len(email) <= 254 and re.match(EMAIL, email) else None


def check_password(password: str, email: str) -> None:
    """A new password: long enough, not absurdly long, not the email itself."""
    if len(password) < MIN_PASSWORD:
        raise Refused(Reason.PASSWORD_TOO_SHORT)
    if len(password) > MAX_PASSWORD:
        raise Refused(Reason.PASSWORD_TOO_LONG)
    if password.strip().lower() == email:
        raise Refused(Reason.PASSWORD_IS_EMAIL)


def window(now: datetime) -> str:
    """The throttle window `now` falls in (fixed windows: one counter item per window)."""
    size = int(THROTTLE_WINDOW.total_seconds())
    return str(int(now.timestamp()) // size * size)


def window_left(now: datetime) -> int:
    """Whole minutes until the current window ends (at least 1): when to try again."""
    size = int(THROTTLE_WINDOW.total_seconds())
    left = size - int(now.timestamp()) % size
    return max(1, -(-left // 60))


def throttled(account_failures: int, address_failures: int) -> bool:
    return account_failures >= MAX_FAILURES_ACCOUNT or address_failures >= MAX_FAILURES_ADDRESS


class Session(Record):
    token_id: str  # digest of the cookie's token (the token itself is never stored)
    email: str
    gln_coll: str
    created_at: datetime
    seen_at: datetime
    csrf: str
    mfa: bool  # False: password accepted, waiting for the code
    epoch: int

    def __init__(self, token_id: str, email: str, gln_coll: str, created_at: datetime, seen_at: datetime, csrf: str,
                 mfa: bool, epoch: int) -> None:
        self._init(token_id, email, gln_coll, created_at, seen_at, csrf, mfa, epoch)

    def alive(self, now: datetime, staff: Staff | None) -> bool:
        if staff is None or staff.state is not StaffState.ACTIVE or staff.epoch != self.epoch:
            return False
        if staff.gln_coll != self.gln_coll:
            return False
        if not self.mfa:
            return now - self.created_at < PENDING_MFA
        return now - self.seen_at < SESSION_IDLE and now - self.created_at < SESSION_MAX

    def expires(self) -> datetime:
        """When the item may be forgotten (a bound for the table's TTL clean-up, not the rule)."""
        return self.created_at + (SESSION_MAX if self.mfa else PENDING_MFA)
