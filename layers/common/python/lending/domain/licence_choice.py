"""Which of a library's licences of one medium lends next (library API v1).

The rule: among the licences that can lend a place now, the one whose licence ends soonest (it would
be wasted first), then the oldest, then by orderLineId so that the choice is stable. Licences whose
pool looks full come after those with a free place: one of their loans may be overdue, and lending
from them reclaims it. The others (cancelled, not started, expired, no access left) are out."""

from __future__ import annotations

from datetime import datetime

from .licences import Licence, Pool, check_loan
from .refusals import Reason, Refused


def lending_order(licences: list[Licence], pool: Pool, now: datetime) -> tuple[list[Licence], list[Refused]]:
    """The licences to try, in order, and the refusals of those left out."""
    free: list[Licence] = []
    full: list[Licence] = []
    out: list[Refused] = []
    for lic in licences:
        try:
            check_loan(lic, pool, now)
            free.append(lic)
        except Refused as r:
            if r.reason is Reason.POOL_FULL:
                full.append(lic)
            else:
                out.append(r)

    def key(lic: Licence) -> tuple[datetime, datetime, str]:
        return lic.end_date, lic.dmd_date, lic.order_line_id

    return sorted(free, key=key) + sorted(full, key=key), out


def none_left(refusals: list[Refused]) -> Refused:
    """Why no licence lent: "busy" when a place may free up, "nothing left" when none ever will."""
    if any(r.reason is Reason.POOL_FULL for r in refusals):
        return Refused(Reason.ALL_ON_LOAN)
    return Refused(Reason.NOTHING_LEFT)
