"""The PNB operations (the spec's twelve, then returnLoan, extendLoan, getUserAgent): who may call, which
model validates, which use case answers.

Both doors (JSON and SOAP) call `run(name, body, ctx)` and only encode what it returns."""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..domain.accounts import Account, Role
from ..domain.codes import Status
from ..domain.dates import iso
from ..domain.refusals import Reason, Refused
from ..observability import count
from ..services import auth
from ..services.context import Ctx
from ..validation import Invalid, Request, Schema
from ..web import BadText
from . import requests as rq
from .refusals import INTERNAL_ERROR, UNAVAILABLE, rollup
from .refusals import fields as refusal_fields

if TYPE_CHECKING:
    from ..catalogue import updates
    from ..domain.loans import Loan
    from ..services import order_status, orders

PROTECTION = "NONE"  # the DRM of a plain loan's link (an LCP one answers lcp.PROTECTION)
# Older or client-specific names of the spec's parameters: callBackUrl (Dilicom's REST page), glnLoaner (PMB).
ALIASES = {"callBackUrl": "callbackUrl", "glnLoaner": "loanerColl"}
CONTRACTOR_FIELDS = ("glnContractor", "glnContrator")
COLL = (Role.COLLECTIVITY,)


@dataclass(frozen=True)
class Operation:
    """Each operation imports its own use cases when first called (a function of the JSON door serves one
    operation: it loads that one's alone; SOAP's loads each at its first call); `uses` names them, so
    `prepare` loads them at init where a function serves one operation (cold start: docs/cost.md)."""

    schema: Schema
    roles: tuple[Role, ...]
    credentials: tuple[str, str]  # the GLN and password fields
    call: Callable[[Ctx, Account, Any], dict[str, Any]]
    uses: tuple[str, ...] = ()  # the modules of `lending` the call imports


def _loaner(coll: Account, loaner: str | None) -> None:
    if loaner is not None and not coll.lends_for(loaner):
        raise Refused(Reason.NOT_A_LIBRARY_OF, loaner=loaner, gln_coll=coll.gln)


def _loan(ctx: Ctx, coll: Account, req: Request, end_field: str) -> dict[str, Any]:
    from ..domain.licences import AccessMedium, Localization, pool_for
    from ..domain.loans import LCP_LICENCE_TYPE, LCP_PROTECTION, fingerprint
    from ..services import lending

    auth.check_contractor(req.glnContractor)
    _loaner(coll, req.loanerColl)
    requested_end = getattr(req, end_field)
    localization = Localization(req.localization)
    lending.check_in_situ(coll, localization, req.ipAddress)
    if end_field == "consultEndDate" and not req.ipAddress:
        # Mandatory for consultBook (spec); absent with IN_SITU it is the ACCES_DENIED just above.
        raise Refused(Reason.IP_MANDATORY)
    pool = pool_for(AccessMedium(req.accessMedium), localization)
    # "Identical" is every parameter (CONTRACT 3: the same loanId with other parameters is DUPLICATED),
    # the spec's list and the optional ones: a first answer is never replayed to a request that asked for
    # another callback, library or address. Absent and empty are the same (SOAP and JSON alike).
    fp = fingerprint(end_field, coll.gln, req.orderLineId, req.loanId, req.ean13, req.accessMedium,
                     req.localization, iso(requested_end), req.callbackUrl or "", req.loanerColl or "",
                     req.ipAddress or "", req.glnContractor or "")
    # DRMinfo and userInfo are kept with the loan (the DRM, the statistics) but are not part of "identical":
    # PMB draws userInfo.year anew on every call, so its retry of the same loan would never be identical.
    # The LCP passphrase (DRMinfo.readerPass) only derives the licence's user key: never stored.
    drm = req.DRMinfo or {}
    kept_drm = {k: v for k, v in drm.items() if k != "readerPass"}
    extra: dict[str, Any] = {"loanerColl": req.loanerColl, "drm": kept_drm or None, "reader": req.userInfo or None,
                             "drmId": _user_agent_drm(drm.get("userAgent"))}
    extra = {k: v for k, v in extra.items() if v}
    passphrase = None
    if drm.get("readerPass") is not None:  # LCP's code (and its crypto) only loaded when a loan asks for it
        from ..services import lcp

        passphrase = lcp.Passphrase.of(drm.get("readerPass"), drm.get("readerHint"))
        if passphrase is None:  # asked for protection: never a silent plain loan
            raise Refused(Reason.INVALID_PARAMETER, detail="The parameter DRMinfo.readerPass is invalid")
        if lcp.is_protected(req.ean13):
            extra["protection"] = LCP_PROTECTION

    request = lending.LoanRequest(coll=coll, order_line_id=req.orderLineId, loan_id=req.loanId, ean13=req.ean13,
                                  pool=pool, requested_end=requested_end, fingerprint=fp,
                                  callback_url=req.callbackUrl, extra=extra)
    loan, _ = lending.lend(ctx, request)  # a replay is answered as the first time: rendered from the loan
    protected = loan.extra.get("protection") == LCP_PROTECTION
    if passphrase is not None and protected:
        from ..services import lcp

        lcp.issue(ctx, loan, passphrase)  # once per loan: a replay finds it (or issues it, after a crash)
    link = {"url": fulfillment_url(ctx, loan), "format": "EPUB", "formatDescription": "epub",
            "ean13": loan.ean13, "mimeType": LCP_LICENCE_TYPE if protected else "application/epub+zip"}
    if protected:  # the link answers the loan's LCP licence
        link["protection"] = LCP_PROTECTION
    return {"orderLineId": loan.order_line_id, "loanId": loan.loan_id, end_field: iso(loan.end_date),
            "link": link, "protection": LCP_PROTECTION if protected else PROTECTION,
            "returnStatus": Status.OK.value}


