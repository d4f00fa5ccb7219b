"""Scheduled (and `make reconcile`): prove every licence's counters against its loan records."""

from dataclasses import asdict
from typing import Any

from lending.observability import logger
from lending.services.lending import reconcile


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    checked, drifts = reconcile()
    for drift in drifts:
        logger.error("counter drift", extra=asdict(drift))
    return {"licences": checked, "drifts": [asdict(d) for d in drifts]}
