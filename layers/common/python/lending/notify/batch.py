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
            return str(record.get("messageId", ""))
        except Exception:
            logger.exception("callback record failed", extra={"messageId": record.get("messageId")})
            return str(record.get("messageId", ""))

    records = list(event.get("Records") or [])
    if len(records) <= 1:
        failed = [one(r) for r in records]
    else:
        with ThreadPoolExecutor(max_workers=len(records), thread_name_prefix="callback") as pool:
            failed = list(pool.map(one, records))
    return {"batchItemFailures": [{"itemIdentifier": m} for m in failed if m is not None]}
