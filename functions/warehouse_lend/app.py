"""Warehouse lending URL: POST {loanUrl} = /warehouse/licences/{orderLineId}/{token}/loans (CONTRACT 5)."""

from typing import Any

from lending.observability import logger
from lending.warehouse import handlers

handlers.warm()


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handlers.lend(event)
