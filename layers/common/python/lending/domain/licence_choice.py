"""Which of a library's licences of one medium lends next (library API v1).

The rule: among the licences that can lend a place now, the one whose licence ends soonest (it would
be wasted first), then the oldest, then by orderLineId so that the choice is stable. Licences whose
pool looks full come after those with a free place: one of their loans may be overdue, and lending
from them reclaims it. The others (cancelled, not started, expired, no access left) are out."""

from __future__ import annotations

from datetime import datetime

from .codes import Refused, Status
from .licences import Licence, Pool, check_loan

ALL_ON_LOAN = "All resources are currently on loan."
NOTHING_LEFT = "This resource can no longer be lent."


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
            if r.reason == "pool_full":
                full.append(lic)
            else:
                out.append(r)

    def key(lic: Licence) -> tuple[datetime, datetime, str]:
        return lic.end_date, lic.dmd_date, lic.order_line_id

    return sorted(free, key=key) + sorted(full, key=key), out


def none_left(refusals: list[Refused]) -> Refused:
    """Why no licence lent: "busy" when a place may free up, "nothing left" when none ever will."""
    if any(r.reason == "pool_full" for r in refusals):
        return Refused(Status.MAX_SIMULTANEOUS_LOAN_REACHED, ALL_ON_LOAN, reason="all_on_loan")
    return Refused(Status.MAX_LOAN_QUANTITY_REACHED, NOTHING_LEFT, reason="nothing_left")
