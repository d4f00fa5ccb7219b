"""The PNB JSON door: POST /v2/pnb-numerique/{service}, body and answer in the spec's names."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

from ..domain.codes import Status
from ..observability import logger, observed
from ..services.context import Ctx, warm_up
from ..web import base_url
from .operations import new_request_id, run

MAX_BODY = 1_000_000


def request_body(event: dict[str, Any]) -> str:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        body = base64.b64decode(body).decode("utf-8", errors="replace")
    return str(body)


def respond(status: int, answer: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"},
            "body": json.dumps(answer, ensure_ascii=False)}


def json_handler(service: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    warm_up()  # clients built once per container, at init

    @observed
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raw = request_body(event)
        try:
            if len(raw) > MAX_BODY:
                raise ValueError("body too large")
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except (ValueError, RecursionError) as e:  # RecursionError: absurdly nested JSON
            return respond(400, {"requestId": new_request_id(), "returnStatus": Status.INVALID_ARGUMENTS.value,
                                 "returnMessage": f"The request body is not a JSON object ({e})"})
        status, answer = run(service, data, Ctx(base_url=base_url(event)))
        logger.info("pnb", extra={"operation": service, "returnStatus": answer["returnStatus"],
                                  "requestId": answer["requestId"]})
        return respond(status, answer)

    return lambda_handler
