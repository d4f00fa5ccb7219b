"""A licence line is two items of one partition (docs/line-split.md): its hot state, the only item a
loan's, an end's or a hold's conditional write targets, and its immutable terms, in the indexes. Every
reader sees them merged, as one line."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lending.local import bulk, demo
from lending.local.meter import Meter
from lending.store import licences as line_store
from lending.store import table
from tests.helpers import line, loan_body, order_body, order_ok, pnb

pytestmark = pytest.mark.usefixtures("aws")
EAN = "9791000000015"
RESELLER = {"glnReseller": demo.RESELLER, "passwordReseller": demo.RESELLER_PASSWORD}


def _items(line_id: str) -> dict[str, dict[str, object]]:
    pk, _ = line_store.line_key(line_id)
    return {i["sk"]: i for i in table.query(None, "pk", pk, consistent=True)}


def test_an_ok_line_is_written_split_and_read_whole() -> None:
    answer = pnb("sendOrder", order_body(line(EAN), line(EAN, dist="0000000000000")))
    ok, refused = (x["orderLineId"] for x in answer["orderResponseLine"])
    items = _items(ok)
    assert set(items) == {"LINE", "TERMS"} and set(items["LINE"]) <= line_store.HOT
    assert {"gsi1pk", "gsi2pk", "gsi3pk", "lendingToken", "glnColl"} <= set(items["TERMS"])
    assert not {"gsi1pk", "gsi2pk", "gsi3pk"} & set(items["LINE"])
    whole = line_store.get_line(ok)
    assert whole is not None and whole["status"] == "OK" and whole["glnColl"] == demo.COLL and "loans" in whole
    assert line_store.get_line(ok, consistent=False) == whole
    assert line_store.get_lines([ok, refused]) == {ok: whole, refused: line_store.get_line(refused)}
    # a refused line has no licence: it stays one item
    assert set(_items(refused)) == {"LINE"}
    # the indexes give the line whole (its terms are indexed, its hot state read beside them)
    (lic,) = [x for x in line_store.licences_of(demo.COLL, EAN, datetime.now(UTC)) if x.order_line_id == ok]
    assert lic.status == "OK" and lic.gln_coll == demo.COLL
    assert any(x["orderLineId"] == ok and "loans" in x for x in line_store.sales_of(demo.DISTRIBUTOR, EAN))
    assert any(x.order_line_id == ok for x in line_store.all_licences(datetime.now(UTC)))


def test_an_order_of_99_lines_is_one_transaction_and_every_line_ends_split() -> None:
    (order_id,) = bulk.orders(demo.COLL, 99, datetime(2026, 3, 1, 8, 0, tzinfo=UTC), prefix="BIG")
    order = line_store.get_order(demo.RESELLER, order_id)
    assert order is not None and len(order["lineIds"]) == 99
    lines = line_store.get_lines(order["lineIds"])
    assert len(lines) == 99 and all(x["status"] == "OK" and "glnColl" in x for x in lines.values())
    assert all(set(_items(x)) == {"LINE", "TERMS"} for x in order["lineIds"])


def test_cancelling_a_line_takes_it_out_of_the_v1_look_up() -> None:
    (line_id,) = order_ok(line(EAN))
    assert line_id in {x.order_line_id for x in line_store.licences_of(demo.COLL, EAN, datetime.now(UTC))}
    order_id = next(o for o in line_store.orders_of_coll(demo.COLL) if line_id in o["lineIds"])["orderId"]
    answer = pnb("cancelOrder", {**RESELLER, "orderId": order_id})
    assert answer["returnStatus"] == "OK", answer
    items = _items(line_id)
    assert items["LINE"]["status"] == "CANCELLED" and "gsi2pk" not in items["TERMS"]
    assert line_id not in {x.order_line_id for x in line_store.licences_of(demo.COLL, EAN, datetime.now(UTC))}


def test_a_loan_refused_on_the_terms_is_refused_from_the_read_with_no_write() -> None:
    """The licence's window, EAN and owner are judged on the line as read: a loan past them writes nothing."""
    (line_id,) = order_ok(line(EAN, dmd=datetime.now(UTC) + timedelta(days=2)))  # not lendable yet
    with Meter() as usage:
        answer = pnb("loanBook", loan_body(line_id, "EARLY1"))
    assert answer["returnStatus"] != "OK" and usage.total_write_units == 0, (answer, usage)
    (line_id,) = order_ok(line(EAN))
    with Meter() as usage:
        answer = pnb("loanBook", loan_body(line_id, "WRONGEAN1", ean13="9791000000022"))
    assert answer["returnStatus"] != "OK" and usage.total_write_units == 0, (answer, usage)
    assert pnb("loanBook", loan_body(line_id, "RIGHT1"))["returnStatus"] == "OK"
