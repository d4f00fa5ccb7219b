"""Orders (sendOrder, cancelOrder, checkAvailability): resellers buy licences for a collectivity; each
OK line becomes a licence with the offer's terms. What the orders became (getOrders, getLoanStatus) is
services/order_status.py: a function answers one operation and loads its own use cases alone.

Typed requests in, typed results out; a line's refusal is not worded here: it travels as a `Refused`
in the line's result (the PNB door words it), and a refused line is stored as REFUSED with its reason
and parameters."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from ..domain.accounts import Account, Role
from ..domain.codes import REFUSED, Status
from ..domain.dates import iso
from ..domain.identifiers import new_order_line_id
from ..domain.licences import Licence
from ..domain.offers import Offer, check_price
from ..domain.refusals import Reason, Refused
from ..domain.values import Record, Value
from ..store import licences as line_store
from ..store import offers as offer_store
from ..store.table import TransactionFailed
from . import auth
from .context import Ctx


def collectivity(gln: str) -> Account:
    coll = auth.account(gln)
    if coll is None:
        raise Refused(Reason.UNKNOWN_COLLECTIVITY, gln=gln)
    if coll.role is not Role.COLLECTIVITY:
        raise Refused(Reason.NOT_A_COLLECTIVITY, gln=gln)
    return coll


def _distributor_known(gln: str) -> bool:
    found = auth.account(gln)
    return found is not None and found.role is Role.DISTRIBUTOR


def _offer_for(reseller: Account, coll: Account | None, offers: dict[tuple[str, str], Offer], ean13: str,
               gln_distributor: str) -> Offer | None:
    """Checks shared by sendOrder and checkAvailability lines; None when the offer is unknown."""
    if not _distributor_known(gln_distributor):
        raise Refused(Reason.UNKNOWN_DISTRIBUTOR)
    if not reseller.may_order_from(gln_distributor):
        raise Refused(Reason.DISTRIBUTOR_DENIED)
    if coll is not None and not coll.may_order_from(gln_distributor):
        raise Refused(Reason.COLL_DISTRIBUTOR_DENIED, gln_coll=coll.gln, gln_distributor=gln_distributor)
    return offers.get((ean13, gln_distributor))


def _echo(raw: dict[str, Any], key: str, kind: type = str) -> Any:
    """A field of a request line as sent, when it is a plain short value of the expected kind."""
    value = raw.get(key)
    if kind is int:
        return value if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**12 else None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value if isinstance(value, str) and 0 < len(value) <= 64 else None


# --- sendOrder ------------------------------------------------------------------------------------

class OrderLine(Value):
    """One line of an order, as the door decoded it."""

    ean13: str
    gln_distributor: str
    unit_price: int  # cents, tax included
    unit_price_ht: int
    currency: str
    dmd_date: datetime  # when the licence may lend from
    quantity: int
    tax_rate: int | None
    line_reference_coll: str | None

    def __init__(self, ean13: str, gln_distributor: str, unit_price: int, unit_price_ht: int, currency: str,
                 dmd_date: datetime, quantity: int = 1, tax_rate: int | None = None,
                 line_reference_coll: str | None = None) -> None:
        self._init(ean13, gln_distributor, unit_price, unit_price_ht, currency, dmd_date, quantity, tax_rate,
                   line_reference_coll)


class SentLine(Value):
    """A request line as sent (echoed, as far as it is plain and short, when refused) and what the door
    made of it: the line, or why it could not read it (the other lines still go on)."""

    sent: dict[str, Any]
    line: OrderLine | Refused

    def __init__(self, sent: dict[str, Any], line: OrderLine | Refused) -> None:
        self._init(sent, line)


class SendOrder(Value):
    gln_coll: str
    order_id: str
    order_id_coll: str
    reseller_country: str
    coll_country: str
    lines: list[SentLine]
    gln_contractor: str | None
    gln_delivery: str | None

    def __init__(self, gln_coll: str, order_id: str, order_id_coll: str, reseller_country: str, coll_country: str,
                 lines: list[SentLine], gln_contractor: str | None = None, gln_delivery: str | None = None) -> None:
        self._init(gln_coll, order_id, order_id_coll, reseller_country, coll_country, lines, gln_contractor,
                   gln_delivery)


class OrderedLine(Record):
    """A line's answer: the licence made (`refusal` None), or why not."""

    order_line_id: str
    ean13: str | None
    gln_distributor: str | None
    line_reference: str | None
    quantity: int | None
    unit_price: int | None
    currency: str | None
    refusal: Refused | None

    def __init__(self, order_line_id: str, ean13: str | None, gln_distributor: str | None, line_reference: str | None,
                 quantity: int | None, unit_price: int | None, currency: str | None,
                 refusal: Refused | None = None) -> None:
        self._init(order_line_id, ean13, gln_distributor, line_reference, quantity, unit_price, currency, refusal)


class OrderResult(Record):
    order_id: str
    lines: list[OrderedLine]

    def __init__(self, order_id: str, lines: list[OrderedLine]) -> None:
        self._init(order_id, lines)


