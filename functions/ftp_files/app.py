"""Scheduled: each account's FTP files (a full file a day, an update file after each change batch) and
each distributor's full ONIX catalogue, in the bucket under ftp/."""

import time
from typing import Any

from lending.files.ftp import publish
from lending.observability import count, logger, observed
from lending.services import clock
from lending.services.context import warm_up

warm_up()  # the table's client built once per container, at init (the collector paused)

SAFETY_MS = 60_000  # stop starting new accounts when less than this is left: the next run goes on


@observed
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    remaining = context.get_remaining_time_in_millis()
    started, budget = time.monotonic(), remaining - min(SAFETY_MS, remaining // 4)
    report = publish(clock.now(), deadline=lambda: (time.monotonic() - started) * 1000 > budget)
    summary = report.summary()
    count("ftp.files_written", len(summary["files"]))
    count("ftp.files_failed", len(report.errors))
    logger.info("ftp files", extra={k: v for k, v in summary.items() if k != "files"})
    return summary
