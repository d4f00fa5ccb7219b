"""Scheduled: end every loan whose end date has come and free its place (never DynamoDB TTL)."""

from typing import Any

from lending.observability import count, logger, observed
from lending.services.context import Ctx
from lending.services.lending import expire_due


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    expired = expire_due(Ctx())
    count("loans.expired", expired)
    logger.info("loans expired", extra={"expired": expired})
    return {"expired": expired}
