"""GET /fulfillment/{token} (a loan's file: CONTRACT 3 link.url, section 4) and GET /catalogue/onix/{token}
(an ONIX update file named in a getOffers answer): the link's signature is the only credential."""

from __future__ import annotations

from typing import Any

from ..catalogue import updates
from ..observability import count
from ..services import clock, fulfillment
from ..services.context import Ctx, warm_up
from ..web import Answer, Door, Handler, Request, json_answer, status_of


def _fulfillment_fault(req: Request, request_id: str) -> Answer:  # v1's error shape, as the links' readers know
    return json_answer(500, {"errors": ["internal_error"], "messages": ["Internal error."]},
                       {"X-Request-Id": request_id})


def _onix_fault(req: Request, request_id: str) -> Answer:  # the shape of the link's own refusal
    return json_answer(500, {"errors": ["Internal error."]}, {"X-Request-Id": request_id})


def loan_file(req: Request) -> dict[str, Any]:
    answer = fulfillment.open_link(req.path_params.get("token", ""), Ctx(now=clock.now()))
    count(f"fulfillment.{status_of(answer)}")
    return answer


def onix_file(req: Request) -> dict[str, Any]:
    return updates.open_link(req.path_params.get("token", ""), Ctx().now)


def fulfillment_handler() -> Handler:
    warm_up()  # clients built once per container, at init
    return Door[dict[str, Any]]("fulfillment", _fulfillment_fault).handler(loan_file)


def onix_file_handler() -> Handler:
    return Door[dict[str, Any]]("onix file", _onix_fault).handler(onix_file)
