"""DynamoDB requests each PNB service makes on its happy path (warm container: credentials cached),
counted at the table client, on the local stack over HTTP. Goal for loanBook: <= 3."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from tools.benches._shared import bench_stack, count_requests


def run(report: Callable[..., Any]) -> None:
    from lending.local import demo

    stack = bench_stack()
    url = f"{stack.url}/v2/pnb-numerique"
    s = requests.Session()
    now = datetime.now(UTC)

    def post(service: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = s.post(f"{url}/{service}", json=body, timeout=30).json()
        assert answer["returnStatus"] in ("OK", "WARNING", "NOT_IMPLEMENTED"), (service, answer)
        return answer

    reseller = {"glnReseller": demo.RESELLER, "passwordReseller": demo.RESELLER_PASSWORD}
    coll = {"glnColl": demo.COLL, "passwordColl": demo.COLL_PASSWORD}
    dist = {"glnDistributor": demo.DISTRIBUTOR, "passwordDistributor": demo.DISTRIBUTOR_PASSWORD}

    def order(order_id: str) -> dict[str, Any]:
        return {
            **reseller,
            "glnColl": demo.COLL,
            "orderId": order_id,
            "orderIdColl": "BENCHREQ",
            "resellerCountry": "FR",
            "collCountry": "FR",
            "orderRequestLine": [
                {
                    "ean13": "9791000000015",
                    "glnDistributor": demo.DISTRIBUTOR,
                    "unitPrice": 2400,
                    "unitPriceExcludingTax": 2275,
                    "currency": "EUR",
                    "dmdDate": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
                }
            ],
        }

    def loan(line_id: str, loan_id: str) -> dict[str, Any]:
        return {
            **coll,
            "orderLineId": line_id,
            "loanId": loan_id,
            "ean13": "9791000000015",
            "accessMedium": "DOWNLOAD",
            "localization": "EX_SITU",
            "loanEndDate": (now + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    # Warm every credential first (a cold container verifies the hash once: +1 GetItem).
    line_id = post("sendOrder", order("BREQWARM"))["orderResponseLine"][0]["orderLineId"]
    post("getOrders", {**coll, "orderIdColl": "BENCHREQ"})
    calls: list[tuple[str, Callable[[], Any]]] = [
        ("sendOrder", lambda: post("sendOrder", order("BREQ1"))),
        (
            "checkAvailability",
            lambda: post(
                "checkAvailability",
                {
                    **reseller,
                    "resellerCountry": "FR",
                    "collCountry": "FR",
                    "checkAvailabilityLine": [
                        {
                            "ean13": "9791000000015",
                            "glnDistributor": demo.DISTRIBUTOR,
                            "unitPrice": 2400,
                            "unitPriceExcludingTax": 2275,
                            "currency": "EUR",
                        }
                    ],
                },
            ),
        ),
        ("getOrders", lambda: post("getOrders", {**coll, "orderIdColl": "BENCHREQ"})),
        ("declareIp", lambda: post("declareIp", {**coll, "ips": ["192.0.2.77"]})),
        ("loanBook", lambda: post("loanBook", loan(line_id, "BREQLOAN1"))),
        (
            "consultBook",
            lambda: post(
                "consultBook",
                {
                    **loan(line_id, "BREQC1"),
                    "accessMedium": "STREAMING",
                    "localization": "IN_SITU",
                    "ipAddress": "192.0.2.77",
                    "consultEndDate": loan(line_id, "x")["loanEndDate"],
                },
            ),
        ),
        ("getLoanStatus", lambda: post("getLoanStatus", {**coll, "orderLineId": [line_id]})),
        ("endLoan", lambda: post("endLoan", {**dist, "orderLineId": line_id, "loanId": "BREQLOAN1"})),
        ("getEndedLoans", lambda: post("getEndedLoans", {**coll, "loanId": ["BREQLOAN1"]})),
        ("cancelOrder", lambda: post("cancelOrder", {**reseller, "orderId": "BREQ1"})),
        (
            "getOffers",
            lambda: post(
                "getOffers", {**reseller, "sinceDate": (now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")}
            ),
        ),
    ]
    # Warm the distributor's credentials too.
    s.post(f"{url}/endLoan", json={**dist, "orderLineId": line_id, "loanId": "NOSUCH"}, timeout=30)
    for name, call in calls:
        with count_requests() as counted:
            call()
        report(f"ddb_requests_{name}", counted.total, " ".join(f"{k}={v}" for k, v in sorted(counted.ops.items())))
