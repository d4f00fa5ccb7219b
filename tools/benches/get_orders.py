"""getOrders at 10, 1,000 and 50,000 lines (orders of 49 licence lines, lending.local.bulk) on the local
stack over HTTP: by orderIdColl (one reference's orders only) and by sinceDate, each answer's time and
size. Why 49: an order of up to 49 lines is written in one transaction with every line split
(docs/line-split.md); a 99-line order's last 50 are split one by one after it, and the emulator took 23
minutes to write the 50,000 lines that way (28 s a thousand), most of a `make bench`. What is measured,
the answer, reads the same lines either way; the 99-line order is test_line_split's. The emulator's
answer serialiser costs ~3 ms a line read (moto, not the hub): these times are its.
An answer holds at most services.order_status.MAX_ANSWER_LINES lines: never near Lambda's 6 MB."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests

from tools.benches._shared import bench_stack

SIZES = (10, 1000, 50_000)


def run(report: Callable[..., Any]) -> None:
    from lending.local import bulk, demo

    stack = bench_stack()
    url = f"{stack.url}/v2/pnb-numerique/getOrders"
    s = requests.Session()
    auth = {"glnColl": demo.COLL2, "passwordColl": demo.COLL2_PASSWORD}
    tag = int(time.time()) % 100_000
    for n in SIZES:
        start = datetime(2001 + SIZES.index(n), 1, 1, tzinfo=UTC)
        t = time.perf_counter()
        bulk.orders(demo.COLL2, n, start, order_id_coll=f"N{n}x{tag}"[:16], prefix=f"G{tag}s{SIZES.index(n)}x",
                    per_order=49)  # orderIds <= 16 characters: 1,021 orders for 50,000 lines
        write_s = time.perf_counter() - t
        t = time.perf_counter()
        raw = s.post(url, json={**auth, "orderIdColl": f"N{n}x{tag}"[:16]}, timeout=600).content
        took = time.perf_counter() - t
        answer = json.loads(raw)
        report(f"get_orders_by_ref_{n}_lines_ms", took * 1000,
               f"{len(answer['getOrderResponseLine'])} lines answered, {len(raw) / 1e6:.2f} MB "
               f"(written in {write_s:.0f} s)")
    # By sinceDate over every line of the three sets (and whatever other benches ordered): the first answer;
    # reading them all takes one answer per MAX_ANSWER_LINES (each passing the last one's `date` back).
    from lending.services.order_status import MAX_ANSWER_LINES

    t = time.perf_counter()
    raw = s.post(url, json={**auth, "sinceDate": "2001-01-01T00:00:00Z"}, timeout=600).content
    took = time.perf_counter() - t
    answer = json.loads(raw)
    got = len(answer["getOrderResponseLine"])
    report("get_orders_since_first_answer_ms", took * 1000,
           f"{got} of {sum(SIZES)}+ lines, {len(raw) / 1e6:.2f} MB; all of them in "
           f"{-(-sum(SIZES) // MAX_ANSWER_LINES)}+ answers")
    report("get_orders_largest_answer_mb", len(raw) / 1e6, "Lambda's answer limit: 6 MB")