def _user_agent_drm(user_agent: str | None) -> str | None:
    """DRMinfo.userAgent against getUserAgent's list: a listed id gives the loan its DRM (kept with it); an
    unknown one is accepted and kept as sent (a library system may cache an older list), and counted."""
    if not user_agent:
        return None
    from ..domain import user_agents

    drm = user_agents.drm_of(user_agent)
    if drm is None:
        count("pnb.loan.unknownUserAgent")
        return None
    return drm.id


def _line(schema: Schema, raw: Any) -> Request | Refused:
    """A request line through the contract: the line, or its own refusal (the others still go on)."""
    try:
        return schema.validate(raw)
    except Invalid as e:
        return Refused(Reason.INVALID_PARAMETER, detail=e.message)


def _order_line(raw: Any) -> orders.OrderLine | Refused:
    from ..services import orders

    x = _line(rq.ORDER_REQUEST_LINE, raw)
    if isinstance(x, Refused):
        return x
    return orders.OrderLine(ean13=x.ean13, gln_distributor=x.glnDistributor, unit_price=x.unitPrice,
                            unit_price_ht=x.unitPriceExcludingTax, currency=x.currency, dmd_date=x.dmdDate,
                            quantity=x.quantity, tax_rate=x.taxRate, line_reference_coll=x.lineReferenceColl)


def _priced_line(raw: Any) -> orders.PricedLine | Refused:
    from ..services import orders

    x = _line(rq.CHECK_AVAILABILITY_LINE, raw)
    if isinstance(x, Refused):
        return x
    return orders.PricedLine(ean13=x.ean13, gln_distributor=x.glnDistributor, unit_price=x.unitPrice,
                             unit_price_ht=x.unitPriceExcludingTax, currency=x.currency)


LINE_REFUSED = "REFUSED"  # a line's refusal, as the rollup counts it (any status but OK)


