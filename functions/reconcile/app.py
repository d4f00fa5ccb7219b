"""Scheduled (and `make reconcile`): prove every licence's counters against its loan records."""

from typing import Any

from lending.observability import count, logger, observed
from lending.services.context import warm_up
from lending.services.lending import reconcile

warm_up()  # the table's client built once per container, at init (the collector paused)


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    checked, drifts = reconcile()
    count("reconcile.drifts", len(drifts))
    for drift in drifts:
        logger.error("counter drift", extra=drift.as_dict())
    return {"licences": checked, "drifts": [d.as_dict() for d in drifts]}
