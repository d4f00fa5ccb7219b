"""The twelve PNB operations: who may call, which model validates, which use case answers.

Both doors (JSON and SOAP) call `run(name, body, ctx)` and only encode what it returns."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from ..catalogue import updates
from ..domain.accounts import Account, Role
from ..domain.codes import INTERNAL_ERROR, Refused, Status
from ..domain.dates import iso
from ..domain.ips import already_declared, parse_declaration
from ..domain.licences import AccessMedium, Localization, pool_for
from ..domain.loans import Loan, LoanState, fingerprint, return_date
from ..observability import count
from ..services import auth, lending, orders
from ..services.context import Ctx
from ..store import ips as ip_store
from ..store import licences as line_store
from ..store import loans as loan_store
from ..validation import Invalid, Request, Schema
from . import requests as rq

ENDED_LOANS_DAYS = 60
PROTECTION = "NONE"  # the DRM of a loan's link: none until LCP licences exist
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
        raise Refused(Status.INVALID_ARGUMENTS, f"loanerColl : {loaner} is not a library of {coll.gln}")


def _loan(ctx: Ctx, coll: Account, req: Request, end_field: str) -> dict[str, Any]:
    orders.check_contractor(req.glnContractor)
    _loaner(coll, req.loanerColl)
    requested_end = getattr(req, end_field)
    localization = Localization(req.localization)
    lending.check_in_situ(coll, localization, req.ipAddress)
    if end_field == "consultEndDate" and not req.ipAddress:
        # Mandatory for consultBook (spec); absent with IN_SITU it is the ACCES_DENIED just above.
        raise Refused(Status.INVALID_ARGUMENTS, "The parameter ipAddress is mandatory")
    pool = pool_for(AccessMedium(req.accessMedium), localization)
    # "Identical" is every parameter (CONTRACT 3: the same loanId with other parameters is DUPLICATED),
    # the spec's list and the optional ones: a first answer is never replayed to a request that asked for
    # another callback, library or address. Absent and empty are the same (SOAP and JSON alike).
    fp = fingerprint(end_field, coll.gln, req.orderLineId, req.loanId, req.ean13, req.accessMedium,
                     req.localization, iso(requested_end), req.callbackUrl or "", req.loanerColl or "",
                     req.ipAddress or "", req.glnContractor or "")
    # DRMinfo and userInfo are kept with the loan (the DRM, the statistics) but are not part of "identical":
    # PMB draws userInfo.year anew on every call, so its retry of the same loan would never be identical.
    extra: dict[str, Any] = {"loanerColl": req.loanerColl, "drm": req.DRMinfo or None, "reader": req.userInfo or None}
    extra = {k: v for k, v in extra.items() if v}

    def answer(loan: Loan) -> dict[str, Any]:
        return {"orderLineId": loan.order_line_id, "loanId": loan.loan_id, end_field: iso(loan.end_date),
                "link": {"url": fulfillment_url(ctx, loan), "format": "EPUB", "formatDescription": "epub",
                         "ean13": loan.ean13, "mimeType": "application/epub+zip"},
                "protection": PROTECTION}

    request = lending.LoanRequest(coll=coll, order_line_id=req.orderLineId, loan_id=req.loanId, ean13=req.ean13,
                                  pool=pool, requested_end=requested_end, fingerprint=fp,
                                  callback_url=req.callbackUrl, extra=extra)
    loan, _ = lending.lend(ctx, request, answer)
    return {**loan.answer, "returnStatus": Status.OK.value}


def fulfillment_url(ctx: Ctx, loan: Loan) -> str:
    from ..services.links import sign_loan_link

    return sign_loan_link(ctx.base_url, loan.gln_coll, loan.loan_id, loan.end_date)


def loan_book(ctx: Ctx, coll: Account, req: Request) -> dict[str, Any]:
    return _loan(ctx, coll, req, "loanEndDate")


def consult_book(ctx: Ctx, coll: Account, req: Request) -> dict[str, Any]:
    return _loan(ctx, coll, req, "consultEndDate")


def declare_ip(ctx: Ctx, coll: Account, req: Request) -> dict[str, Any]:
    orders.check_contractor(req.glnContractor)
    ranges = [parse_declaration(t) for t in req.ips]
    already = already_declared(ip_store.declared(coll.gln), ranges)
    ip_store.add(coll.gln, ranges)
    if already:
        return {"returnStatus": Status.OK.value, "returnMessage": f"Warn : {' '.join(already)} already declared."}
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
            if req.returnEndedLoan:
                line["pnbLoanList"] = ended_early(ctx, line_id)
            line["returnStatus"], line["returnMessage"] = item["status"], item.get("message")
        except Refused as r:
            line["returnStatus"], line["returnMessage"] = r.status.value, r.message
        out.append({k: v for k, v in line.items() if v is not None})
    status, message = _rollup(out)
    return {"date": iso(ctx.now), "loanResponseLine": out, "returnStatus": status, "returnMessage": message}


def ended_early(ctx: Ctx, order_line_id: str) -> list[dict[str, str]]:
    """The line's loans ended before their end date (endLoan, returns) in the last ENDED_LOANS_DAYS, oldest
    first: a library system closes these on its side (PMB's sync reads loanId and endLoanDate)."""
    since = ctx.now - timedelta(days=ENDED_LOANS_DAYS)
    ended = [x for x in loan_store.of_line(order_line_id)
             if x.state is LoanState.RETURNED and x.returned_at is not None and x.returned_at >= since]
    ended.sort(key=lambda x: (x.returned_at or x.created_at, x.loan_id))
    return [{"loanId": x.loan_id, "endLoanDate": iso(x.returned_at or x.created_at)} for x in ended]


def _rollup(lines: list[dict[str, Any]]) -> tuple[str, str | None]:
    from ..domain.codes import rollup

    status, message = rollup("getLoanStatus", [x["returnStatus"] for x in lines])
    return status.value, message


def get_ended_loans(ctx: Ctx, coll: Account, req: Request) -> dict[str, Any]:
    orders.check_contractor(req.glnContractor)
    if req.date is None and not req.loanId:
        raise Refused(Status.INVALID_ARGUMENTS, "One of the parameters date or loanId is mandatory")
    if req.date is not None and req.date < ctx.now - timedelta(days=ENDED_LOANS_DAYS):
        raise Refused(Status.DATE_TOO_OLD, "The date can't be older than 60 days")
    if req.loanId:
        found = [x for x in loan_store.get_many(coll.gln, req.loanId) if x.state is LoanState.RETURNED]
        if req.date is not None:
            found = [x for x in found if x.returned_at and x.returned_at >= req.date]
    else:
        assert req.date is not None
        found = loan_store.ended_since(coll.gln, req.date)
    found.sort(key=lambda x: (x.returned_at or x.created_at, x.loan_id))
    lines = [{"orderLineId": x.order_line_id, "loanId": x.loan_id, "ean13": x.ean13,
              "returnDate": iso(x.returned_at or x.created_at)} for x in found]
    answer: dict[str, Any] = {"loanEndedResponseLine": lines, "returnStatus": Status.OK.value}
    if not lines:
        answer["returnMessage"] = f"No ended loans founds for coll : {coll.gln}"
    return answer


def end_loan(ctx: Ctx, distributor: Account, req: Request) -> dict[str, Any]:
    item = line_store.get_line(req.orderLineId)
    if item is None or item.get("glnDistributor") != distributor.gln:
        raise lending.line_not_found(req.orderLineId)
    loan_item = loan_store.get(item["glnColl"], req.loanId)
    if loan_item is None or loan_item.order_line_id != req.orderLineId:
        raise Refused(Status.NOT_FOUND, f"No Loan having a line with orderLineId '{req.orderLineId}' and a "
                                        f"loanId '{req.loanId}' is found")
    lending.return_early(ctx, loan_item, return_date(req.date, loan_item.created_at, ctx.now))
    return {"returnStatus": Status.OK.value}


RESELLER = ("glnReseller", "passwordReseller")
COLLECTIVITY = ("glnColl", "passwordColl")
OPERATIONS: dict[str, Operation] = {
    "sendOrder": Operation(rq.SEND_ORDER, (Role.RESELLER,), RESELLER, orders.send_order),
    "cancelOrder": Operation(rq.CANCEL_ORDER, (Role.RESELLER,), RESELLER, orders.cancel_order),
    "checkAvailability": Operation(rq.CHECK_AVAILABILITY, (Role.RESELLER,), RESELLER, orders.check_availability),
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
}


def new_request_id() -> str:
    return uuid.uuid4().hex


def run(name: str, body: dict[str, Any], ctx: Ctx) -> tuple[int, dict[str, Any]]:
    """Authenticate, validate, call. Returns (HTTP status, answer); the answer always has a requestId
    and a returnStatus, and None fields are dropped."""
    request_id = new_request_id()
    op = OPERATIONS.get(name)
    http = 200
    try:
        if op is None:
            raise Refused(Status.NOT_IMPLEMENTED, f"Service {name} is not implemented")
        account = auth.authenticate(body.get(op.credentials[0]), body.get(op.credentials[1]), op.roles)
        body = tolerant(body, account)
        try:
            req = op.schema.validate(body)
        except Invalid as e:
            raise Refused(Status.INVALID_ARGUMENTS, e.message) from None
        answer = op.call(ctx, account, req)
    except Refused as r:
        answer = {"returnStatus": r.status.value, "returnMessage": r.message}
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
    """Optional fields the spec marks absent are left out, at every depth."""
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value