def send_order(ctx: Ctx, reseller: Account, req: Request) -> dict[str, Any]:
    from ..services import orders

    order = orders.SendOrder(
        gln_coll=req.glnColl, order_id=req.orderId, order_id_coll=req.orderIdColl,
        reseller_country=req.resellerCountry, coll_country=req.collCountry, gln_contractor=req.glnContractor,
        gln_delivery=req.glnDelivery, lines=[orders.SentLine(raw, _order_line(raw)) for raw in req.orderRequestLine])
    answers = []
    for x in orders.send_order(ctx, reseller, order).lines:
        answer: dict[str, Any] = {"ean13": x.ean13, "glnDistributor": x.gln_distributor, "orderLineId": x.order_line_id,
                                  "lineReference": x.line_reference, "quantity": x.quantity,
                                  "unitPrice": x.unit_price, "currency": x.currency}
        if x.refusal is None:
            answer["returnStatus"] = Status.OK.value
        else:
            answer["refusal"] = x.refusal
        answers.append(answer)
    status, message = rollup("sendOrder", [a.get("returnStatus", LINE_REFUSED) for a in answers])
    return {"orderId": req.orderId, "orderResponseLine": answers, "returnStatus": status.value,
            "returnMessage": message}


def cancel_order(ctx: Ctx, reseller: Account, req: Request) -> dict[str, Any]:
    from ..services import orders

    cancel = orders.CancelOrder(req.orderId, list(req.orderLineId) if req.orderLineId else None, req.glnContractor)
    lines = orders.cancel_order(ctx, reseller, cancel)
    out = [{"orderLineId": x.order_line_id, "returnStatus": Status.CANCELLED.value} if x.refusal is None
           else {"orderLineId": x.order_line_id, "refusal": x.refusal} for x in lines]
    status, message = rollup("cancelOrder", [Status.OK if x.refusal is None else LINE_REFUSED for x in lines])
    return {"cancelResponseLine": out, "returnStatus": status.value, "returnMessage": message}


def check_availability(ctx: Ctx, reseller: Account, req: Request) -> dict[str, Any]:
    from ..services import orders

    check = orders.CheckAvailability(
        lines=[orders.AskedLine(raw, _priced_line(raw)) for raw in req.checkAvailabilityLine],
        gln_coll=req.glnColl, gln_contractor=req.glnContractor or req.glnContrator)
    out = []
    for x in orders.check_availability(ctx, reseller, check):
        line: dict[str, Any] = {"ean13": x.ean13, "glnDistributor": x.gln_distributor, "unitPrice": x.unit_price,
                                "Date": iso(x.date),
                                "checkAvailabilityReturnValue": "AVAILABLE" if x.available else "UNAVAILABLE"}
        if x.refusal is not None:
            line["refusal"] = x.refusal
        else:
            line["returnStatus"] = Status.OK.value
            line["note"] = x.note
            line["returnMessage"] = UNAVAILABLE[x.unavailable] if x.unavailable else None
        out.append(line)
    status, message = rollup("checkAvailability", [a.get("returnStatus", LINE_REFUSED) for a in out])
    return {"checkAvailabilityResponseLine": out, "returnStatus": status.value, "returnMessage": message}


def _offer_updates(req: Request) -> updates.OfferUpdates:
    from ..catalogue import updates

    return updates.OfferUpdates(req.sinceDate, req.lastConnection is not None, req.get("glnDistributor"),
                                req.glnContractor)


def _offer_files(links: list[str]) -> dict[str, Any]:
    if not links:
        return {"noNotice": "", "returnStatus": Status.OK.value}
    return {"onixFileUrl": [{"httpLinks": u} for u in links], "returnStatus": Status.OK.value}


def get_offers(ctx: Ctx, caller: Account, req: Request) -> dict[str, Any]:
    from ..catalogue import updates

    return _offer_files(updates.get_offers(ctx, caller, _offer_updates(req)))


def get_offers_for_distributor(ctx: Ctx, caller: Account, req: Request) -> dict[str, Any]:
    from ..catalogue import updates

    return _offer_files(updates.get_offers_for_distributor(ctx, caller, _offer_updates(req)))


def _licence_state(state: order_status.LicenceState) -> dict[str, Any]:
    return {"beginDate": iso(state.begin_date) if state.begin_date else None, "endDate": iso(state.end_date),
            "endOfferDate": iso(state.end_offer_date) if state.end_offer_date else None,
            "NUS1": state.nus1, "NUS2": state.nus2, "NTA": state.nta}