def send_order(ctx: Ctx, reseller: Account, req: SendOrder) -> OrderResult:
    coll = collectivity(req.gln_coll)
    auth.check_contractor(req.gln_contractor)
    if req.gln_delivery is not None and auth.account(req.gln_delivery) is None:
        raise Refused(Reason.UNKNOWN_DELIVERY, gln=req.gln_delivery)
    pairs = [(str(x.sent.get("ean13", "")), str(x.sent.get("glnDistributor", ""))) for x in req.lines]
    offers = offer_store.get_many([p for p in dict.fromkeys(pairs) if all(x.isdigit() for x in p)])
    now_ms = int(ctx.now.timestamp() * 1000)
    seen: set[tuple[str, str]] = set()
    answers: list[OrderedLine] = []
    lines: list[dict[str, Any]] = []
    for sent_line in req.lines:
        raw = sent_line.sent
        line_id = new_order_line_id(now_ms)
        # A line in error echoes what it was sent, as far as it is plain and short (never garbage).
        answer = OrderedLine(
            order_line_id=line_id, ean13=_echo(raw, "ean13"), gln_distributor=_echo(raw, "glnDistributor"),
            line_reference=_echo(raw, "lineReference"),
            quantity=_echo(raw, "quantity", int) if "quantity" in raw else 1,  # absent: the default, 1
            unit_price=_echo(raw, "unitPrice", int), currency=_echo(raw, "currency"))
        stored: dict[str, Any] = {}
        try:
            if isinstance(sent_line.line, Refused):
                raise sent_line.line
            line = sent_line.line
            if line.quantity != 1:
                raise Refused(Reason.QUANTITY_NOT_ONE)
            pair = (line.ean13, line.gln_distributor)
            if pair in seen:
                raise Refused(Reason.DUPLICATED_LINE, ean13=line.ean13, gln_distributor=line.gln_distributor)
            seen.add(pair)
            offer = _offer_for(reseller, coll, offers, *pair)
            if offer is None:
                raise Refused(Reason.UNKNOWN_OFFER, ean13=line.ean13, gln_distributor=line.gln_distributor)
            answer.unit_price = offer.price_ttc
            if not offer.available:
                raise Refused(Reason.CANNOT_BE_SOLD)
            check_price(offer, line.unit_price, line.unit_price_ht, line.currency)
            licence = Licence.new(order_line_id=line_id, gln_coll=coll.gln, gln_reseller=reseller.gln,
                                  order_id=req.order_id, ean13=line.ean13, gln_distributor=line.gln_distributor,
                                  terms=offer.terms, dmd_date=line.dmd_date, lending_token=secrets.token_urlsafe(24))
            stored = line_store.licence_fields(licence)
            stored["dmdDate"] = iso(line.dmd_date)
            stored["unitPriceExcludingTax"] = line.unit_price_ht
            stored["taxRate"] = line.tax_rate
            stored["lineReferenceColl"] = line.line_reference_coll
        except Refused as r:
            answer.refusal = r
            stored = {"reason": r.reason.value, "params": r.params}
        answers.append(answer)
        lines.append({
            **stored, "orderLineId": line_id, "glnColl": coll.gln, "glnReseller": reseller.gln,
            "orderId": req.order_id, "orderIdColl": req.order_id_coll, "ean13": answer.ean13 or "",
            "glnDistributor": answer.gln_distributor or "", "lineReference": answer.line_reference,
            "quantity": answer.quantity, "unitPrice": answer.unit_price, "currency": answer.currency,
            "status": Status.OK.value if answer.refusal is None else REFUSED, "createdAt": iso(ctx.now),
        })
    order = {"glnReseller": reseller.gln, "orderId": req.order_id, "glnColl": coll.gln,
             "orderIdColl": req.order_id_coll, "glnContractor": req.gln_contractor, "glnDelivery": req.gln_delivery,
             "resellerCountry": req.reseller_country, "collCountry": req.coll_country, "createdAt": iso(ctx.now),
             "lineIds": [x["orderLineId"] for x in lines]}
    try:
        line_store.create_order(order, lines)
    except TransactionFailed as e:
        if 0 in e.failed:
            raise Refused(Reason.ORDER_EXISTS, gln_reseller=reseller.gln, order_id=req.order_id) from None
        raise
    _serve_holds(ctx, coll.gln, [(x["ean13"], x["orderLineId"]) for x in lines if x["status"] == Status.OK.value])
    return OrderResult(req.order_id, answers)


def _serve_holds(ctx: Ctx, gln_coll: str, lines: list[tuple[str, str]]) -> None:
    """New places of titles patrons wait for go to their queues (services.holds.pump). The order stands
    whatever happens here: a queue left waiting is served by the title's next return or order."""
    from ..observability import logger
    from . import holds

    for ean13 in sorted({ean for ean, _ in lines}):
        try:
            holds.pump(ctx, gln_coll, ean13, known=[lid for ean, lid in lines if ean == ean13])
        except Exception:
            logger.exception("holds not served after an order", extra={"ean13": ean13})


