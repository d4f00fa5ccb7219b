"""The PNB JSON door: POST /v2/pnb-numerique/{service}, body and answer in the spec's names."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..domain.codes import Status
from ..observability import logger, observed
from ..services.context import Ctx, warm_up
from ..web import BadBody, BadText, base_url, body_text, check_text, dumps, guarded, source_ip
from .operations import new_request_id, refuse_text, run
from .refusals import INTERNAL_ERROR

MAX_BODY = 1_000_000


def respond(status: int, answer: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": dumps(answer)}


def _fault(event: dict[str, Any], request_id: str) -> dict[str, Any]:
    return respond(500, {"requestId": request_id, "returnStatus": Status.ERROR.value, "returnMessage": INTERNAL_ERROR})


def json_handler(service: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    warm_up()  # clients built once per container, at init

    @observed
    @guarded(_fault)
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        try:
            data = json.loads(body_text(event, MAX_BODY))
            if not isinstance(data, dict):
                raise ValueError("not an object")
            check_text(data)
        except BadText as t:
            if t.field == "body":  # not text in its charset: as unreadable as a body that is not JSON
                return respond(400, {"requestId": new_request_id(), "returnStatus": Status.INVALID_ARGUMENTS.value,
                                     "returnMessage": f"The request body is not a JSON object ({t.reason})"})
            return respond(*refuse_text(service, t))
        except (ValueError, RecursionError, BadBody) as e:  # RecursionError: absurdly nested JSON
            return respond(400, {"requestId": new_request_id(), "returnStatus": Status.INVALID_ARGUMENTS.value,
                                 "returnMessage": f"The request body is not a JSON object ({e})"})
        status, answer = run(service, data, Ctx(base_url=base_url(event), source_ip=source_ip(event)))
        logger.info("pnb", extra={"operation": service, "returnStatus": answer["returnStatus"],
                                  "requestId": answer["requestId"]})
        return respond(status, answer)

    return lambda_handler
