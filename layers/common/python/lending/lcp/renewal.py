"""Renewal rules for LSD `renew` (TEMPORARY: the core's extendLoan, built on another branch, owns these
rules; once it lands, LSD renew calls it and this module goes).

A renewal moves the end of an active loan later, never past the offer's longest loan counted from the
loan's start, nor past the licence's own end."""

from __future__ import annotations

from datetime import datetime, timedelta


class RenewRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # loan_ended | not_later | over_max_duration | past_licence_end | licence_cancelled


def potential_end(created_at: datetime, max_loan_days: int, licence_end: datetime) -> datetime:
    """The latest end a renewal may give."""
    return min(created_at + timedelta(days=max_loan_days), licence_end)


def check(*, now: datetime, loan_active: bool, current_end: datetime, created_at: datetime, new_end: datetime,
          max_loan_days: int, licence_end: datetime, licence_ok: bool) -> datetime:
    """The new end, or the first rule it breaks."""
    if not loan_active or current_end <= now:
        raise RenewRefused("loan_ended")
    if not licence_ok:
        raise RenewRefused("licence_cancelled")
    if new_end <= current_end:
        raise RenewRefused("not_later")
    if new_end - created_at > timedelta(days=max_loan_days):
        raise RenewRefused("over_max_duration")
    if new_end > licence_end:
        raise RenewRefused("past_licence_end")
    return new_end