def _line_state(state: order_status.LineState) -> dict[str, Any]:
    if state.refusal is not None:
        return {"refusal": state.refusal}
    return {"returnStatus": state.status, "returnMessage": state.message}


def get_orders(ctx: Ctx, coll: Account, req: Request) -> dict[str, Any]:
    from ..services import order_status

    ask = order_status.GetOrders(req.sinceDate, req.orderIdColl, req.returnLinesWithError, req.glnContractor)
    found = order_status.get_orders(ctx, coll, ask)
    out = []
    for x in found.lines:
        line: dict[str, Any] = {"orderLineId": x.order_line_id, "ean13": x.ean13, "quantity": x.quantity}
        if x.licence is not None:
            line.update(_licence_state(x.licence))
        line.update(_line_state(x.state), loanUrl=x.loan_url)
        out.append({"orderIdColl": x.order_id_coll, "lineReferenceColl": x.line_reference_coll,
                    "orderLine": [{k: v for k, v in line.items() if v is not None}], **_line_state(x.state)})
    answer: dict[str, Any] = {"date": found.date, "getOrderResponseLine": out, "returnStatus": Status.OK.value}
    if not out:
        answer["noOrder"] = ""
    return answer


def fulfillment_url(ctx: Ctx, loan: Loan) -> str:
    from ..services.links import sign_loan_link

    return sign_loan_link(ctx.base_url, loan.gln_coll, loan.loan_id, loan.created_at, follows_loan=True)


def loan_book(ctx: Ctx, coll: Account, req: Request) -> dict[str, Any]:
    return _loan(ctx, coll, req, "loanEndDate")


def consult_book(ctx: Ctx, coll: Account, req: Request) -> dict[str, Any]:
    return _loan(ctx, coll, req, "consultEndDate")


def declare_ip(ctx: Ctx, coll: Account, req: Request) -> dict[str, Any]:
    from ..services import ips

    auth.check_contractor(req.glnContractor)
    declared = ips.declare(coll, ips.DeclareIps(list(req.ips)))
    if declared.already:
        warning = f"Warn : {' '.join(declared.already)} already declared."
        return {"returnStatus": Status.OK.value, "returnMessage": warning}
    return {"returnStatus": Status.OK.value}


def get_loan_status(ctx: Ctx, coll: Account, req: Request) -> dict[str, Any]:
    from ..services import order_status

    ask = order_status.LoanStatus(list(req.orderLineId), bool(req.returnEndedLoan), req.glnContractor)
    out = []
    for x in order_status.loan_status(ctx, coll, ask):
        line: dict[str, Any] = {"orderLineId": x.order_line_id}
        if x.refusal is not None:
            line.update(refusal_fields(x.refusal))
        else:
            if x.licence is not None:
                line.update(_licence_state(x.licence))
            if x.ended is not None:  # PMB's sync closes these on its side (it reads loanId, endLoanDate)
                line["pnbLoanList"] = [{"loanId": e.loan_id, "endLoanDate": iso(e.returned_at or e.created_at)}
                                       for e in x.ended]
            assert x.state is not None
            line.update(refusal_fields(x.state.refusal) if x.state.refusal is not None else _line_state(x.state))
        out.append({k: v for k, v in line.items() if v is not None})
    status, message = _rollup(out)
    return {"date": iso(ctx.now), "loanResponseLine": out, "returnStatus": status, "returnMessage": message}


def _rollup(lines: list[dict[str, Any]]) -> tuple[str, str | None]:
    status, message = rollup("getLoanStatus", [x["returnStatus"] for x in lines])
    return status.value, message


def get_ended_loans(ctx: Ctx, coll: Account, req: Request) -> dict[str, Any]:
    from ..services import lending

    auth.check_contractor(req.glnContractor)
    found = lending.ended_loans(ctx, coll, lending.EndedLoans(req.date, list(req.loanId or [])))
    lines = [{"orderLineId": x.order_line_id, "loanId": x.loan_id, "ean13": x.ean13,
              "returnDate": iso(x.returned_at or x.created_at)} for x in found]
    answer: dict[str, Any] = {"loanEndedResponseLine": lines, "returnStatus": Status.OK.value}
    if not lines:
        answer["returnMessage"] = f"No ended loans founds for coll : {coll.gln}"
    return answer


