"""The warehouse Lambda handlers: decode, call the use case, encode. Errors in the answer are the
spec's names; an unexpected fault is a 500 with `["internal_error"]`, never a half-done loan (the
core writes a loan and its counters in one transaction)."""

from __future__ import annotations

import json
from typing import Any

from ..observability import logger, request_line
from ..services.context import Ctx, warm_up
from ..web import BadBody, BadText, base_url, parameters, request_id
from . import codec
from . import errors as e
from .loans import describe, lend_by_url, return_by_link


def _fault(kind: str, event: dict[str, Any]) -> dict[str, Any]:
    rid = request_id(event)
    logger.exception("warehouse request failed", extra={"operation": kind, "requestId": rid})
    return {"statusCode": 500, "headers": {"Content-Type": "application/json", "X-Request-Id": rid},
            "body": json.dumps(["internal_error"])}


def lend(event: dict[str, Any], ctx: Ctx | None = None) -> dict[str, Any]:
    """POST /warehouse/licences/{orderLineId}/{token}/loans"""
    path = event.get("pathParameters") or {}
    try:
        ctx = ctx or Ctx(base_url=base_url(event))
        try:
            raw = parameters(event)
        except BadText as t:  # the parameter's own error name when it has one
            return codec.refused(400, {e.INVALID_TEXT.get(t.field, e.INVALID_REQUEST_BODY)})
        except BadBody:
            return codec.refused(400, {e.INVALID_REQUEST_BODY})
        outcome = lend_by_url(ctx, str(path.get("orderLineId", "")), str(path.get("token", "")), raw)
    except Exception:
        return _fault("lend", event)
    request_line("warehouse loan", **describe(outcome))
    if outcome.status == 201:
        return codec.created(outcome.url, outcome.return_url)
    return codec.refused(outcome.status, outcome.errors)


def give_back(event: dict[str, Any], ctx: Ctx | None = None) -> dict[str, Any]:
    """DELETE /warehouse/loans/{token} (or POST .../return): early return through the fulfillment link."""
    try:
        ctx = ctx or Ctx(base_url=base_url(event))
        outcome = return_by_link(ctx, str((event.get("pathParameters") or {}).get("token", "")))
    except Exception:
        return _fault("return", event)
    request_line("warehouse return", **describe(outcome))
    if outcome.status == 204:
        return codec.no_content()
    return codec.refused(outcome.status, outcome.errors)


def warm() -> None:
    warm_up()  # clients built once per container, at init
