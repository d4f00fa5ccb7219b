"""GET /fulfillment/{token}: a loan's signed, time-limited link serves its file (CONTRACT 3 link.url,
section 4) and records the download."""

import json
from typing import Any

from lending.observability import count, observed
from lending.services import clock
from lending.services.context import Ctx, warm_up
from lending.services.fulfillment import open_link
from lending.web import guarded


def _fault(event: dict[str, Any], request_id: str) -> dict[str, Any]:
    return {"statusCode": 500, "headers": {"Content-Type": "application/json", "X-Request-Id": request_id},
            "body": json.dumps({"errors": ["internal_error"], "messages": ["Internal error."]})}


warm_up()  # clients built once per container, at init


@observed
@guarded(_fault)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    answer = open_link((event.get("pathParameters") or {}).get("token", ""), Ctx(now=clock.now()))
    count(f"fulfillment.{answer['statusCode']}")
    return answer