def end_loan(ctx: Ctx, distributor: Account, req: Request) -> dict[str, Any]:
    from ..services import lending

    lending.end_loan(ctx, distributor, lending.EndLoan(req.orderLineId, req.loanId, req.date))
    return {"returnStatus": Status.OK.value}


def return_loan(ctx: Ctx, coll: Account, req: Request) -> dict[str, Any]:
    from ..services import collectivity_loans

    auth.check_contractor(req.glnContractor)  # the caller's own GLN: dropped by tolerant()
    collectivity_loans.return_loan(ctx, coll, req.orderLineId, req.loanId)
    return {"returnStatus": Status.OK.value}


def extend_loan(ctx: Ctx, coll: Account, req: Request) -> dict[str, Any]:
    from ..services import collectivity_loans

    auth.check_contractor(req.glnContractor)  # the caller's own GLN: dropped by tolerant()
    loan = collectivity_loans.extend(ctx, coll, req.orderLineId, req.loanId, req.date)
    return {"orderLineId": loan.order_line_id, "loanId": loan.loan_id, "loanEndDate": iso(loan.end_date),
            "returnStatus": Status.OK.value}


def get_user_agent(ctx: Ctx, account: Account, req: Request) -> dict[str, Any]:
    from ..domain import user_agents

    auth.check_contractor(req.glnContractor)
    return {"listUserAgent": user_agents.listing(), "returnStatus": Status.OK.value}


RESELLER = ("glnReseller", "passwordReseller")
LOGIN = ("login", "password")  # the later services' credentials, as PMB sends them
COLLECTIVITY = ("glnColl", "passwordColl")
LOANS = ("domain.licences", "domain.loans", "domain.user_agents", "services.lending", "services.links")
ORDERS = ("services.orders",)
ORDER_STATUS = ("services.order_status",)
OFFERS = ("catalogue.updates",)
ENDED = ("services.lending",)
OWN_LOANS = ("services.collectivity_loans",)
OPERATIONS: dict[str, Operation] = {
    "sendOrder": Operation(rq.SEND_ORDER, (Role.RESELLER,), RESELLER, send_order, ORDERS),
    "cancelOrder": Operation(rq.CANCEL_ORDER, (Role.RESELLER,), RESELLER, cancel_order, ORDERS),
    "checkAvailability": Operation(rq.CHECK_AVAILABILITY, (Role.RESELLER,), RESELLER, check_availability, ORDERS),
    "getOffers": Operation(rq.GET_OFFERS, (Role.RESELLER, Role.COLLECTIVITY), RESELLER,
                           get_offers, OFFERS),
    "getOffersForDistributor": Operation(rq.GET_OFFERS_FOR_DISTRIBUTOR, (Role.RESELLER, Role.COLLECTIVITY), RESELLER,
                                         get_offers_for_distributor, OFFERS),
    "getOrders": Operation(rq.GET_ORDERS, COLL, COLLECTIVITY, get_orders, ORDER_STATUS),
    "declareIp": Operation(rq.DECLARE_IP, COLL, COLLECTIVITY, declare_ip, ("services.ips",)),
    "loanBook": Operation(rq.LOAN_BOOK, COLL, COLLECTIVITY, loan_book, LOANS),
    "consultBook": Operation(rq.CONSULT_BOOK, COLL, COLLECTIVITY, consult_book, LOANS),
    "getLoanStatus": Operation(rq.GET_LOAN_STATUS, COLL, COLLECTIVITY, get_loan_status, ORDER_STATUS),
    "getEndedLoans": Operation(rq.GET_ENDED_LOANS, COLL, COLLECTIVITY, get_ended_loans, ENDED),
    "endLoan": Operation(rq.END_LOAN, (Role.DISTRIBUTOR,), ("glnDistributor", "passwordDistributor"), end_loan,
                         ENDED),
    "returnLoan": Operation(rq.RETURN_LOAN, COLL, LOGIN, return_loan, OWN_LOANS),
    "extendLoan": Operation(rq.EXTEND_LOAN, COLL, LOGIN, extend_loan, OWN_LOANS),
    "getUserAgent": Operation(rq.GET_USER_AGENT, (Role.COLLECTIVITY, Role.RESELLER), LOGIN, get_user_agent,
                              ("domain.user_agents",)),
}


