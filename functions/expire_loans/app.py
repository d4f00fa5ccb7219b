"""Scheduled: end every loan whose end date has come and free its place (never DynamoDB TTL)."""

from typing import Any

from lending.observability import logger
from lending.services.context import Ctx
from lending.services.lending import expire_due


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    expired = expire_due(Ctx())
    logger.info("loans expired", extra={"expired": expired})
    return {"expired": expired}
