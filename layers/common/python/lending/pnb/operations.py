"""The PNB operations (the spec's twelve, then returnLoan, extendLoan, getUserAgent): who may call, which
model validates, which use case answers.

Both doors (JSON and SOAP) call `run(name, body, ctx)` and only encode what it returns."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..catalogue import updates
from ..domain import user_agents
from ..domain.accounts import Account, Role
from ..domain.codes import Status
from ..domain.dates import iso
from ..domain.licences import AccessMedium, Localization, pool_for
from ..domain.loans import LCP_LICENCE_TYPE, LCP_PROTECTION, Loan, fingerprint
from ..domain.refusals import Reason, Refused
from ..observability import count
from ..services import auth, collectivity_loans, ips, lending, orders
from ..services.context import Ctx
from ..validation import Invalid, Request, Schema
from ..web import BadText
from . import requests as rq
from .refusals import INTERNAL_ERROR
from .refusals import fields as refusal_fields

ENDED_LOANS_DAYS = lending.ENDED_LOANS_DAYS
PROTECTION = "NONE"  # the DRM of a plain loan's link (an LCP one answers lcp.PROTECTION)
# Older or client-specific names of the spec's parameters: callBackUrl (Dilicom's REST page), glnLoaner (PMB).
ALIASES = {"callBackUrl": "callbackUrl", "glnLoaner": "loanerColl"}
CONTRACTOR_FIELDS = ("glnContractor", "glnContrator")
COLL = (Role.COLLECTIVITY,)


@dataclass(frozen=True)
class Operation:
    schema: Schema
    roles: tuple[Role, ...]
    credentials: tuple[str, str]  # the GLN and password fields
    call: Callable[[Ctx, Account, Any], dict[str, Any]]


def _loaner(coll: Account, loaner: str | None) -> None:
    if loaner is not None and not coll.lends_for(loaner):
        raise Refused(Reason.NOT_A_LIBRARY_OF, loaner=loaner, gln_coll=coll.gln)


def _loan(ctx: Ctx, coll: Account, req: Request, end_field: str) -> dict[str, Any]:
    orders.check_contractor(req.glnContractor)
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
    drm = user_agents.drm_of(user_agent)
    if drm is None:
        count("pnb.loan.unknownUserAgent")
        return None
    return drm.id


def _lines(schema: Schema, raws: list[Any]) -> list[orders.Line]:
    """Each request line through the contract: the line, or its own refusal (the others still go on)."""
    out: list[orders.Line] = []
    for raw in raws:
        try:
            out.append(schema.validate(raw))
        except Invalid as e:
            out.append(Refused(Reason.INVALID_PARAMETER, detail=e.message))
    return out


def send_order(ctx: Ctx, reseller: Account, req: Request) -> dict[str, Any]:
    return orders.send_order(ctx, reseller, req, _lines(rq.ORDER_REQUEST_LINE, req.orderRequestLine))


def check_availability(ctx: Ctx, reseller: Account, req: Request) -> dict[str, Any]:
    return orders.check_availability(ctx, reseller, req,
                                     _lines(rq.CHECK_AVAILABILITY_LINE, req.checkAvailabilityLine))


def fulfillment_url(ctx: Ctx, loan: Loan) -> str:
    from ..services.links import sign_loan_link

    return sign_loan_link(ctx.base_url, loan.gln_coll, loan.loan_id, loan.created_at, follows_loan=True)


def loan_book(ctx: Ctx, coll: Account, req: Request) -> dict[str, Any]:
    return _loan(ctx, coll, req, "loanEndDate")


def consult_book(ctx: Ctx, coll: Account, req: Request) -> dict[str, Any]:
    return _loan(ctx, coll, req, "consultEndDate")


def declare_ip(ctx: Ctx, coll: Account, req: Request) -> dict[str, Any]:
    orders.check_contractor(req.glnContractor)
    declared = ips.declare(coll, ips.DeclareIps(list(req.ips)))
    if declared.already:
        warning = f"Warn : {' '.join(declared.already)} already declared."
        return {"returnStatus": Status.OK.value, "returnMessage": warning}
    return {"returnStatus": Status.OK.value}


def get_loan_status(ctx: Ctx, coll: Account, req: Request) -> dict[str, Any]:
    orders.check_contractor(req.glnContractor)
    out = []
    for line_id in dict.fromkeys(req.orderLineId):
        line: dict[str, Any] = {"orderLineId": line_id}
        try:
            item, licence = lending.own_licence(coll, line_id)
            if licence is not None:
                line.update(orders.licence_state(licence, ctx))
            if req.returnEndedLoan:  # PMB's sync closes these on its side (it reads loanId, endLoanDate)
                line["pnbLoanList"] = [{"loanId": x.loan_id, "endLoanDate": iso(x.returned_at or x.created_at)}
                                       for x in lending.ended_early(ctx, line_id)]
            state = orders.line_status(item)
            line.update(refusal_fields(state["refusal"]) if "refusal" in state else state)
        except Refused as r:
            line.update(refusal_fields(r))
        out.append({k: v for k, v in line.items() if v is not None})
    status, message = _rollup(out)
    return {"date": iso(ctx.now), "loanResponseLine": out, "returnStatus": status, "returnMessage": message}


def _rollup(lines: list[dict[str, Any]]) -> tuple[str, str | None]:
    from ..domain.codes import rollup

    status, message = rollup("getLoanStatus", [x["returnStatus"] for x in lines])
    return status.value, message


def get_ended_loans(ctx: Ctx, coll: Account, req: Request) -> dict[str, Any]:
    orders.check_contractor(req.glnContractor)
    found = lending.ended_loans(ctx, coll, lending.EndedLoans(req.date, list(req.loanId or [])))
    lines = [{"orderLineId": x.order_line_id, "loanId": x.loan_id, "ean13": x.ean13,
              "returnDate": iso(x.returned_at or x.created_at)} for x in found]
    answer: dict[str, Any] = {"loanEndedResponseLine": lines, "returnStatus": Status.OK.value}
    if not lines:
        answer["returnMessage"] = f"No ended loans founds for coll : {coll.gln}"
    return answer


def end_loan(ctx: Ctx, distributor: Account, req: Request) -> dict[str, Any]:
    lending.end_loan(ctx, distributor, lending.EndLoan(req.orderLineId, req.loanId, req.date))
    return {"returnStatus": Status.OK.value}


def return_loan(ctx: Ctx, coll: Account, req: Request) -> dict[str, Any]:
    orders.check_contractor(req.glnContractor)  # the caller's own GLN: dropped by tolerant()
    collectivity_loans.give_back(ctx, coll, req.orderLineId, req.loanId)
    return {"returnStatus": Status.OK.value}


def extend_loan(ctx: Ctx, coll: Account, req: Request) -> dict[str, Any]:
    orders.check_contractor(req.glnContractor)  # the caller's own GLN: dropped by tolerant()
    loan = collectivity_loans.extend(ctx, coll, req.orderLineId, req.loanId, req.date)
    return {"orderLineId": loan.order_line_id, "loanId": loan.loan_id, "loanEndDate": iso(loan.end_date),
            "returnStatus": Status.OK.value}


def get_user_agent(ctx: Ctx, account: Account, req: Request) -> dict[str, Any]:
    orders.check_contractor(req.glnContractor)
    return {"listUserAgent": user_agents.listing(), "returnStatus": Status.OK.value}


RESELLER = ("glnReseller", "passwordReseller")
LOGIN = ("login", "password")  # the later services' credentials, as PMB sends them
COLLECTIVITY = ("glnColl", "passwordColl")
OPERATIONS: dict[str, Operation] = {
    "sendOrder": Operation(rq.SEND_ORDER, (Role.RESELLER,), RESELLER, send_order),
    "cancelOrder": Operation(rq.CANCEL_ORDER, (Role.RESELLER,), RESELLER, orders.cancel_order),
    "checkAvailability": Operation(rq.CHECK_AVAILABILITY, (Role.RESELLER,), RESELLER, check_availability),
    "getOffers": Operation(rq.GET_OFFERS, (Role.RESELLER, Role.COLLECTIVITY), RESELLER,
                           updates.get_offers),
    "getOffersForDistributor": Operation(rq.GET_OFFERS_FOR_DISTRIBUTOR, (Role.RESELLER, Role.COLLECTIVITY), RESELLER,
                                         updates.get_offers_for_distributor),
    "getOrders": Operation(rq.GET_ORDERS, COLL, COLLECTIVITY, orders.get_orders),
    "declareIp": Operation(rq.DECLARE_IP, COLL, COLLECTIVITY, declare_ip),
    "loanBook": Operation(rq.LOAN_BOOK, COLL, COLLECTIVITY, loan_book),
    "consultBook": Operation(rq.CONSULT_BOOK, COLL, COLLECTIVITY, consult_book),
    "getLoanStatus": Operation(rq.GET_LOAN_STATUS, COLL, COLLECTIVITY, get_loan_status),
    "getEndedLoans": Operation(rq.GET_ENDED_LOANS, COLL, COLLECTIVITY, get_ended_loans),
    "endLoan": Operation(rq.END_LOAN, (Role.DISTRIBUTOR,), ("glnDistributor", "passwordDistributor"), end_loan),
    "returnLoan": Operation(rq.RETURN_LOAN, COLL, LOGIN, return_loan),
    "extendLoan": Operation(rq.EXTEND_LOAN, COLL, LOGIN, extend_loan),
    "getUserAgent": Operation(rq.GET_USER_AGENT, (Role.COLLECTIVITY, Role.RESELLER), LOGIN, get_user_agent),
}


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
