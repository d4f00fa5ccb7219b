"""An SQS batch's partial failure response, with the records of one batch handled side by side: one slow
receiver (up to CALLBACK_TIMEOUT_S) does not hold up the nine other callbacks of its batch, and a batch
takes as long as its slowest send, not the sum of them.

Our own few lines rather than Powertools' batch utility: that one imports asyncio and every event data
class, about a fifth of the callback function's cold start, for a loop and a list of message ids."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from ..observability import logger

Record = Mapping[str, Any]


def ident(record: Record) -> str:
    """A record's identifier for `batchItemFailures`: an SQS message's id, a stream record's sequence
    number (the stream's event source retries from the lowest one reported)."""
    if record.get("eventSource") == "aws:dynamodb":
        return str((record.get("dynamodb") or {}).get("SequenceNumber", ""))
    return str(record.get("messageId", ""))


def process(event: Mapping[str, Any], handler: Callable[[Record], Any],
            expected: tuple[type[Exception], ...] = ()) -> dict[str, list[dict[str, str]]]:
    """Every record of the batch through `handler`; those that raised stay on the queue (SQS's
    `batchItemFailures`, the event source having ReportBatchItemFailures), the others are deleted.
    An exception of the `expected` types is the handler's way to keep a message; any other is logged."""

    def one(record: Record) -> str | None:
        try:
            handler(record)
            return None
        except expected:
            return ident(record)
        except Exception:
            logger.exception("callback record failed", extra={"record": ident(record)})
            return ident(record)

    records = list(event.get("Records") or [])
    if len(records) <= 1:
        failed = [one(r) for r in records]
    else:
        with ThreadPoolExecutor(max_workers=len(records), thread_name_prefix="callback") as pool:
            failed = list(pool.map(one, records))
    return {"batchItemFailures": [{"itemIdentifier": m} for m in failed if m is not None]}
