"""The PNB REST door: Dilicom's REST binding, as library systems (PMB) call it.

`/v2/pnb-numerique/json/{service}` and `/v2/pnb-numerique/{service}`, GET or POST. Parameters in Spring
binding notation from the query string or a form body, or a JSON object (the body's shape decides, not its
Content-Type); authentication by HTTP Basic (login = the caller's GLN) or by the spec's GLN/password
parameters. Answers are JSON as the real hub renders them (Java beans: the counters `nta`, `nus1`, `nus2`)."""

from __future__ import annotations

import functools
from typing import Any

from ..domain.codes import Status
from ..domain.refusals import Reason, Refused
from ..observability import logger, request_line
from ..services.context import Ctx, warm_up
from ..web import Answer, BadBody, BadText, Door, Handler, Request, json_answer, spring_parameters
from .operations import OPERATIONS, new_request_id, prepare, refuse_text, run
from .refusals import INTERNAL_ERROR
from .refusals import fields as refusal_fields

MAX_BODY = 1_000_000  # a sendOrder of 99 lines in JSON is far below
# Form text carries no types: these leaves become numbers when they are whole numbers (the spec's integers).
INTEGERS = frozenset({"quantity", "unitPrice", "unitPriceExcludingTax", "taxRate"})
# The names PMB's returnLoan/extendLoan send for the caller's credentials, read for the twelve too.
LOGIN, PASSWORD = "login", "password"
# JSON from Java beans: the getters getNta(), getNus1() are rendered in lower case.
_BEAN_NAMES = {"NTA": "nta", "NUS1": "nus1", "NUS2": "nus2"}
CHALLENGE = {"WWW-Authenticate": 'Basic realm="PNB"'}


def respond(status: int, answer: dict[str, Any], headers: dict[str, str] | None = None) -> Answer:
    return json_answer(status, answer, headers)


def _fault(req: Request, request_id: str) -> Answer:
    return respond(500, {"requestId": request_id, "returnStatus": Status.ERROR.value, "returnMessage": INTERNAL_ERROR})


def _unreadable(req: Request, e: BadBody) -> Answer:
    """The binding's 400: a request it cannot read at all (or whose body is not text in its charset)."""
    return _refusal(400, Refused(Reason.UNREADABLE_REQUEST, detail=str(e)))


# The REST binding's door: a PNB refusal is worded by `operations.run` (pnb/refusals.py, shared with SOAP);
# what reaches the door itself is a body it cannot read.
DOOR = Door("pnb", _fault, errors={BadBody: _unreadable})


def as_bean(value: Any) -> Any:
    """The answer as Dilicom's REST binding renders it: the counters in lower case, at every depth."""
    if isinstance(value, dict):
        return {_BEAN_NAMES.get(k, k): as_bean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [as_bean(v) for v in value]
    return value


def _refusal(status: int, refusal: Refused, headers: dict[str, str] | None = None) -> Answer:
    return respond(status, {"requestId": new_request_id(), **refusal_fields(refusal)}, headers)


def serve(service: str, req: Request) -> Answer:
    try:
        body = spring_parameters(req, MAX_BODY, INTEGERS)
    except BadText as t:
        if t.field != "body":  # a parameter that is not text: INVALID_ARGUMENTS naming it
            return respond(*refuse_text(service, t))
        raise  # not text in its charset: unreadable
    op = OPERATIONS.get(service)
    basic = req.basic
    if op is not None:
        gln_field, password_field = op.credentials
        if basic is not None:  # the binding's own authentication wins over any parameter
            body[gln_field], body[password_field] = basic
        elif body.get(gln_field) is None and body.get(LOGIN) is not None:
            body[gln_field], body[password_field] = body.get(LOGIN), body.get(PASSWORD)
        # The binding's 401 is for its own path; the older path answers as it always did (AUTHENTICATION_ERROR).
        rest = "/json/" in req.path
        if rest and basic is None and body.get(gln_field) is None and body.get(password_field) is None:
            return _refusal(401, Refused(Reason.MISSING_CREDENTIALS), CHALLENGE)
    status, answer = run(service, body, Ctx(base_url=req.base_url, source_ip=req.source_ip))
    if basic is not None and answer["returnStatus"] == Status.AUTHENTICATION_ERROR.value:
        status = 403  # Basic credentials given, and wrong: the binding's 403 (Bad credentials)
    # Never the parameters themselves: DRMinfo and userInfo carry personal data.
    request_line("pnb", operation=service, returnStatus=answer["returnStatus"], requestId=answer["requestId"],
                 auth="basic" if basic else "parameters")
    return respond(status, as_bean(answer))


def json_handler(service: str) -> Handler:
    warm_up()  # clients built once per container, at init
    prepare(service)  # this function's one operation: its use cases and validator, and no other's
    return DOOR.handler(functools.partial(serve, service))


def unknown_service(req: Request) -> Answer:
    """The routes no service owns: the spec's NOT_IMPLEMENTED, never the gateway's 404. It reaches no
    table: a known service always has its own, more specific route."""
    service = req.path_params.get("service", "")[:64]
    if service in OPERATIONS:  # a route was forgotten: say so, rather than answer for the service here
        logger.error("pnb service reached the catch-all route", extra={"operation": service})
        return _refusal(200, Refused(Reason.UNKNOWN_OPERATION, service=service))
    status, answer = run(service, {}, Ctx(base_url=req.base_url, source_ip=req.source_ip))
    return respond(status, as_bean(answer))


unknown_service_handler = DOOR.handler(unknown_service)
