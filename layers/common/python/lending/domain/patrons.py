"""A library's patron (library API v1): limits per patron, per day and per month, courtesy loans.

The patron's record counts what the limits need: the loans it believes active (the loan records say
which still are), the loans created today and this month, and the courtesy loans granted. Every new
loan rewrites the record under a version condition, in the loan's own transaction, so two requests
of one patron can never both pass a limit that only one of them fits under. Days and months are UTC."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from .refusals import Reason, Refused
from .values import Value, replace

DEFAULT_LOAN_DAYS = 21



def _limit(settings: Mapping[str, Any], name: str) -> int | None:
    value = settings.get(name)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 10:
        return int(value)
    return None


class Limits(Value):
    """A library's settings (Account.settings of the collectivity); an absent limit is no limit."""

    max_active: int | None
    per_day: int | None
    per_month: int | None
    default_days: int

    def __init__(self, max_active: int | None = None, per_day: int | None = None, per_month: int | None = None,
                 default_days: int = DEFAULT_LOAN_DAYS) -> None:
        self._init(max_active, per_day, per_month, default_days)

    @classmethod
    def of(cls, settings: Mapping[str, Any]) -> Limits:
        return cls(max_active=_limit(settings, "maxActiveLoans"), per_day=_limit(settings, "maxLoansPerDay"),
                   per_month=_limit(settings, "maxLoansPerMonth"),
                   default_days=_limit(settings, "defaultLoanDays") or DEFAULT_LOAN_DAYS)


def day_of(now: datetime) -> str:
    return now.strftime("%Y-%m-%d")


def month_of(now: datetime) -> str:
    return now.strftime("%Y-%m")


class Patron(Value):
    gln_coll: str
    member_id: str
    version: int  # 0: no record yet
    active: dict[str, str]  # loanId -> ean13 of the loans believed active
    day: str
    day_count: int
    month: str
    month_count: int
    courtesy: int  # courtesy loans granted and not yet used

    def __init__(self, gln_coll: str, member_id: str, version: int = 0, active: dict[str, str] | None = None,
                 day: str = "", day_count: int = 0, month: str = "", month_count: int = 0, courtesy: int = 0) -> None:
        self._init(gln_coll, member_id, version, {} if active is None else active, day, day_count, month, month_count,
                   courtesy)

    def today(self, now: datetime) -> int:
        return self.day_count if self.day == day_of(now) else 0

    def this_month(self, now: datetime) -> int:
        return self.month_count if self.month == month_of(now) else 0


def admit(limits: Limits, patron: Patron, active_now: int, now: datetime) -> bool:
    """May this patron take one more loan now? True when only a courtesy loan lets them (it is used);
    raises the refusal of the first limit reached when there is none."""
    over = None
    if limits.max_active is not None and active_now >= limits.max_active:
        over = Reason.PATRON_ACTIVE_LIMIT
    elif limits.per_day is not None and patron.today(now) >= limits.per_day:
        over = Reason.PATRON_DAILY_LIMIT
    elif limits.per_month is not None and patron.this_month(now) >= limits.per_month:
        over = Reason.PATRON_MONTHLY_LIMIT
    if over is None:
        return False
    if patron.courtesy > 0:
        return True
    raise Refused(over)


def after_loan(patron: Patron, still_active: Mapping[str, str], loan_id: str, ean13: str, now: datetime,
               courtesy_used: bool) -> Patron:
    """The record once the new loan is made: ended loans dropped, counters of today and this month up."""
    return replace(patron, version=patron.version + 1, active={**still_active, loan_id: ean13},
                   day=day_of(now), day_count=patron.today(now) + 1,
                   month=month_of(now), month_count=patron.this_month(now) + 1,
                   courtesy=patron.courtesy - 1 if courtesy_used else patron.courtesy)


def email_digest(key: bytes, email: str) -> str:
    """What the hub keeps of a patron's email: a keyed digest of it, enough to tell that another patron of
    the library already gives that address (the spec's "already in use"), worthless without the hub's key.
    Addresses compare without case or surrounding blanks, as mail systems treat them in practice."""
    normal = email.strip().lower().encode()
    return hmac.new(key, b"patron-email\0" + normal, hashlib.sha256).hexdigest()[:40]


def check_email_owner(owner: str | None, member_id: str) -> None:
    """An address belongs to the first patron who gave it: refused to any other member id."""
    if owner is not None and owner != member_id:
        raise Refused(Reason.EMAIL_IN_USE)
