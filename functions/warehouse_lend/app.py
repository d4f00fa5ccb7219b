"""Warehouse lending URL: POST {loanUrl} = /warehouse/licences/{orderLineId}/{token}/loans (CONTRACT 5)."""

from typing import Any

from lending.observability import count, observed
from lending.warehouse import handlers

handlers.warm()


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    answer = handlers.lend(event)
    count(f"warehouse.lend.{answer['statusCode']}")
    return answer
