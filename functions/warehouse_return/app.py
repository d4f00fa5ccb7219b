"""Warehouse early return through the fulfillment link: DELETE /warehouse/loans/{token}
(or POST /warehouse/loans/{token}/return); the lending system's notify_url is told."""

from typing import Any

from lending.observability import count, observed
from lending.warehouse import handlers

handlers.warm()


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    answer = handlers.give_back(event)
    count(f"warehouse.return.{answer['statusCode']}")
    return answer
