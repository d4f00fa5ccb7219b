"""Scheduled: end every loan whose end date has come and free its place (never DynamoDB TTL); pass every
hold reservation whose window has passed to the next in line; email patrons a reservation not told yet."""

from typing import Any

from lending.observability import count, logger, observed
from lending.services import holds
from lending.services.context import Ctx, warm_up
from lending.services.lending import expire_due

warm_up()  # the table's client built once per container, at init (the collector paused)


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    ctx = Ctx()
    expired = expire_due(ctx)
    passed = holds.expire_reservations(ctx)
    notified = holds.notify_pending(ctx)
    count("loans.expired", expired)
    count("holds.reservations_expired", passed)
    logger.info("loans expired", extra={"expired": expired, "reservationsExpired": passed, "holdsNotified": notified})
    return {"expired": expired, "reservationsExpired": passed, "holdsNotified": notified}