# --- cancelOrder ----------------------------------------------------------------------------------

class CancelOrder(Value):
    order_id: str
    order_line_ids: list[str] | None  # None: every line of the order
    gln_contractor: str | None

    def __init__(self, order_id: str, order_line_ids: list[str] | None = None,
                 gln_contractor: str | None = None) -> None:
        self._init(order_id, order_line_ids, gln_contractor)


class CancelledLine(Value):
    """A line cancelled (now or before), or why not (LINE_USED: a loan was made from it)."""

    order_line_id: str
    refusal: Refused | None

    def __init__(self, order_line_id: str, refusal: Refused | None = None) -> None:
        self._init(order_line_id, refusal)


def cancel_order(ctx: Ctx, reseller: Account, req: CancelOrder) -> list[CancelledLine]:
    auth.check_contractor(req.gln_contractor)
    order = line_store.get_order(reseller.gln, req.order_id)
    if order is None:
        raise Refused(Reason.ORDER_NOT_FOUND, gln_reseller=reseller.gln, order_id=req.order_id)
    ids = list(dict.fromkeys(req.order_line_ids or order["lineIds"]))
    for line_id in ids:
        if line_id not in order["lineIds"]:
            raise Refused(Reason.UNKNOWN_LINE, order_line_id=line_id)
    current = line_store.get_lines(ids)
    out = []
    for line_id in ids:
        item = current.get(line_id, {})
        refusal = None
        if item.get("status") != Status.CANCELLED:
            refused = line_store.cancel_line(line_id, iso(ctx.now), require_unused=item.get("status") == "OK")
            if refused is not None and refused.get("status") != Status.CANCELLED:
                refusal = Refused(Reason.LINE_USED, order_line_id=line_id)
        out.append(CancelledLine(line_id, refusal))
    return out


# --- checkAvailability ----------------------------------------------------------------------------

class PricedLine(Value):
    """A checkAvailability line, as the door decoded it."""

    ean13: str
    gln_distributor: str
    unit_price: int
    unit_price_ht: int
    currency: str

    def __init__(self, ean13: str, gln_distributor: str, unit_price: int, unit_price_ht: int, currency: str) -> None:
        self._init(ean13, gln_distributor, unit_price, unit_price_ht, currency)


class AskedLine(Value):
    sent: dict[str, Any]  # as sent: echoed, as far as it is plain and short
    line: PricedLine | Refused

    def __init__(self, sent: dict[str, Any], line: PricedLine | Refused) -> None:
        self._init(sent, line)


class CheckAvailability(Value):
    lines: list[AskedLine]
    gln_coll: str | None
    gln_contractor: str | None

    def __init__(self, lines: list[AskedLine], gln_coll: str | None = None, gln_contractor: str | None = None) -> None:
        self._init(lines, gln_coll, gln_contractor)


class Availability(Record):
    """A line's answer: available or not (`unavailable`: the offer's ONIX availability code, or
    domain.offers.REMOVED), a remark on an OK line (`note`), or the line's refusal."""

    ean13: str | None
    gln_distributor: str | None
    unit_price: int | None
    date: datetime
    available: bool
    unavailable: str | None
    note: Refused | None
    refusal: Refused | None

    def __init__(self, ean13: str | None, gln_distributor: str | None, unit_price: int | None, date: datetime,
                 available: bool = False, unavailable: str | None = None, note: Refused | None = None,
                 refusal: Refused | None = None) -> None:
        self._init(ean13, gln_distributor, unit_price, date, available, unavailable, note, refusal)


def check_availability(ctx: Ctx, reseller: Account, req: CheckAvailability) -> list[Availability]:
    coll = collectivity(req.gln_coll) if req.gln_coll else None
    auth.check_contractor(req.gln_contractor)
    pairs = [(str(x.sent.get("ean13", "")), str(x.sent.get("glnDistributor", ""))) for x in req.lines]
    offers = offer_store.get_many([p for p in dict.fromkeys(pairs) if all(x.isdigit() for x in p)])
    out = []
    for asked in req.lines:
        raw = asked.sent
        answer = Availability(ean13=_echo(raw, "ean13"), gln_distributor=_echo(raw, "glnDistributor"),
                              unit_price=_echo(raw, "unitPrice", int), date=ctx.now)
        try:
            if isinstance(asked.line, Refused):
                raise asked.line
            line = asked.line
            offer = _offer_for(reseller, coll, offers, line.ean13, line.gln_distributor)
            if offer is None:  # said, but the line is OK: the product is merely UNAVAILABLE
                answer.note = Refused(Reason.UNKNOWN_OFFER, ean13=line.ean13, gln_distributor=line.gln_distributor)
            else:
                answer.unit_price = offer.price_ttc
                why = offer.unavailability()
                if why is None:
                    check_price(offer, line.unit_price, line.unit_price_ht, line.currency)
                    answer.available = True
                else:
                    answer.unavailable = why
        except Refused as r:
            answer.refusal = r
        out.append(answer)
    return out
