"""SQS consumer: delivers signed early-return callbacks; partial batch failures keep only the failed
messages on the queue (each with its own growing delay), the rest are deleted."""

from typing import Any

from aws_lambda_powertools.utilities.batch import EventType, process_partial_response

from lending.notify.batch import ConcurrentBatchProcessor
from lending.notify.delivery import handle_record
from lending.observability import observed
from lending.services.context import warm_up

warm_up()  # clients built once per container, at init


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # A failing receiver is the normal case here, not an error of the batch: never raise for it.
    processor = ConcurrentBatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    return dict(process_partial_response(event=event, record_handler=handle_record, processor=processor,
                                         context=context))
