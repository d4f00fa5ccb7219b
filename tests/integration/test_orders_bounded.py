"""getOrders is bounded: by orderIdColl it reads only that reference's orders, and however many lines
match, an answer holds whole orders of at most MAX_ANSWER_LINES lines, which in SOAP as in JSON stays
inside Lambda's 6 MB answer limit; the rest is had by passing the answer's `date` back as sinceDate."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from lending.local import bulk, demo
from lending.local.meter import Meter
from lending.services import order_status
from tests.helpers import coll_auth, invoke, pnb

pytestmark = pytest.mark.usefixtures("aws")
LAMBDA_ANSWER_LIMIT = 6 * 1024 * 1024
START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _lines(answer: dict[str, Any]) -> list[str]:
    return [x["orderLine"][0]["orderLineId"] for x in answer["getOrderResponseLine"]]


def test_by_reference_reads_that_reference_only() -> None:
    bulk.orders(demo.COLL, 300, START, order_id_coll="OTHER", prefix="O")
    bulk.orders(demo.COLL, 5, START + timedelta(hours=1), order_id_coll="MINE", prefix="M")
    with Meter() as usage:
        answer = pnb("getOrders", {**coll_auth(), "orderIdColl": "MINE"})
    assert len(_lines(answer)) == 5
    # One query of one order's index entry, the order itself and its 5 lines: not the 300 others.
    assert usage.requests["dynamodb.Query"] == 1
    # the account, 1 index entry, 1 order and 5 lines, each two items (its hot state, its terms), strong
    assert usage.read_units <= 13, usage


def test_orders_written_before_the_reference_key_are_found_after_the_backfill() -> None:
    from lending.store import licences, table

    bulk.orders(demo.COLL, 3, START, order_id_coll="OLD", prefix="P")
    (old,) = [o for o in licences.orders_of_coll(demo.COLL) if o["orderIdColl"] == "OLD"]
    table.client().update_item(TableName=table.table_name(), Key=table.key(old["pk"], old["sk"]),
                               UpdateExpression="REMOVE gsi3pk, gsi3sk")  # as written before the key existed
    assert "noOrder" in pnb("getOrders", {**coll_auth(), "orderIdColl": "OLD"})
    assert licences.backfill_order_refs() == 1
    assert licences.backfill_order_refs() == 0
    assert len(_lines(pnb("getOrders", {**coll_auth(), "orderIdColl": "OLD"}))) == 3


def test_an_answer_is_cut_at_whole_orders_and_the_rest_follows_from_its_date(monkeypatch: pytest.MonkeyPatch
                                                                            ) -> None:
    monkeypatch.setattr(order_status, "MAX_ANSWER_LINES", 150)
    made = bulk.orders(demo.COLL, 350, START)  # orders of 99, 99, 99, 53 lines, a second apart
    since = "2026-01-01T00:00:00Z"
    seen: list[str] = []
    for _ in range(10):
        answer = pnb("getOrders", {**coll_auth(), "sinceDate": since})
        got = _lines(answer)
        assert len(got) <= 150
        seen.extend(got)
        if answer["date"] > "2026-03-02":  # the answer's own time: nothing was left
            break
        since = answer["date"]
    assert len(made) == 4
    assert len(set(seen)) == 350  # every line, none lost
    assert len(seen) == 350  # orders a second apart: none answered twice


def test_the_largest_answer_fits_lambda_answer_limit_in_soap_and_json() -> None:
    per_order = 49  # one transaction each, every line split at once: seeding 5,150 lines in 99-line orders
    # (each split after its order) takes the emulator minutes; the 99-line order is test_line_split's
    bulk.orders(demo.COLL, order_status.MAX_ANSWER_LINES + 200, START, per_order=per_order)
    body = {**coll_auth(), "sinceDate": "2026-01-01T00:00:00Z"}
    status, answer = invoke("POST", "/v2/pnb-numerique/getOrders", body)
    assert status == 200 and len(_lines(answer)) <= order_status.MAX_ANSWER_LINES
    assert len(_lines(answer)) > order_status.MAX_ANSWER_LINES - per_order
    envelope = ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
                'xmlns:p="urn:lending-hub:pnb-numerique:v2"><s:Body><p:getOrders>'
                f'<p:glnColl>{demo.COLL}</p:glnColl><p:passwordColl>{demo.COLL_PASSWORD}</p:passwordColl>'
                '<p:sinceDate>2026-01-01T00:00:00Z</p:sinceDate></p:getOrders></s:Body></s:Envelope>')
    from lending.local import functions
    from lending.local.gateway import Gateway, build_event
    from tests.helpers import _functions

    fns = _functions()
    for path, raw, ctype in (("/v2/pnb-numerique/getOrders", json.dumps(body), "application/json"),
                             ("/v2/pnb-numerique/soap", envelope, "application/soap+xml; charset=utf-8")):
        gw = Gateway.__new__(Gateway)
        gw.routes = [r for f in fns.values() for r in f.routes]
        route, params, _ = gw.match("POST", path)
        assert route is not None
        event = build_event("POST", path, "", {"host": "hub.test", "content-type": ctype}, raw.encode(), route,
                            params, "127.0.0.1")
        result = functions.invoke(fns[route.function], event)
        assert result["statusCode"] == 200
        size = len(json.dumps(result).encode())  # what Lambda returns to API Gateway
        assert b"getOrderResponseLine" in json.dumps(result).encode()
        assert size < LAMBDA_ANSWER_LIMIT * 0.8, (path, size)
