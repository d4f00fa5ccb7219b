"""loanBook latency on the local stack (HTTP -> gateway -> handler -> emulator), median and p99 over
N calls, as a ratio to the same number of bare transact_write_items calls sent straight to the same
emulator (goal: ratio <= 1.5). Two bare baselines, interleaved with the loans:
- the same calls the hub sends (store.loans.take_op: the licence line read, its update with its
  conditions, then the loan's detail put), on a licence of its own: the ratio is then the hub's own
  overhead (HTTP, gateway, handler); this is `loanbook_over_transact_median_ratio`;
- a minimal one (a tiny put + a counter decrement): moto parses and checks less, so that ratio also
  counts the emulator's cost of the richer transaction (`..._over_minimal_transact_...`)."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import requests

from tools.benches._shared import bench_stack

CALLS = int(os.environ.get("BENCH_LOANBOOK_CALLS", "500"))
BENCH_EAN = "9791000099996"


def _p99(xs: list[float]) -> float:
    return sorted(xs)[max(0, int(len(xs) * 0.99) - 1)]


def run(report: Callable[..., Any]) -> None:
    from lending.catalogue import ingest
    from lending.domain.licences import Pool, lapsed
    from lending.domain.loans import Loan
    from lending.domain.offers import LicenceTerms, Offer
    from lending.local import demo
    from lending.store import table
    from lending.store.licences import line_key, merged, seats
    from lending.store.loans import detail_put, take_op

    stack = bench_stack()
    now = datetime.now(UTC)
    big = LicenceTerms(
        loans=100_000, downloads=100_000, onsite_streams=0, offsite_streams=0, licence_days=365, max_loan_days=30
    )
    ingest.apply(
        [
            Offer(
                ean13=BENCH_EAN, gln_distributor=demo.DISTRIBUTOR, title="bench", terms=big, price_ttc=100, price_ht=95
            )
        ],
        now,
    )
    s = requests.Session()
    url = f"{stack.url}/v2/pnb-numerique"
    order_request = {
        "glnReseller": demo.RESELLER,
        "passwordReseller": demo.RESELLER_PASSWORD,
        "glnColl": demo.COLL,
        "orderId": f"BLAT{int(time.time())}",
        "orderIdColl": "BENCHLAT",
        "resellerCountry": "FR",
        "collCountry": "FR",
        "orderRequestLine": [
            {
                "ean13": BENCH_EAN,
                "glnDistributor": demo.DISTRIBUTOR,
                "unitPrice": 100,
                "unitPriceExcludingTax": 95,
                "currency": "EUR",
                "dmdDate": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        ],
    }
    order = s.post(f"{url}/sendOrder", json=order_request, timeout=30).json()
    line_id = order["orderResponseLine"][0]["orderLineId"]
    end = (now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ")

    def body(i: int) -> dict[str, Any]:
        return {
            "glnColl": demo.COLL,
            "passwordColl": demo.COLL_PASSWORD,
            "orderLineId": line_id,
            "loanId": f"BLAT{i}",
            "ean13": BENCH_EAN,
            "accessMedium": "DOWNLOAD",
            "localization": "EX_SITU",
            "loanEndDate": end,
        }

    s.post(f"{url}/loanBook", json=body(-1), timeout=30)  # warm: credentials cached, handler imported
    bare_line = s.post(
        f"{url}/sendOrder", json={**order_request, "orderId": f"BLATB{int(time.time())}"}, timeout=30
    ).json()["orderResponseLine"][0]["orderLineId"]
    ddb = boto3.client("dynamodb")
    name = table.table_name()
    ddb.put_item(TableName=name, Item={"pk": {"S": "BENCH#counter"}, "sk": {"S": "C"}, "avail": {"N": "100000"}})

    def minimal_call(i: int) -> None:
        ddb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": name,
                        "Item": {"pk": {"S": f"BENCH#loan#{i}"}, "sk": {"S": "L"}, "state": {"S": "ACTIVE"}},
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
                {
                    "Update": {
                        "TableName": name,
                        "Key": {"pk": {"S": "BENCH#counter"}, "sk": {"S": "C"}},
                        "UpdateExpression": "SET avail = avail - :one",
                        "ConditionExpression": "avail > :zero",
                        "ExpressionAttributeValues": {":one": {"N": "1"}, ":zero": {"N": "0"}},
                    }
                },
            ]
        )

    def same_shape_call(i: int) -> None:
        at = datetime.now(UTC)
        loan = Loan(
            gln_coll=demo.COLL,
            loan_id=f"BARE{i}",
            order_line_id=bare_line,
            ean13=BENCH_EAN,
            gln_distributor="",
            pool=Pool.DOWNLOAD,
            created_at=at,
            end_date=at + timedelta(days=7),
            fingerprint="bench",
            answer={"loanId": f"BARE{i}"},
        )
        # What the hub sends: the line read (one eventually consistent Query of its partition: its hot
        # item and its terms), its conditional update (the seat),
        # the loan's detail put.
        line = merged([table.de(x) or {} for x in ddb.query(
            TableName=name, KeyConditionExpression="pk = :p",
            ExpressionAttributeValues={":p": table.val(line_key(bare_line)[0])})["Items"]]) or {}
        ddb.update_item(**take_op(loan, at, line, lapsed(seats(line), at)))
        ddb.put_item(**detail_put(loan)["Put"])

    # Interleaved, so that all three see the same table: moto's transactions slow down as it grows.
    hub, bare, minimal = [], [], []
    for i in range(CALLS):
        t = time.perf_counter()
        answer = s.post(f"{url}/loanBook", json=body(i), timeout=30).json()
        hub.append(time.perf_counter() - t)
        assert answer["returnStatus"] == "OK", answer
        t = time.perf_counter()
        same_shape_call(i)
        bare.append(time.perf_counter() - t)
        t = time.perf_counter()
        minimal_call(i)
        minimal.append(time.perf_counter() - t)

    hub_med, bare_med = statistics.median(hub), statistics.median(bare)
    report("loanbook_calls", CALLS)
    report("loanbook_median_ms", hub_med * 1000, "HTTP -> gateway -> handler -> emulator")
    report("loanbook_p99_ms", _p99(hub) * 1000)
    report("bare_transact_median_ms", bare_med * 1000, "the hub's own transaction, straight to the emulator")
    report("bare_transact_p99_ms", _p99(bare) * 1000)
    report("loanbook_over_transact_median_ratio", hub_med / bare_med, "goal <= 1.5")
    report("loanbook_over_transact_p99_ratio", _p99(hub) / _p99(bare))
    minimal_med = statistics.median(minimal)
    report("minimal_transact_median_ms", minimal_med * 1000, "a tiny put + counter decrement")
    report("loanbook_over_minimal_transact_median_ratio", hub_med / minimal_med)
