"""Powertools' BatchProcessor, with the records of one batch handled side by side: one slow receiver
(up to CALLBACK_TIMEOUT_S) no longer holds up the nine other callbacks of its batch, and a batch
takes as long as its slowest send, not the sum of them. Partial failures are reported as usual."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from aws_lambda_powertools.utilities.batch import BatchProcessor


class ConcurrentBatchProcessor(BatchProcessor):
    def process(self) -> list[tuple]:
        records = list(self.records)
        if len(records) <= 1:
            return [self._process_record(r) for r in records]
        with ThreadPoolExecutor(max_workers=len(records), thread_name_prefix="callback") as pool:
            return list(pool.map(self._process_record, records))
