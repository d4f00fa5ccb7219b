"""Scheduled: pull each distributor's new ONIX files through its connector into the catalogue.

An event with {"detail": {"glnDistributor": "<gln>"}} syncs that distributor only."""

import time
from typing import Any

from lending.catalogue.sync import sync_all
from lending.observability import count, logger, observed
from lending.services.context import Ctx, warm_up

warm_up()  # the table's client built once per container, at init (the collector paused)

SAFETY_MS = 90_000  # stop starting new files when less than this is left: the next run resumes


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    only = (event.get("detail") or {}).get("glnDistributor")
    remaining = context.get_remaining_time_in_millis()
    started, budget = time.monotonic(), remaining - min(SAFETY_MS, remaining // 4)
    reports = sync_all(Ctx().now, only=only, deadline=lambda: (time.monotonic() - started) * 1000 > budget)
    summary = [r.summary() for r in reports]
    count("catalogue.offers_changed", sum(r.changed for r in reports))
    count("catalogue.records_rejected", sum(r.rejected_count for r in reports))
    count("catalogue.feeds_failed", sum(1 for r in reports if r.error or r.held))
    logger.info("catalogue sync", extra={"feeds": summary})
    return {"feeds": summary}
