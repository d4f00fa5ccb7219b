"""Scheduled: sends to the callback queue every outbox event the cause's own enqueue missed (a crash
between a hold's reservation and its enqueue; returns written before the table's stream carried their
event), and every recent return the table's stream did not hand to the delivery (its retries given up):
the guarantee that no callback event is lost."""

from typing import Any

from lending.notify.outbox import sweep, sweep_returns
from lending.observability import count, logger, observed
from lending.services.context import Ctx, warm_up

warm_up()  # the table's client built once per container, at init (the collector paused)


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    now = Ctx().now
    enqueued = sweep(now) + sweep_returns(now)
    count("outbox.swept", enqueued)
    if enqueued:
        logger.info("outbox events enqueued by the sweeper", extra={"enqueued": enqueued})
    return {"enqueued": enqueued}
