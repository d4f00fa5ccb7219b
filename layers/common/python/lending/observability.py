"""Logger and metrics shared by every function (Powertools). No personal data in logs or metrics.

Metrics are counts of business outcomes (CloudWatch embedded metric format, namespace from
POWERTOOLS_METRICS_NAMESPACE): `pnb.<service>.<returnStatus>`, `v1.<action>.<http status>`,
`warehouse.<lend|return>.<http status>`, `fulfillment.<http status>`, `callbacks.<outcome>`,
`loans.expired`, `outbox.swept`, `reconcile.drifts`, `catalogue.<offers_changed|records_rejected|
feeds_failed>`. Each handler wears `observed`, which flushes them once per invocation. The local stack
and the tests run with POWERTOOLS_METRICS_DISABLED: nothing is counted there (the handlers of the local
stack share one process, and Powertools' metric set is not made for threads)."""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from . import coldstart

logger = Logger(service="lending-hub")
metrics = Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "LendingHub"), service="lending-hub")

Handler = TypeVar("Handler", bound=Callable[..., Any])
_lock = threading.Lock()  # the callback function delivers a batch's records on threads


def _enabled() -> bool:
    return os.environ.get("POWERTOOLS_METRICS_DISABLED", "").lower() not in ("1", "true")


def count(name: str, value: int = 1) -> None:
    """`value` more occurrences of a business outcome, published when the invocation ends."""
    if value and _enabled():
        with _lock:
            metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


EMF_FIELDS = "emfFields"  # a record's attribute naming what it adds to the EMF line (tools/benches/cost.py)


def request_line(message: str, **fields: Any) -> None:
    """The request's one line. Deployed (metrics on), its fields ride on the invocation's EMF metrics line
    as metadata (searchable in Logs Insights, e.g. by requestId): one line per request, not two, which
    is most of the hub's CloudWatch Logs bill. With metrics off (local stack, tests) it is a log line."""
    if _enabled():
        with _lock:
            for key, value in fields.items():
                metrics.add_metadata(key=key, value=value)
        return
    logger.info(message, extra={**fields, EMF_FIELDS: sorted(fields)})


def flush() -> None:
    with _lock:
        if not _enabled():
            return
        if metrics.metric_set:
            metrics.flush_metrics()
        elif metrics.metadata_set:  # a request line with no count (none today): written as a log line
            logger.info("request", extra=dict(metrics.metadata_set))
            metrics.clear_metrics()


def observed(handler: Handler) -> Handler:
    """What every Lambda handler wears: the collector back on once init is over (`coldstart`, before
    anything of the invocation runs), the logger's Lambda context, and its metrics flushed at the end."""

    @logger.inject_lambda_context(clear_state=True)
    @functools.wraps(handler)
    def logged(event: Any, context: Any) -> Any:
        try:
            return handler(event, context)
        finally:
            flush()

    @functools.wraps(handler)
    def wrapper(event: Any, context: Any) -> Any:
        coldstart.resume()
        return logged(event, context)

    wrapper.observed = True  # type: ignore[attr-defined]  # tests/unit/test_coldstart.py checks every function
    return wrapper  # type: ignore[return-value]
