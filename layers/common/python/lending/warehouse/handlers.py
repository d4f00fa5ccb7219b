"""The warehouse door's functions (lending.web.Door): decode, call the use case, encode. Errors in the
answer are the spec's names; an unexpected fault is a 500 with `["internal_error"]`, never a half-done
loan (the core writes a loan and its counters in one transaction)."""

from __future__ import annotations

import json

from ..observability import count, request_line
from ..services.context import Ctx, warm_up
from ..web import Answer, BadBody, BadText, Door, Handler, Request, parameters
from . import codec
from . import errors as e
from .loans import describe, lend_by_url, return_by_link


def _fault(req: Request, request_id: str) -> Answer:
    return Answer(500, json.dumps(["internal_error"]), {"Content-Type": "application/json", "X-Request-Id": request_id})


def _unreadable(req: Request, error: BadBody) -> Answer:
    """A body that cannot be read: the parameter's own error name when it has one."""
    if isinstance(error, BadText):
        return codec.refused(400, {e.INVALID_TEXT.get(error.field, e.INVALID_REQUEST_BODY)})
    return codec.refused(400, {e.INVALID_REQUEST_BODY})


def _counted(kind: str) -> Door[Answer]:
    def encode(req: Request, answer: Answer) -> Answer:
        count(f"warehouse.{kind}.{answer.status}")
        return answer

    # Outcomes are the warehouse table's names already (warehouse/loans.py words refusals with errors.py).
    return Door("warehouse", _fault, {BadBody: _unreadable}, encode)


def lend(req: Request) -> Answer:
    """POST /warehouse/licences/{orderLineId}/{token}/loans"""
    ctx = Ctx(base_url=req.base_url)
    raw = parameters(req)
    outcome = lend_by_url(ctx, req.path_params.get("orderLineId", ""), req.path_params.get("token", ""), raw)
    request_line("warehouse loan", **describe(outcome))
    if outcome.status == 201:
        return codec.created(outcome.url, outcome.return_url)
    return codec.refused(outcome.status, outcome.errors)


def give_back(req: Request) -> Answer:
    """DELETE /warehouse/loans/{token} (or POST .../return): early return through the fulfillment link."""
    outcome = return_by_link(Ctx(base_url=req.base_url), req.path_params.get("token", ""))
    request_line("warehouse return", **describe(outcome))
    if outcome.status == 204:
        return codec.no_content()
    return codec.refused(outcome.status, outcome.errors)


def lend_handler() -> Handler:
    warm_up()  # clients built once per container, at init
    return _counted("lend").handler(lend)


def return_handler() -> Handler:
    warm_up()
    return _counted("return").handler(give_back)
