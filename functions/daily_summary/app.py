"""Scheduled hourly: each subscribed account's summary of its day before, once it is morning where it is
(at most one email per account and day; see lending.services.summary)."""

from typing import Any

from lending.observability import count, logger, observed
from lending.services import clock
from lending.services.context import warm_up
from lending.services.summary import run

warm_up()  # the table's client built once per container, at init (the collector paused)


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    report = run(clock.now())
    count("summaries.sent", len(report.sent))
    logger.info("daily summaries", extra={"sent": len(report.sent), "already": len(report.already),
                                          "failed": len(report.failed)})
    return {"sent": report.sent, "already": report.already, "failed": report.failed}
