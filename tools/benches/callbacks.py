"""Early-return callbacks: how many events one callback function delivers per second to a local
listener, and the delay from a return (endLoan answered over HTTP) to the callback's arrival on the
local stack. Both against emulated AWS (moto behind its one lock), so they are local figures."""

from __future__ import annotations

import json
import logging
import os
import statistics
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
EVENTS = int(os.environ.get("BENCH_CALLBACKS_EVENTS", "200"))
RETURNS = int(os.environ.get("BENCH_CALLBACKS_RETURNS", "100"))
NTA_PER_LINE = 30  # demo offer 9791000000015


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _bodies(tag: str, count: int, callback_url: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """PNB requests for `count` loans with a callback, each returned at once: (service, body) in order."""
    from lending.local import demo

    now = datetime.now(UTC)
    coll = {"glnColl": demo.COLL, "passwordColl": demo.COLL_PASSWORD}
    for n in range(count):
        if n % NTA_PER_LINE == 0:
            yield "sendOrder", {
                "glnReseller": demo.RESELLER, "passwordReseller": demo.RESELLER_PASSWORD,
                "glnColl": demo.COLL, "orderId": f"{tag}{n}", "orderIdColl": f"{tag}{n}",
                "resellerCountry": "FR", "collCountry": "FR",
                "orderRequestLine": [{"ean13": "9791000000015", "glnDistributor": demo.DISTRIBUTOR,
                                      "unitPrice": 2400, "unitPriceExcludingTax": 2275, "currency": "EUR",
                                      "quantity": 1, "dmdDate": _iso(now - timedelta(days=1))}]}
        loan_id = f"{tag}L{n}"
        yield "loanBook", {**coll, "orderLineId": "", "loanId": loan_id, "ean13": "9791000000015",
                           "accessMedium": "DOWNLOAD", "localization": "EX_SITU",
                           "loanEndDate": _iso(now + timedelta(days=14)), "callbackUrl": callback_url}
        yield "endLoan", {"glnDistributor": demo.DISTRIBUTOR, "orderLineId": "", "loanId": loan_id,
                          "passwordDistributor": demo.DISTRIBUTOR_PASSWORD}


def _drive(tag: str, count: int, callback_url: str, call: Callable[[str, dict[str, Any]], dict[str, Any]],
           on_return: Callable[[str, Callable[[], None]], None] | None = None) -> None:
    line_id = ""
    for service, body in _bodies(tag, count, callback_url):
        if "orderLineId" in body:
            body["orderLineId"] = line_id
        if service == "endLoan" and on_return is not None:
            on_return(body["loanId"], lambda s=service, b=body: _ok(call(s, b)))
            continue
        answer = _ok(call(service, body))
        if service == "sendOrder":
            line_id = answer["orderResponseLine"][0]["orderLineId"]


def _ok(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer["returnStatus"] == "OK", answer
    return answer


def throughput(report: Callable[..., Any]) -> None:
    """One function instance: the table's stream read 10 records at a time, the handler invoked on them."""
    from lending.local import demo, functions, resources, streams, template
    from lending.local.emulator import Emulator
    from lending.local.receiver import Receiver
    from lending.notify import delivery
    from lending.pnb.operations import run
    from lending.services.context import Ctx

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    emulator = Emulator().start()
    emulator.use()
    try:
        tpl = template.load()
        refs = resources.create_all(tpl)
        os.environ.update(resources.environment(tpl, refs, {"HUB_LOCAL": "1", "PUBLIC_BASE_URL": "http://hub.test",
                                                             "LINK_SIGNING_KEY": "bench-signing-key"}))
        demo.load()
        delivery.forget()
        fn = template.functions(tpl)["CallbackDeliveryFunction"]
        with Receiver(secret=demo.COLL_CALLBACK_SECRET) as rx:
            (_, patterns, _), = fn.streams
            source = streams.StreamSource(os.environ["TABLE_NAME"], patterns)  # from here on, as deployed
            _drive("TP", EVENTS, f"{rx.url}/returns", lambda s, b: run(s, b, Ctx())[1])
            started = time.perf_counter()
            while len(rx.acknowledged()) < EVENTS and time.perf_counter() - started < 120:
                for batch in streams.batches(source.poll()):  # the returns' writes: first tries
                    result = functions.invoke(fn, {"Records": batch})
                    assert result["batchItemFailures"] == [], result
            elapsed = time.perf_counter() - started
            delivered = len(rx.acknowledged())
        assert delivered == EVENTS, f"{delivered} of {EVENTS} delivered"
        assert all(r.signed for r in rx.received)
        report("callbacks_delivered_per_s", delivered / elapsed,
               f"{delivered} events, one function, batches of 10 from the table's stream, signed, loopback "
               "listener")
    finally:
        # moto's backends live in the process: empty them for the local stack that comes next.
        urllib.request.urlopen(urllib.request.Request(f"{emulator.url}/moto-api/reset", method="POST")).read()
        emulator.stop()


def latency(report: Callable[..., Any]) -> None:
    """On the local stack: endLoan over HTTP, then wait for the callback; one return at a time."""
    from lending.local import demo
    from lending.local.receiver import Receiver
    from lending.local.stack import Stack
    from lending.notify import delivery

    stack = Stack(port=0, schedules=False).start()
    delivery.forget()

    def call(service: str, body: dict[str, Any]) -> dict[str, Any]:
        data = json.dumps(body).encode()
        request = urllib.request.Request(f"{stack.url}/v2/pnb-numerique/{service}", data=data, method="POST",
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return dict(json.loads(response.read()))

    delays: list[float] = []
    try:
        with Receiver(secret=demo.COLL_CALLBACK_SECRET) as rx:

            def timed_return(loan_id: str, end_loan: Callable[[], None]) -> None:
                before = len(rx.received)
                started = time.time()
                end_loan()
                got = rx.wait_for(lambda r: len(r) > before, timeout=30)
                assert len(got) > before and got[-1].json()["loanId"] == loan_id, "callback missing"
                delays.append((got[-1].at - started) * 1000)

            _drive("LT", RETURNS, f"{rx.url}/returns", call, timed_return)
    finally:
        stack.stop()
    delays.sort()
    report("callbacks_return_to_delivery_median_ms", statistics.median(delays),
           f"{len(delays)} returns, endLoan sent -> callback received, local stack")
    report("callbacks_return_to_delivery_p99_ms", delays[min(len(delays) - 1, round(0.99 * len(delays)) - 1)])


def run(report: Callable[..., Any]) -> None:
    sys.path.insert(0, str(ROOT / "layers/common/python"))
    saved = dict(os.environ)
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    try:
        throughput(report)
        latency(report)
    finally:
        from lending.store import table

        os.environ.clear()
        os.environ.update(saved)
        table.reset_client()


if __name__ == "__main__":
    from tools.bench import report as _report

    run(_report)