def prepare(name: str) -> None:
    """What a function serving this operation alone loads at init rather than at its first request: the
    use cases the operation imports and its schema's validator."""
    op = OPERATIONS[name]
    for module in op.uses:
        importlib.import_module(f"lending.{module}")
    op.schema.prepare()


def new_request_id() -> str:
    return uuid.uuid4().hex


def refuse_text(name: str, bad: BadText) -> tuple[int, dict[str, Any]]:
    """A parameter that is not valid text (web.check_text, before anything else): INVALID_ARGUMENTS naming
    it, or a malformed credential's AUTHENTICATION_ERROR (CONTRACT 3, as for any malformed credential)."""
    op = OPERATIONS.get(name)
    bad_credential = op is not None and bad.field in op.credentials
    answer = refusal_fields(Refused(Reason.BAD_CREDENTIALS) if bad_credential
                            else Refused(Reason.INVALID_PARAMETER, detail=str(bad)))
    count(f"pnb.{name if op else 'unknown'}.{answer['returnStatus']}")
    return 200, {"requestId": new_request_id(), **answer}


def run(name: str, body: dict[str, Any], ctx: Ctx) -> tuple[int, dict[str, Any]]:
    """Authenticate, validate, call. Returns (HTTP status, answer); the answer always has a requestId
    and a returnStatus, and None fields are dropped."""
    request_id = new_request_id()
    op = OPERATIONS.get(name)
    http = 200
    try:
        if op is None:
            raise Refused(Reason.UNKNOWN_OPERATION, service=name)
        account = auth.authenticate(body.get(op.credentials[0]), body.get(op.credentials[1]), op.roles,
                                    now=ctx.now, source=ctx.source_ip)
        body = tolerant(body, account)
        try:
            req = op.schema.validate(body)
        except Invalid as e:
            raise Refused(Reason.INVALID_PARAMETER, detail=e.message) from None
        answer = op.call(ctx, account, req)
    except Refused as r:
        answer = refusal_fields(r)
    except Exception:
        from ..observability import logger

        logger.exception("pnb operation failed", extra={"operation": name, "requestId": request_id})
        http, answer = 500, {"returnStatus": Status.ERROR.value, "returnMessage": INTERNAL_ERROR}
    count(f"pnb.{name if op else 'unknown'}.{answer['returnStatus']}")
    return http, {"requestId": request_id, **_drop_none(answer)}


def tolerant(body: dict[str, Any], caller: Account) -> dict[str, Any]:
    """What real clients send, read as the spec means it: the older parameter names, and a contractor equal
    to the caller itself (PMB always sends its own GLN) as no contractor."""
    out = dict(body)
    for old, name in ALIASES.items():
        if old in out and out.get(name) is None:
            out[name] = out.pop(old)
    for name in CONTRACTOR_FIELDS:
        if out.get(name) == caller.gln:
            del out[name]
    return out


def _drop_none(value: Any) -> Any:
    """Optional fields the spec marks absent are left out, at every depth; the refusals a use case
    leaves in its answer are worded here, in place: "refusal" as returnStatus and returnMessage, a
    "note" (an OK line with a remark) as returnMessage alone."""
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            if isinstance(v, Refused) and k == "refusal":
                out.update(refusal_fields(v))
            elif isinstance(v, Refused):
                out["returnMessage"] = refusal_fields(v)["returnMessage"]
            elif v is not None:
                out[k] = _drop_none(v)
        return out
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value
