"""`make redrive` / `python -m lending.notify.redrive`: send the events parked in the callback
dead-letter queue back to the callback queue, for a fresh series of tries.

    python -m lending.notify.redrive                        # CALLBACK_QUEUE_URL from the environment
    python -m lending.notify.redrive --stack lending-hub    # the deployed stack's CallbackQueueUrl output
    python -m lending.notify.redrive --endpoint http://127.0.0.1:PORT   # `make run` (emulated AWS)

Poison messages (not events at all) stay parked: sending them back would only park them again.
An event acknowledged meanwhile is harmless to send back: the delivery sees it and sends nothing."""

from __future__ import annotations

import argparse
import os
import sys

from .. import aws
from ..domain.values import Record
from . import events, queues


class Report(Record):
    moved: int
    kept: int  # poison, or not accepted by the queue: still in the dead-letter queue

    def __init__(self, moved: int = 0, kept: int = 0) -> None:
        self._init(moved, kept)


def redrive(queue_url: str, limit: int | None = None, wait_s: int = 0) -> Report:
    dlq = queues.redrive(queue_url).dead_letter_url
    if dlq is None:
        raise SystemExit(f"{queue_url} has no dead-letter queue")
    sqs = queues.client()
    report = Report()
    seen: set[str] = set()  # an event moved in this run and parked again meanwhile waits for the next run
    while limit is None or report.moved + report.kept < limit:
        got = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=wait_s,
                                  VisibilityTimeout=60, MessageAttributeNames=["All"])
        messages = got.get("Messages", [])
        if not messages:
            break
        batch: dict[str, str] = {}
        handles: dict[str, str] = {}
        for m in messages:
            try:
                event = events.from_message(m["Body"])
            except events.Poison:
                report.kept += 1  # hidden for a minute, then back in the dead-letter queue
                continue
            if event.event_id in seen or event.event_id in batch:
                report.kept += 1
                continue
            batch[event.event_id], handles[event.event_id] = m["Body"], m["ReceiptHandle"]
        if not batch:
            continue
        accepted = queues.send_batch(queue_url, batch, {k: {"redriven": "1"} for k in batch})
        for event_id in accepted:
            sqs.delete_message(QueueUrl=dlq, ReceiptHandle=handles[event_id])
            seen.add(event_id)
        report.moved += len(accepted)
        report.kept += len(batch) - len(accepted)
    return report


def _queue_url(args: argparse.Namespace) -> str:
    if args.queue_url:
        return str(args.queue_url)
    if args.endpoint:
        from ..local.emulator import LOCAL_ENV
        from ..local.resources import physical_name

        for k, v in LOCAL_ENV.items():
            os.environ.setdefault(k, v)
        os.environ["AWS_ENDPOINT_URL"] = args.endpoint
        return str(queues.client().get_queue_url(QueueName=physical_name("CallbackQueue"))["QueueUrl"])
    if args.stack:
        stack = aws.client("cloudformation").describe_stacks(StackName=args.stack)["Stacks"][0]
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
        return outputs["CallbackQueueUrl"]
    if os.environ.get("CALLBACK_QUEUE_URL"):
        return os.environ["CALLBACK_QUEUE_URL"]
    raise SystemExit("which queue? --queue-url, --stack, --endpoint or CALLBACK_QUEUE_URL")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="redrive", description=__doc__.split("\n\n")[0])
    parser.add_argument("--queue-url", help="the callback queue (its dead-letter queue is found from it)")
    parser.add_argument("--stack", help="a deployed stack: its CallbackQueueUrl output")
    parser.add_argument("--endpoint", help="emulated AWS of `make run` (printed at its start)")
    parser.add_argument("--limit", type=int, help="at most this many messages")
    args = parser.parse_args(argv)
    url = _queue_url(args)
    report = redrive(url, args.limit, wait_s=0 if args.endpoint else 1)
    print(f"redriven: {report.moved}  still parked: {report.kept}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
