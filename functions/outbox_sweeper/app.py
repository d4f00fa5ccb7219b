"""Scheduled: sends to the callback queue every outbox event the return's own enqueue missed
(a crash between the return and the enqueue): the guarantee that no early-return event is lost."""

from typing import Any

from lending.notify.outbox import sweep
from lending.observability import count, logger, observed
from lending.services.context import Ctx


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    enqueued = sweep(Ctx().now)
    count("outbox.swept", enqueued)
    if enqueued:
        logger.info("outbox events enqueued by the sweeper", extra={"enqueued": enqueued})
    return {"enqueued": enqueued}
