"""A collectivity's own order lines and the loans ended early on them: what getLoanStatus reads and
the loan use cases check first (services.lending re-exports them). Apart from services.lending so that
getLoanStatus loads none of the lending rules (docs/cost.md, cold start)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..domain.accounts import Account
from ..domain.licences import Licence
from ..domain.loans import Loan, LoanState
from ..domain.refusals import Reason, Refused
from ..store import licences as line_store
from ..store import loans as loan_store
from .context import Ctx

ENDED_LOANS_DAYS = 60  # how far back getEndedLoans looks


def line_not_found(order_line_id: str) -> Refused:
    return Refused(Reason.UNKNOWN_LINE, order_line_id=order_line_id)


def own_line(coll: Account, order_line_id: str) -> dict[str, Any]:
    """The caller's own line (another tenant's is as unknown as a missing one)."""
    item = line_store.get_line(order_line_id)
    if item is None or item.get("glnColl") != coll.gln:
        raise line_not_found(order_line_id)
    return item


def own_licence(coll: Account, order_line_id: str, now: datetime) -> tuple[dict[str, Any], Licence | None]:
    """The caller's own line and its licence as it stands at `now`."""
    item = own_line(coll, order_line_id)
    return item, line_store.licence(item, now) if line_store.is_licence(item) else None


def ended_early(ctx: Ctx, order_line_id: str) -> list[Loan]:
    """The line's loans returned before their end (endLoan, returnLoan, the other doors' returns) in the
    last ENDED_LOANS_DAYS, oldest return first. The caller has checked the line is the collectivity's."""
    since = ctx.now - timedelta(days=ENDED_LOANS_DAYS)
    ended = [x for x in loan_store.of_line(order_line_id)
             if x.state is LoanState.RETURNED and x.returned_at is not None and x.returned_at >= since]
    ended.sort(key=lambda x: (x.returned_at or x.created_at, x.loan_id))
    return ended
