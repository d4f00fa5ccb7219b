"""Scheduled monthly: the DRM billing report of the previous month (or of {"month": "YYYY-MM"})."""

from typing import Any

from lending import clock
from lending.observability import logger, observed
from lending.services.context import warm_up
from lending.warehouse import billing

warm_up()  # the table's client built once per container, at init (the collector paused)


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    month = (event or {}).get("month") or billing.previous_month(clock.now())
    files = billing.produce(month)
    logger.info("drm billing report", extra={"month": month, "files": len(files)})
    return {"month": month, "files": sorted(files)}
