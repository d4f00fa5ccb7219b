"""Warehouse early return through the fulfillment link: DELETE /warehouse/loans/{token}
(or POST /warehouse/loans/{token}/return); the lending system's notify_url is told."""

from typing import Any

from lending.observability import logger
from lending.warehouse import handlers

handlers.warm()


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return handlers.give_back(event)
