"""Callback delivery. Two event sources: the table's stream (a returned loan's first try: its return's
write is the event) and the SQS queue (retries, hold.reserved events, whatever the sweeper enqueues).
Partial batch failures keep only the failed records; a failing receiver is not one (it goes to the queue
with its delay)."""

from typing import Any

from lending.notify.batch import process
from lending.notify.delivery import RetryLater, handle_record, handle_stream_record
from lending.observability import observed
from lending.services.context import warm_up

warm_up()  # clients built once per container, at init


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    records = event.get("Records") or []
    if records and records[0].get("eventSource") == "aws:dynamodb":
        return process(event, handle_stream_record)
    # A failing receiver is the normal case here, not an error of the batch: never raise for it.
    return process(event, handle_record, expected=(RetryLater,))
