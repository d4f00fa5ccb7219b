"""What a collectivity's orders became (getOrders, getLoanStatus): each line's state, its licence's
counters, the loans returned early from it. Apart from the ordering itself (services/orders.py): a
function answers one operation and loads its own use cases alone (docs/cost.md, cold start)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..domain.accounts import Account
from ..domain.codes import Status, line_refusal
from ..domain.dates import iso
from ..domain.licences import Licence
from ..domain.loans import Loan
from ..domain.refusals import Reason, Refused
from ..domain.values import Value
from ..store import licences as line_store
from . import auth
from .context import Ctx
from .lines import ended_early, own_licence

# --- getOrders and getLoanStatus ------------------------------------------------------------------

class LicenceState(Value):
    """The counters and dates of a licence as getOrders and getLoanStatus show them."""

    begin_date: datetime | None
    end_date: datetime
    end_offer_date: datetime | None
    nus1: int
    nus2: int
    nta: int

    def __init__(self, begin_date: datetime | None, end_date: datetime, end_offer_date: datetime | None, nus1: int,
                 nus2: int, nta: int) -> None:
        self._init(begin_date, end_date, end_offer_date, nus1, nus2, nta)


def licence_state(licence: Licence, ctx: Ctx) -> LicenceState:
    return LicenceState(licence.begin_date, licence.end_date, licence.end_offer_date(ctx.now),
                        licence.nus1(ctx.now), licence.nus2(ctx.now), licence.nta)


class LineState(Value):
    """A stored line's state: its status (OK, CANCELLED... and the message stored with older records),
    or the refusal it was ordered with."""

    status: str | None
    message: str | None
    refusal: Refused | None

    def __init__(self, status: str | None = None, message: str | None = None, refusal: Refused | None = None) -> None:
        self._init(status, message, refusal)


def line_status(item: dict[str, Any]) -> LineState:
    refusal = line_refusal(item)
    if refusal is not None:
        return LineState(refusal=refusal)
    return LineState(item["status"], item.get("message"))


class LoanStatus(Value):
    """getLoanStatus: the state of some of the collectivity's lines."""

    order_line_ids: list[str]
    with_ended: bool  # and the loans returned early from each (PMB's sync closes them on its side)
    gln_contractor: str | None

    def __init__(self, order_line_ids: list[str], with_ended: bool = False, gln_contractor: str | None = None) -> None:
        self._init(order_line_ids, with_ended, gln_contractor)


class LineLoanStatus(Value):
    """One line: its state and its licence's counters, or why it cannot be told (another tenant's line
    is as unknown as a missing one)."""

    order_line_id: str
    state: LineState | None
    licence: LicenceState | None
    ended: list[Loan] | None
    refusal: Refused | None

    def __init__(self, order_line_id: str, state: LineState | None = None, licence: LicenceState | None = None,
                 ended: list[Loan] | None = None, refusal: Refused | None = None) -> None:
        self._init(order_line_id, state, licence, ended, refusal)


def loan_status(ctx: Ctx, coll: Account, req: LoanStatus) -> list[LineLoanStatus]:
    auth.check_contractor(req.gln_contractor)
    out = []
    for line_id in dict.fromkeys(req.order_line_ids):
        try:
            item, licence = own_licence(coll, line_id, ctx.now)
        except Refused as r:
            out.append(LineLoanStatus(line_id, refusal=r))
            continue
        out.append(LineLoanStatus(line_id, line_status(item), licence_state(licence, ctx) if licence else None,
                                  ended_early(ctx, line_id) if req.with_ended else None))
    return out


def loan_url(ctx: Ctx, item: dict[str, Any]) -> str | None:
    token = item.get("lendingToken")
    if not token or item.get("status") != "OK":
        return None
    return f"{ctx.base_url}/warehouse/licences/{item['orderLineId']}/{token}/loans"


# getOrders answers at most this many lines: 4,950 licence lines make a SOAP answer of 3.1 MB (JSON 2.1 MB),
# inside Lambda's 6 MB answer limit with its JSON escaping (tests/integration/test_orders_bounded.py).
MAX_ANSWER_LINES = 5000


class GetOrders(Value):
    since: datetime | None
    order_id_coll: str | None
    with_errors: bool  # refused and cancelled lines too
    gln_contractor: str | None

    def __init__(self, since: datetime | None = None, order_id_coll: str | None = None, with_errors: bool = False,
                 gln_contractor: str | None = None) -> None:
        self._init(since, order_id_coll, with_errors, gln_contractor)


class OrderLineState(Value):
    order_id_coll: str
    line_reference_coll: str | None
    order_line_id: str
    ean13: str
    quantity: int
    state: LineState
    licence: LicenceState | None
    loan_url: str | None  # the licence's lending URL (warehouse door)

    def __init__(self, order_id_coll: str, line_reference_coll: str | None, order_line_id: str, ean13: str,
                 quantity: int, state: LineState, licence: LicenceState | None = None,
                 loan_url: str | None = None) -> None:
        self._init(order_id_coll, line_reference_coll, order_line_id, ean13, quantity, state, licence, loan_url)


class Orders(Value):
    """The collectivity's order lines; `date`: when to ask from next (the creation time of the first
    order left out when the answer was cut short, else now)."""

    date: str
    lines: list[OrderLineState]

    def __init__(self, date: str, lines: list[OrderLineState]) -> None:
        self._init(date, lines)


def get_orders(ctx: Ctx, coll: Account, req: GetOrders) -> Orders:
    auth.check_contractor(req.gln_contractor)
    if req.since is None and req.order_id_coll is None:
        raise Refused(Reason.MISSING_SINCE_OR_ORDER_ID)
    orders, rest_from = line_store.orders_page(coll.gln, iso(req.since) if req.since else None,
                                               req.order_id_coll, MAX_ANSWER_LINES)
    lines = line_store.get_lines([i for o in orders for i in o["lineIds"]])
    out = []
    for order in orders:
        for line_id in order["lineIds"]:
            item = lines.get(line_id)
            if item is None:
                continue
            if item["status"] != Status.OK and not req.with_errors:
                continue
            licence = licence_state(line_store.licence(item, ctx.now), ctx) if line_store.is_licence(item) else None
            out.append(OrderLineState(order["orderIdColl"], item.get("lineReferenceColl"), line_id, item["ean13"],
                                      item.get("quantity", 1), line_status(item), licence, loan_url(ctx, item)))
    # Cut short (docs/pnb-json.md, getOrders): `date` is then the creation time of the first order left out;
    # passed back as sinceDate it answers the rest (an order of that same second may come twice, none is lost).
    return Orders(rest_from or iso(ctx.now), out)
