"""SQS consumer: delivers signed early-return callbacks; partial batch failures keep only the failed
messages on the queue (each with its own growing delay), the rest are deleted."""

from typing import Any

from lending.notify.batch import process
from lending.notify.delivery import RetryLater, handle_record
from lending.observability import observed
from lending.services.context import warm_up

warm_up()  # clients built once per container, at init


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # A failing receiver is the normal case here, not an error of the batch: never raise for it.
    return process(event, handle_record, expected=(RetryLater,))
