"""Orders (sendOrder, cancelOrder, checkAvailability, getOrders): resellers buy licences for a
collectivity; each OK line becomes a licence with the offer's terms.

A line's refusal is not worded here: it travels as a `Refused` under "refusal" (the PNB door words it),
and a refused line is stored as REFUSED with its reason and parameters."""

from __future__ import annotations

import secrets
from typing import Any

from ..domain.accounts import Account, Role
from ..domain.codes import Status, rollup
from ..domain.dates import iso
from ..domain.identifiers import new_order_line_id
from ..domain.licences import Licence
from ..domain.offers import Offer, check_price
from ..domain.refusals import Reason, Refused
from ..store import licences as line_store
from ..store import offers as offer_store
from ..store.table import TransactionFailed
from ..validation import Request
from . import auth
from .context import Ctx


def collectivity(gln: str) -> Account:
    coll = auth.account(gln)
    if coll is None:
        raise Refused(Reason.UNKNOWN_COLLECTIVITY, gln=gln)
    if coll.role is not Role.COLLECTIVITY:
        raise Refused(Reason.NOT_A_COLLECTIVITY, gln=gln)
    return coll


def check_contractor(gln: str | None) -> None:
    if gln is None:
        return
    found = auth.account(gln)
    if found is None or found.role is not Role.CONTRACTOR:
        raise Refused(Reason.UNKNOWN_CONTRACTOR, gln=gln)


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


REFUSED = "REFUSED"  # a line refused when ordered; its reason and parameters are stored with it
Line = Request | Refused  # a request line as the door decoded it, or why it could not


def line_refusal(item: dict[str, Any]) -> Refused | None:
    """Why a stored line was refused when ordered (None for OK / CANCELLED lines and older records,
    whose status and message were stored worded)."""
    if item.get("status") != REFUSED or "reason" not in item:
        return None
    return Refused(Reason(item["reason"]), **item.get("params", {}))


def _echo(raw: dict[str, Any], key: str, kind: type = str) -> Any:
    """A field of a request line as sent, when it is a plain short value of the expected kind."""
    value = raw.get(key)
    if kind is int:
        return value if isinstance(value, int) and not isinstance(value, bool) and abs(value) < 10**12 else None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value if isinstance(value, str) and 0 < len(value) <= 64 else None


