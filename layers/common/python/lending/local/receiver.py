"""A callback receiver as a library system would run one: checks the signature, answers a status.
Used by the tests and the bench, and to watch callbacks arrive from `make run`:

    python -m lending.local.receiver --port 8099 --secret cbDemoSecret2026
    # then lend with "callbackUrl": "http://127.0.0.1:8099/returns" and end the loan
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any

from ..notify.signing import verify
from .server import BurstServer


@dataclass(frozen=True)
class Received:
    at: float  # time.time() when it arrived
    path: str
    headers: dict[str, str]
    body: bytes
    signed: bool | None  # None: no secret to check with
    answered: int

    def json(self) -> Any:
        return json.loads(self.body)


class Receiver:
    """An HTTP listener on 127.0.0.1 (free port by default). `answers` are the statuses of the first
    requests, in order (then 200); `delay_s` makes it slow; `hold` (an Event) keeps every answer back
    until it is set (bounded by 30 s), so a test can prove what happens while a receiver hangs."""

    def __init__(self, secret: str | None = None, answers: Iterable[int] = (), port: int = 0,
                 delay_s: float = 0.0, on_receive: Callable[[Received], None] | None = None,
                 hold: threading.Event | None = None) -> None:
        self.secret, self.delay_s, self.on_receive, self.hold = secret, delay_s, on_receive, hold
        self.answers: deque[int] = deque(answers)
        self.received: list[Received] = []
        self.arrived = 0  # requests started (a slow answer is counted before it is given)
        self.changed = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.changed:
                    receiver.arrived += 1
                    receiver.changed.notify_all()
                if receiver.delay_s:
                    time.sleep(receiver.delay_s)
                if receiver.hold is not None:
                    receiver.hold.wait(30)
                with receiver.changed:
                    status = receiver.answers.popleft() if receiver.answers else 200
                signed = None if receiver.secret is None else verify(receiver.secret, body,
                                                                      self.headers.get("X-Signature"))
                if signed is False:
                    status = 401
                got = Received(time.time(), self.path, {k.lower(): v for k, v in self.headers.items()}, body,
                               signed, status)
                with receiver.changed:  # recorded before the answer: whoever got the answer sees it here
                    receiver.received.append(got)
                    receiver.changed.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if receiver.on_receive:
                    receiver.on_receive(got)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = BurstServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True, name="callback-receiver")

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 10.0) -> list[Received]:
        """Block until `predicate(received)` holds (or the timeout passes); returns what arrived."""
        with self.changed:
            self.changed.wait_for(lambda: predicate(self.received), timeout)
            return list(self.received)

    def acknowledged(self) -> list[Received]:
        with self.changed:
            return [r for r in self.received if 200 <= r.answered < 300]


def main() -> None:
    parser = argparse.ArgumentParser(description="print the callbacks the hub sends")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--secret", help="the collectivity's callback secret, to check X-Signature")
    args = parser.parse_args()

    def show(r: Received) -> None:
        print(f"{r.headers.get('x-event-id')}  signature {'ok' if r.signed else r.signed}  "
              f"-> {r.answered}  {r.body.decode(errors='replace')}", flush=True)

    receiver = Receiver(args.secret, port=args.port, on_receive=show).start()
    print(f"listening on {receiver.url} (Ctrl-C stops)", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        receiver.stop()


if __name__ == "__main__":
    main()
