"""getOrders at 10, 1,000 and 50,000 lines (orders of 99 licence lines, lending.local.bulk) on the local
stack over HTTP: by orderIdColl (one reference's orders only) and by sinceDate, each answer's time and
size, and for 50,000 lines how many answers (each passing the last one's `date` back) read them all.
An answer holds at most services.orders.MAX_ANSWER_LINES lines: never near Lambda's 6 MB."""

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
        bulk.orders(demo.COLL2, n, start, order_id_coll=f"N{n}x{tag}"[:16], prefix=f"G{tag}n{n}x")
        write_s = time.perf_counter() - t
        t = time.perf_counter()
        raw = s.post(url, json={**auth, "orderIdColl": f"N{n}x{tag}"[:16]}, timeout=600).content
        took = time.perf_counter() - t
        answer = json.loads(raw)
        report(f"get_orders_by_ref_{n}_lines_ms", took * 1000,
               f"{len(answer['getOrderResponseLine'])} lines answered, {len(raw) / 1e6:.2f} MB "
               f"(written in {write_s:.0f} s)")
    # By sinceDate from the first bulk set on: every line of the three sets (and what other benches ordered).
    since, pages, lines, biggest = "2001-01-01T00:00:00Z", 0, 0, 0
    t = time.perf_counter()
    first_ms = 0.0
    while pages < 100:
        t_page = time.perf_counter()
        raw = s.post(url, json={**auth, "sinceDate": since}, timeout=600).content
        if pages == 0:
            first_ms = (time.perf_counter() - t_page) * 1000
        answer = json.loads(raw)
        pages += 1
        lines += len(answer.get("getOrderResponseLine", []))
        biggest = max(biggest, len(raw))
        if answer["date"] >= "2026" or not answer.get("getOrderResponseLine"):
            break
        since = answer["date"]
    report("get_orders_since_first_answer_ms", first_ms, "the first of a sinceDate read over 51,010+ lines")
    report("get_orders_since_all_lines_s", time.perf_counter() - t, f"{lines} lines in {pages} answers")
    report("get_orders_largest_answer_mb", biggest / 1e6, "Lambda's answer limit: 6 MB")