def send_order(ctx: Ctx, reseller: Account, req: Request, decoded: list[Line]) -> dict[str, Any]:
    coll = collectivity(req.glnColl)
    check_contractor(req.glnContractor)
    if req.glnDelivery is not None and auth.account(req.glnDelivery) is None:
        raise Refused(Reason.UNKNOWN_DELIVERY, gln=req.glnDelivery)
    pairs = [(str(r.get("ean13", "")), str(r.get("glnDistributor", ""))) for r in req.orderRequestLine]
    offers = offer_store.get_many([p for p in dict.fromkeys(pairs) if all(x.isdigit() for x in p)])
    now_ms = int(ctx.now.timestamp() * 1000)
    seen: set[tuple[str, str]] = set()
    answers: list[dict[str, Any]] = []
    lines: list[dict[str, Any]] = []
    for raw, decoded_line in zip(req.orderRequestLine, decoded, strict=True):
        line_id = new_order_line_id(now_ms)
        # A line in error echoes what it was sent, as far as it is plain and short (never garbage).
        answer: dict[str, Any] = {
            "ean13": _echo(raw, "ean13"), "glnDistributor": _echo(raw, "glnDistributor"), "orderLineId": line_id,
            "lineReference": _echo(raw, "lineReference"),
            "quantity": _echo(raw, "quantity", int) if "quantity" in raw else 1,  # absent: the default, 1
            "unitPrice": _echo(raw, "unitPrice", int), "currency": _echo(raw, "currency"),
        }
        stored: dict[str, Any] = {}
        try:
            if isinstance(decoded_line, Refused):
                raise decoded_line
            line = decoded_line
            if line.quantity != 1:
                raise Refused(Reason.QUANTITY_NOT_ONE)
            pair = (line.ean13, line.glnDistributor)
            if pair in seen:
                raise Refused(Reason.DUPLICATED_LINE, ean13=line.ean13, gln_distributor=line.glnDistributor)
            seen.add(pair)
            offer = _offer_for(reseller, coll, offers, *pair)
            if offer is None:
                raise Refused(Reason.UNKNOWN_OFFER, ean13=line.ean13, gln_distributor=line.glnDistributor)
            answer["unitPrice"] = offer.price_ttc
            if not offer.available:
                raise Refused(Reason.CANNOT_BE_SOLD)
            check_price(offer, line.unitPrice, line.unitPriceExcludingTax, line.currency)
            licence = Licence.new(order_line_id=line_id, gln_coll=coll.gln, gln_reseller=reseller.gln,
                                  order_id=req.orderId, ean13=line.ean13, gln_distributor=line.glnDistributor,
                                  terms=offer.terms, dmd_date=line.dmdDate, lending_token=secrets.token_urlsafe(24))
            stored = line_store.licence_fields(licence)
            answer["returnStatus"] = Status.OK.value
            stored["dmdDate"] = iso(line.dmdDate)
            stored["unitPriceExcludingTax"] = line.unitPriceExcludingTax
            stored["taxRate"] = line.taxRate
            stored["lineReferenceColl"] = line.lineReferenceColl
        except Refused as r:
            answer["refusal"] = r
            stored = {"reason": r.reason.value, "params": r.params}
        status = Status.OK.value if "refusal" not in answer else REFUSED
        answers.append({k: v for k, v in answer.items() if v is not None})
        lines.append({
            **stored, "orderLineId": line_id, "glnColl": coll.gln, "glnReseller": reseller.gln,
            "orderId": req.orderId, "orderIdColl": req.orderIdColl, "ean13": answer.get("ean13") or "",
            "glnDistributor": answer.get("glnDistributor") or "", "lineReference": answer.get("lineReference"),
            "quantity": answer["quantity"], "unitPrice": answer.get("unitPrice"), "currency": answer.get("currency"),
            "status": status, "createdAt": iso(ctx.now),
        })
    order = {"glnReseller": reseller.gln, "orderId": req.orderId, "glnColl": coll.gln,
             "orderIdColl": req.orderIdColl, "glnContractor": req.glnContractor, "glnDelivery": req.glnDelivery,
             "resellerCountry": req.resellerCountry, "collCountry": req.collCountry, "createdAt": iso(ctx.now),
             "lineIds": [x["orderLineId"] for x in lines], "gsi1pk": f"COLL#{coll.gln}",
             "gsi1sk": f"{iso(ctx.now)}#{reseller.gln}#{req.orderId}"}
    try:
        line_store.create_order(order, lines)
    except TransactionFailed as e:
        if 0 in e.failed:
            raise Refused(Reason.ORDER_EXISTS, gln_reseller=reseller.gln, order_id=req.orderId) from None
        raise
    _serve_holds(ctx, coll.gln, [(x["ean13"], x["orderLineId"]) for x in lines if x["status"] == Status.OK.value])
    status, message = rollup("sendOrder", [a.get("returnStatus", REFUSED) for a in answers])
    return {"orderId": req.orderId, "orderResponseLine": answers, "returnStatus": status.value,
            "returnMessage": message}


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


def cancel_order(ctx: Ctx, reseller: Account, req: Request) -> dict[str, Any]:
    check_contractor(req.glnContractor)
    order = line_store.get_order(reseller.gln, req.orderId)
    if order is None:
        raise Refused(Reason.ORDER_NOT_FOUND, gln_reseller=reseller.gln, order_id=req.orderId)
    ids = list(dict.fromkeys(req.orderLineId or order["lineIds"]))
    for line_id in ids:
        if line_id not in order["lineIds"]:
            raise Refused(Reason.UNKNOWN_LINE, order_line_id=line_id)
    current = line_store.get_lines(ids)
    out = []
    for line_id in ids:
        item = current.get(line_id, {})
        status, message = Status.CANCELLED.value, None
        if item.get("status") != Status.CANCELLED:
            refused = line_store.cancel_line(line_id, iso(ctx.now), require_unused=item.get("status") == "OK")
            if refused is not None and refused.get("status") != Status.CANCELLED:
                status = Status.ACCES_DENIED.value
                message = f"The orderLineId {line_id} has already been used and cannot be cancelled"
        out.append({"orderLineId": line_id, "returnStatus": status, "returnMessage": message})
    bad = [x for x in out if x["returnStatus"] != Status.CANCELLED]
    if not bad:
        return {"cancelResponseLine": out, "returnStatus": Status.OK.value}
    word = "All" if len(bad) == len(out) else "Some"
    return {"cancelResponseLine": out, "returnStatus": Status.WARNING.value,
            "returnMessage": f"{word} cancelOrder lines are returned with error"}


