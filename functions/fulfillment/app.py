"""GET /fulfillment/{token}: a loan's signed, time-limited link serves its file (CONTRACT 3 link.url,
section 4) and records the download."""

from typing import Any

from lending.observability import count
from lending.services import clock
from lending.services.context import Ctx, warm_up
from lending.services.fulfillment import open_link
from lending.web import Answer, Door, Request, json_answer


def _fault(req: Request, request_id: str) -> Answer:
    return json_answer(500, {"errors": ["internal_error"], "messages": ["Internal error."]},
                       {"X-Request-Id": request_id})


def serve(req: Request) -> dict[str, Any]:
    answer = open_link(req.path_params.get("token", ""), Ctx(now=clock.now()))
    count(f"fulfillment.{answer['statusCode']}")
    return answer


warm_up()  # clients built once per container, at init
lambda_handler = Door("fulfillment", _fault).handler(serve)
