"""`make run`: the whole hub on loopback. Also what the end-to-end tests start.

    emulator (moto, one lock) -> resources from template.yaml -> demo data
    -> gateway on 127.0.0.1:PORT invoking the real handlers -> schedule timers -> queue pollers
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from typing import Any

import boto3

from . import demo, resources
from . import functions as fns
from . import template as tpl_mod
from .emulator import Emulator
from .gateway import Gateway
from .streams import StreamSource
from .streams import batches as stream_batches

log = logging.getLogger("lending.local")
POLL_IDLE_S = 0.05  # an empty queue is asked again after this
# moto keeps its backends in the process: tests that run it in-process (the `aws` fixture) share the
# queues of a local stack started in the same process, and clear this while they run.
POLLING = threading.Event()
POLLING.set()


class Stack:
    def __init__(self, port: int = 3000, emulator_port: int = 0, with_demo: bool = True,
                 schedules: bool = True, ftp_port: int | None = 0) -> None:
        self.port, self.emulator_port = port, emulator_port
        self.ftp_port = ftp_port  # None: no FTP server; 0: a free port
        self.with_demo, self.with_schedules = with_demo, schedules
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self) -> Stack:
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self.emulator = Emulator(self.emulator_port).start()
        self.emulator.use()
        self.template = tpl_mod.load()
        self.refs = resources.create_all(self.template)
        self.functions = tpl_mod.functions(self.template)
        self.gateway = Gateway(self.functions, self.port)
        self.url = self.gateway.url
        os.environ.update(resources.environment(self.template, self.refs, {
            "PUBLIC_BASE_URL": self.url,
            "LINK_SIGNING_KEY": os.environ.get("LINK_SIGNING_KEY", "local-stack-signing-key-not-secret-0001"),
            "HUB_LOCAL": "1",  # the local stack allows loopback callback URLs
            "POWERTOOLS_LOG_LEVEL": os.environ.get("POWERTOOLS_LOG_LEVEL", "WARNING"),
        }))
        if self.with_demo:
            demo.load()
        self.gateway.start()
        self.ftp = None
        if self.ftp_port is not None:
            from .ftp import FtpServer

            self.ftp = FtpServer(self.ftp_port).start()  # the FTP files of the bucket (docs/ftp.md)
        if self.with_schedules:
            for fn in self.functions.values():
                for expression in fn.schedules:
                    self._spawn(self._timer, fn, tpl_mod.rate_seconds(expression))
        for fn in self.functions.values():
            for queue in fn.queues:
                self._spawn(self._poller, fn, self.refs[queue])
            for table, patterns, retries in fn.streams:
                self._spawn(self._stream_poller, fn, StreamSource(self.refs[table], patterns), retries)
        return self

    def _spawn(self, target: Any, *args: Any) -> None:
        t = threading.Thread(target=target, args=args, daemon=True, name=f"{target.__name__}-{args[0].name}")
        t.start()
        self.threads.append(t)

    def _timer(self, fn: tpl_mod.Function, every: float) -> None:
        # Locally a schedule runs at most once a minute, even "rate(1 day)" (handy for a person trying it).
        every = min(every, 60.0)
        while not self.stopping.wait(every):
            try:
                fns.invoke(fn, {"source": "aws.scheduler", "detail-type": "Scheduled Event", "detail": {}})
            except Exception:
                log.exception("scheduled %s failed", fn.name)

    def run_schedule(self, name: str) -> Any:
        return fns.invoke(self.functions[name], {"source": "aws.scheduler", "detail-type": "Scheduled Event"})

    def _poller(self, fn: tpl_mod.Function, queue_url: str) -> None:
        """Like Lambda's SQS event source: batches of up to 10, partial failures left on the queue."""
        sqs = boto3.client("sqs")
        while not self.stopping.is_set():
            if not POLLING.is_set():
                self.stopping.wait(POLL_IDLE_S)
                continue
            try:
                # Short polls: a long poll would hold the emulator's one lock for its whole wait and
                # stall every other request of the stack.
                got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0,
                                          AttributeNames=["All"], MessageAttributeNames=["All"])
                messages = got.get("Messages", [])
                if not messages:
                    self.stopping.wait(POLL_IDLE_S)
                    continue
                event = {"Records": [{
                    "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                    "attributes": m.get("Attributes", {}), "messageAttributes": m.get("MessageAttributes", {}),
                    "md5OfBody": m.get("MD5OfBody", ""), "eventSource": "aws:sqs",
                    "eventSourceARN": self.refs.get(f"{queue_url}.Arn", ""), "awsRegion": "eu-west-3",
                } for m in messages]}
                try:
                    result = fns.invoke(fn, event) or {}
                    failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
                except Exception:
                    log.exception("queue consumer %s failed", fn.name)
                    failed = {m["MessageId"] for m in messages}
                for m in messages:
                    if m["MessageId"] not in failed:
                        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
            except Exception:
                if not self.stopping.is_set():
                    log.exception("poller %s", fn.name)
                    time.sleep(1)

    def _stream_poller(self, fn: tpl_mod.Function, source: StreamSource, retries: int) -> None:
        """Like Lambda's DynamoDB stream event source: filtered records in batches of up to 10, in order;
        a batch's reported failures (and the records after the first) are handed over again, up to
        `retries` times, then the batch's position goes to the dead-letter queue, as deployed."""
        while not self.stopping.is_set():
            if not POLLING.is_set():
                self.stopping.wait(POLL_IDLE_S)
                continue
            try:
                records = source.poll()
                if not records:
                    self.stopping.wait(POLL_IDLE_S)
                    continue
                for batch in stream_batches(records):
                    self._hand_over(fn, batch, retries)
            except Exception:
                if not self.stopping.is_set():
                    log.exception("stream poller %s", fn.name)
                    time.sleep(1)

    def _hand_over(self, fn: tpl_mod.Function, batch: list[dict[str, Any]], retries: int) -> None:
        for _ in range(retries + 1):
            try:
                failed = {f["itemIdentifier"] for f in (fns.invoke(fn, {"Records": batch}) or {}).get(
                    "batchItemFailures", [])}
            except Exception:
                log.exception("stream consumer %s failed", fn.name)
                failed = {r["dynamodb"].get("SequenceNumber") for r in batch}
            if not failed:
                return
            first = min(i for i, r in enumerate(batch) if r["dynamodb"].get("SequenceNumber") in failed)
            batch = batch[first:]
            self.stopping.wait(POLL_IDLE_S)
        log.error("stream records of %s given up after %d retries: %s", fn.name, retries,
                  [r["dynamodb"].get("SequenceNumber") for r in batch])

    def stop(self) -> None:
        self.stopping.set()
        self.gateway.stop()
        if self.ftp is not None:
            self.ftp.stop()
        self.emulator.stop()

    def summary(self) -> str:
        lines = [
            f"Lending hub running on {self.url}  (emulated AWS on {self.emulator.url})",
            "",
            "Routes:",
            *sorted(f"  {r.method:6} {self.url}{r.path}" for r in self.gateway.routes),
            "",
            "Schedules (deployed; here each runs at least once a minute): "
            + ", ".join(f"{f.name} {e}" for f in self.functions.values() for e in f.schedules),
            "",
            "Demo accounts (CONTRACT section 2):",
            f"  reseller      {demo.RESELLER} / {demo.RESELLER_PASSWORD}   second: {demo.RESELLER2} / "
            f"{demo.RESELLER2_PASSWORD}",
            f"  collectivity  {demo.COLL} / {demo.COLL_PASSWORD}  v1 key {demo.COLL_API_KEY}  member library "
            f"{demo.LIBRARY}",
            f"                second: {demo.COLL2} / {demo.COLL2_PASSWORD}  v1 key {demo.COLL2_API_KEY}",
            f"  distributor   {demo.DISTRIBUTOR} / {demo.DISTRIBUTOR_PASSWORD}   second: {demo.DISTRIBUTOR2} / "
            f"{demo.DISTRIBUTOR2_PASSWORD}",
            f"  contractor    {demo.CONTRACTOR}",
            f"  lending system {demo.LENDING_SYSTEM} (warehouse bill_drm_to)",
            "",
            f"Library and distributor console: {self.url}/console   (password {demo.CONSOLE_PASSWORD} for each; "
            "the code is the TOTP of the secret, `make console-codes` prints the current ones)",
            *(f"  {role:5} {email:36} {'member library ' + library if library else coll:30} TOTP secret {secret}"
              for email, coll, role, library, secret in demo.STAFF),
            f"  demo patron {demo.DEMO_PATRON} ({demo.DEMO_PATRON_EMAIL}) has two loans: find them under Patrons",
            "",
            f"Patron space: {self.url}/sign_in   library {demo.COLL}, identifier {demo.DEMO_PATRON}, password "
            f"(their API key) {demo.demo_patron_key()}: one loan to download, one to read online",
            "",
            "Try (PNB by Dilicom's REST binding, as library systems call it: docs/pnb-rest.md):",
            f"  curl -s -u {demo.COLL}:{demo.COLL_PASSWORD} "
            f"'{self.url}/v2/pnb-numerique/json/getOrders?sinceDate=2020-01-01T00:00:00'",
            f"  curl -s -u {demo.COLL}:{demo.COLL_PASSWORD} {self.url}/v2/pnb-numerique/json/getUserAgent "
            f"-d glnContractor={demo.COLL}",
            f"  curl -s -H 'X-Api-Key: {demo.COLL_API_KEY}' {self.url}/v1/loans.json",
            "",
            *([f"FTP files (PMB's /HUB/O/, the ONIX catalogues in /HUB/ONIX/): {self.ftp.url}, passive mode, "
               "login = a collectivity's or reseller's GLN and PNB password (FTP_PORT moves it); written "
               "by FtpFilesFunction within a minute of a change",
               f"  curl -s --user {demo.COLL}:{demo.COLL_PASSWORD} {self.ftp.url}/HUB/O/", ""]
              if self.ftp else []),
            "Emails sent (library API v1, notify=1) are printed here and saved under .local/mail/.",
            "",
            "Ctrl-C stops it.",
        ]
        return "\n".join(lines)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)  # "found credentials/endpoint" noise
    stack = Stack(port=int(os.environ.get("PORT", "3000")),
                  emulator_port=int(os.environ.get("EMULATOR_PORT", "3001")),
                  ftp_port=int(os.environ.get("FTP_PORT", "2121"))).start()
    try:
        demo.lend_demo_patron(stack.url)  # a patron for the console to find
    except Exception:
        log.exception("the console's demo patron could not be lent to")
    print(stack.summary(), flush=True)
    from .mail import watch

    watch(stack.stopping)  # library API v1 emails: printed here and saved under .local/mail/
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    with contextlib.suppress(KeyboardInterrupt):
        done.wait()
    stack.stop()


if __name__ == "__main__":
    main()