def check_availability(ctx: Ctx, reseller: Account, req: Request, decoded: list[Line]) -> dict[str, Any]:
    coll = collectivity(req.glnColl) if req.glnColl else None
    check_contractor(req.glnContractor or req.glnContrator)
    pairs = [(str(r.get("ean13", "")), str(r.get("glnDistributor", ""))) for r in req.checkAvailabilityLine]
    offers = offer_store.get_many([p for p in dict.fromkeys(pairs) if all(x.isdigit() for x in p)])
    out = []
    for raw, decoded_line in zip(req.checkAvailabilityLine, decoded, strict=True):
        answer: dict[str, Any] = {"ean13": _echo(raw, "ean13"), "glnDistributor": _echo(raw, "glnDistributor"),
                                  "unitPrice": _echo(raw, "unitPrice", int), "Date": iso(ctx.now),
                                  "checkAvailabilityReturnValue": "UNAVAILABLE", "returnStatus": "OK"}
        try:
            if isinstance(decoded_line, Refused):
                raise decoded_line
            line = decoded_line
            offer = _offer_for(reseller, coll, offers, line.ean13, line.glnDistributor)
            if offer is None:  # said, but the line is OK: the product is merely UNAVAILABLE
                answer["note"] = Refused(Reason.UNKNOWN_OFFER, ean13=line.ean13, gln_distributor=line.glnDistributor)
            else:
                answer["unitPrice"] = offer.price_ttc
                why = offer.unavailable_message()
                if why is None:
                    check_price(offer, line.unitPrice, line.unitPriceExcludingTax, line.currency)
                    answer["checkAvailabilityReturnValue"] = "AVAILABLE"
                else:
                    answer["returnMessage"] = why
        except Refused as r:
            del answer["returnStatus"]
            answer["refusal"] = r
        out.append({k: v for k, v in answer.items() if v is not None})
    status, message = rollup("checkAvailability", [a.get("returnStatus", REFUSED) for a in out])
    return {"checkAvailabilityResponseLine": out, "returnStatus": status.value, "returnMessage": message}


def line_status(item: dict[str, Any]) -> dict[str, Any]:
    """A stored line's status as getOrders and getLoanStatus show it: its refusal, or its state."""
    refusal = line_refusal(item)
    if refusal is not None:
        return {"refusal": refusal}
    return {"returnStatus": item["status"], "returnMessage": item.get("message")}


def licence_state(licence: Licence, ctx: Ctx) -> dict[str, Any]:
    """The counters and dates of a licence as getOrders and getLoanStatus show them."""
    end_offer = licence.end_offer_date(ctx.now)
    return {
        "beginDate": iso(licence.begin_date) if licence.begin_date else None,
        "endDate": iso(licence.end_date),
        "endOfferDate": iso(end_offer) if end_offer else None,
        "NUS1": licence.nus1(ctx.now),
        "NUS2": licence.nus2(ctx.now),
        "NTA": licence.nta,
    }


def loan_url(ctx: Ctx, item: dict[str, Any]) -> str | None:
    token = item.get("lendingToken")
    if not token or item.get("status") != "OK":
        return None
    return f"{ctx.base_url}/warehouse/licences/{item['orderLineId']}/{token}/loans"


# getOrders answers at most this many lines: 4,950 licence lines make a SOAP answer of 3.1 MB (JSON 2.1 MB),
# inside Lambda's 6 MB answer limit with its JSON escaping (tests/integration/test_orders_bounded.py).
MAX_ANSWER_LINES = 5000


def get_orders(ctx: Ctx, coll: Account, req: Request) -> dict[str, Any]:
    check_contractor(req.glnContractor)
    if req.sinceDate is None and req.orderIdColl is None:
        raise Refused(Reason.MISSING_SINCE_OR_ORDER_ID)
    orders, rest_from = line_store.orders_page(coll.gln, iso(req.sinceDate) if req.sinceDate else None,
                                          req.orderIdColl, MAX_ANSWER_LINES)
    lines = line_store.get_lines([i for o in orders for i in o["lineIds"]])
    out = []
    for order in orders:
        for line_id in order["lineIds"]:
            item = lines.get(line_id)
            if item is None:
                continue
            ok = item["status"] == Status.OK
            if not ok and not req.returnLinesWithError:
                continue
            line: dict[str, Any] = {"orderLineId": line_id, "ean13": item["ean13"], "quantity": item.get("quantity", 1)}
            if line_store.is_licence(item):
                line.update(licence_state(line_store.licence(item), ctx))
            line.update(line_status(item), loanUrl=loan_url(ctx, item))
            out.append({"orderIdColl": order["orderIdColl"], "lineReferenceColl": item.get("lineReferenceColl"),
                        "orderLine": [{k: v for k, v in line.items() if v is not None}], **line_status(item)})
    # Cut short (docs/pnb-json.md, getOrders): `date` is then the creation time of the first order left out;
    # passed back as sinceDate it answers the rest (an order of that same second may come twice, none is lost).
    date = rest_from or iso(ctx.now)
    answer: dict[str, Any] = {"date": date, "getOrderResponseLine": out, "returnStatus": Status.OK.value}
    if not out:
        answer["noOrder"] = ""
    return answer
