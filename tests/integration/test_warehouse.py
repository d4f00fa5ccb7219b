"""Warehouse lending URL on emulated AWS (handlers invoked in-process): the loan as stored, the
early-return notification written to the outbox, the return through the fulfillment link, and the
DRM billing report in S3."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from lending.local import demo
from tests.helpers import coll_auth, invoke, line, loan_body, order_ok, pnb, stored_events

pytestmark = pytest.mark.usefixtures("aws")

FORM = {"content-type": "application/x-www-form-urlencoded"}


def loan_url(line_id: str) -> str:
    from lending.services.context import Ctx
    from lending.services.order_status import loan_url as url_of
    from lending.store import licences

    item = licences.get_line(line_id)
    assert item is not None
    url = url_of(Ctx(base_url="http://hub.test"), item)
    assert url
    return url


def post(url: str, **params: Any) -> tuple[int, Any]:
    return invoke("POST", urlsplit(url).path, urlencode(params), FORM)


def expire_at(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).strftime("%Y%m%dT%H%M%S")


def status(line_id: str) -> dict[str, Any]:
    return pnb("getLoanStatus", {**coll_auth(), "orderLineId": [line_id]})["loanResponseLine"][0]


def outbox_events(loan_id: str) -> list[dict[str, Any]]:
    """Read straight from the table: the early-return event the return wrote with itself."""
    return stored_events(loan_id)


def stored_loan(url: str) -> Any:
    from lending.services.links import verify_loan_link
    from lending.store import loans

    found = verify_loan_link(url.rsplit("/", 1)[1], datetime.now(UTC))
    assert found is not None
    return loans.get(*found)


def test_loan_is_kept_with_its_warehouse_fields_and_link_opens() -> None:
    (line_id,) = order_ok()
    code, url = post(loan_url(line_id), borrower_id="B1", transaction_id="T1", expire_at=expire_at(10),
                     notify_url="https://127.0.0.1:9/notify/T1", bill_drm_to="SIGB42")
    assert code == 201, url
    assert url.startswith("http://hub.test/fulfillment/")
    loan = stored_loan(url)
    assert loan.origin == "warehouse" and loan.order_line_id == line_id and loan.pool.value == "dl"
    assert loan.callback_url == "https://127.0.0.1:9/notify/T1"
    assert loan.extra == {"borrowerId": "B1", "transactionId": "T1", "billDrmTo": "SIGB42",
                          "medium": "download"}
    assert len(loan.loan_id) == 24 and loan.loan_id.isalnum()
    code, epub = invoke("GET", urlsplit(url).path)  # the link serves the loan's EPUB file
    assert code == 200 and epub.startswith("PK") and "application/epub+zip" in epub


def test_end_loan_by_distributor_writes_the_notification_with_the_ids() -> None:
    (line_id,) = order_ok()
    code, url = post(loan_url(line_id), borrower_id="READER7", transaction_id="TX-77",
                     expire_at=expire_at(10), notify_url="https://lending.example/api/notify/loan/transaction_id/TX-77/")
    assert code == 201
    loan = stored_loan(url)
    assert outbox_events(loan.loan_id) == []  # nothing until it is returned
    distributor = {"glnDistributor": demo.DISTRIBUTOR, "passwordDistributor": demo.DISTRIBUTOR_PASSWORD}
    answer = pnb("endLoan", {**distributor, "orderLineId": line_id, "loanId": loan.loan_id})
    assert answer["returnStatus"] == "OK", answer
    (event,) = outbox_events(loan.loan_id)
    assert event["url"] == "https://lending.example/api/notify/loan/transaction_id/TX-77/"
    assert event["glnColl"] == demo.COLL
    body = event["body"]
    assert (body["event"], body["orderLineId"], body["ean13"]) == ("loan.returned", line_id, "9791000000015")
    assert (body["borrowerId"], body["transactionId"]) == ("READER7", "TX-77")
    assert body["returnDate"].endswith("Z")
    assert status(line_id)["nus1"] == 2  # the place is back
    # The fulfillment link is dead, and the same transaction cannot lend again.
    assert invoke("GET", urlsplit(url).path)[0] == 403
    again = post(loan_url(line_id), borrower_id="READER7", transaction_id="TX-77")
    assert again == (400, ["no_loan_available"])


def test_return_through_the_fulfillment_link_notifies_once_and_frees_the_place() -> None:
    (line_id,) = order_ok(line("9791000000022"))  # one download place
    lend_url = loan_url(line_id)
    code, url = post(lend_url, borrower_id="B2", transaction_id="T2", expire_at=expire_at(5),
                     notify_url="https://lending.example/api/notify")
    assert code == 201
    assert post(lend_url, borrower_id="B3", transaction_id="T3", expire_at=expire_at(5)) == (
        400, ["maximum_simultaneous_downloads_reached"])
    token = url.rsplit("/", 1)[1]
    assert invoke("DELETE", f"/warehouse/loans/{token}") == (204, "")
    assert invoke("DELETE", f"/warehouse/loans/{token}") == (204, "")  # idempotent: nothing more
    assert invoke("POST", f"/warehouse/loans/{token}/return") == (204, "")
    loan = stored_loan(url)
    assert loan.state.value == "RETURNED"
    (event,) = outbox_events(loan.loan_id)
    assert event["url"] == "https://lending.example/api/notify"
    assert (event["body"]["borrowerId"], event["body"]["transactionId"]) == ("B2", "T2")
    got = status(line_id)
    assert (got["nus1"], got["nta"]) == (1, 9)  # the refused request took nothing
    # Returned loans are listed by getEndedLoans, as any early return.
    ended = pnb("getEndedLoans", {**coll_auth(), "loanId": [loan.loan_id]})
    assert [x["loanId"] for x in ended["loanEndedResponseLine"]] == [loan.loan_id]
    # The place is free again for another transaction.
    assert post(lend_url, borrower_id="B3", transaction_id="T3", expire_at=expire_at(5))[0] == 201


def test_return_link_refusals() -> None:
    (line_id,) = order_ok()
    code, url = post(loan_url(line_id), borrower_id="B4", transaction_id="T4")  # no notify_url
    assert code == 201
    token = url.rsplit("/", 1)[1]
    raw, sig = token.split(".")
    assert invoke("DELETE", f"/warehouse/loans/{raw}.{sig[:-2]}xx") == (403, ["no_loan_available"])
    assert invoke("DELETE", "/warehouse/loans/garbage") == (403, ["no_loan_available"])
    # A PNB loan's link is not a warehouse loan: this route does not return it.
    pnb_loan = pnb("loanBook", loan_body(line_id, "PNBLOAN1"))
    pnb_token = pnb_loan["link"]["url"].rsplit("/", 1)[1]
    assert invoke("DELETE", f"/warehouse/loans/{pnb_token}") == (404, ["no_loan_available"])
    # Without notify_url a return notifies nobody, but still frees the place.
    assert invoke("DELETE", f"/warehouse/loans/{token}") == (204, "")
    assert outbox_events(stored_loan(url).loan_id) == []
    assert status(line_id)["nus1"] == 1  # the PNB loan still holds its place


def test_drm_billing_report_per_lending_system_in_s3(aws: dict[str, str]) -> None:
    import boto3

    from lending.warehouse import billing, systems

    first, second = order_ok(line(), line("9791000000039"))
    pnb("declareIp", {**coll_auth(), "ips": ["10.9.0.1"]})
    a, b = loan_url(first), loan_url(second)
    # Only a lending system the platform registered can be billed; refused, nothing is taken.
    assert post(a, borrower_id="A0", transaction_id="A0", bill_drm_to="SYSA") == (
        400, ["bill_drm_to_parameter_invalid"])
    assert status(first)["nta"] == 30
    assert systems.main(["SYSA", "System A"]) == 0 and systems.main(["SYSB"]) == 0
    assert systems.main(["not/an/id"]) == 2
    for i in range(2):
        assert post(a, borrower_id=f"A{i}", transaction_id=f"A{i}", bill_drm_to="SYSA")[0] == 201
    assert post(a, borrower_id="A9", transaction_id="A9", bill_drm_to="SYSA", medium="streaming",
                localisation="off-site")[0] == 201
    assert post(a, borrower_id="A8", transaction_id="A8", bill_drm_to="SYSA", medium="streaming",
                localisation="on-site", ip_address="10.9.0.1")[0] == 201
    assert post(b, borrower_id="B0", transaction_id="B0", bill_drm_to="SYSB")[0] == 201
    # No bill_drm_to: billed to the licence's collectivity.
    assert post(b, borrower_id="C0", transaction_id="C0")[0] == 201
    assert post(a, borrower_id="A0", transaction_id="A0")[0] == 201  # a regeneration is not a second loan
    # A PNB loan of the same licence is not a warehouse loan: not in this report.
    assert pnb("loanBook", loan_body(second, "PNBNOTBILLED", ean13="9791000000039"))["returnStatus"] == "OK"
    month = datetime.now(UTC).strftime("%Y-%m")
    files = billing.produce(month)
    s3 = boto3.client("s3")

    def read(key: str) -> list[dict[str, str]]:
        body = s3.get_object(Bucket=aws["Bucket"], Key=key)["Body"].read().decode()
        return list(csv.DictReader(io.StringIO(body)))

    rows_a = read(f"drm-billing/{month}/systems/SYSA.csv")
    assert [(r["order_line_id"], r["medium"], r["localisation"], r["loans"]) for r in rows_a] == [
        (first, "download", "", "2"), (first, "streaming", "on-site", "1"),
        (first, "streaming", "off-site", "1")]
    assert {r["month"] for r in rows_a} == {month} and {r["ean13"] for r in rows_a} == {"9791000000015"}
    rows_b = read(f"drm-billing/{month}/systems/SYSB.csv")
    assert [(r["order_line_id"], r["medium"], r["loans"]) for r in rows_b] == [(second, "download", "1")]
    rows_c = read(f"drm-billing/{month}/systems/{demo.COLL}.csv")
    assert [(r["order_line_id"], r["lending_system"], r["loans"]) for r in rows_c] == [
        (second, demo.COLL, "1")]
    summary = read(f"drm-billing/{month}/summary.csv")
    assert {(r["lending_system"], r["loans"]) for r in summary} >= {("SYSA", "4"), ("SYSB", "1"),
                                                                     (demo.COLL, "1")}
    assert set(files) == {f"drm-billing/{month}/systems/{k}.csv" for k in ("SYSA", "SYSB", demo.COLL)} | {
        f"drm-billing/{month}/summary.csv"}
    # Another month has none of them, and its report still exists (an empty summary).
    empty = billing.produce("2020-01")
    assert empty == {"drm-billing/2020-01/summary.csv": "lending_system,month,loans,file\n"}


def test_drm_report_function_defaults_to_the_previous_month(aws: dict[str, str]) -> None:
    from lending.local import functions, template
    from lending.warehouse.billing import previous_month

    fn = template.functions(template.load())["WarehouseDrmReportFunction"]
    assert fn.schedules == ["cron(0 3 1 * ? *)"]
    out = functions.invoke(fn, {"source": "aws.scheduler", "detail-type": "Scheduled Event", "detail": {}})
    assert out == {"month": previous_month(datetime.now(UTC)),
                   "files": [f"drm-billing/{previous_month(datetime.now(UTC))}/summary.csv"]}
    assert functions.invoke(fn, {"month": "2026-11"})["month"] == "2026-11"


def test_sample_events_are_real_shaped(aws: dict[str, str]) -> None:
    """events/warehouse_*.json (what `sam local invoke -e` takes) go through the real handlers."""
    import json
    from pathlib import Path

    from lending.local import functions, template

    fns = template.functions(template.load())
    root = Path(__file__).resolve().parents[2] / "events"

    def run(fn: str, name: str) -> Any:
        return functions.invoke(fns[fn], json.loads((root / name).read_text()))

    lent = run("WarehouseLendFunction", "warehouse_lend.json")  # an order line this hub never sold
    assert (lent["statusCode"], json.loads(lent["body"])) == (400, ["no_loan_available"])
    # The sample's line made real: same body, this hub's own line and token.
    (line_id,) = order_ok()
    event = json.loads((root / "warehouse_lend.json").read_text())
    event["body"] = event["body"].replace("expire_at=20261201T120000", f"expire_at={expire_at(10)}")
    _, _, _, line_part, token = urlsplit(loan_url(line_id)).path.split("/")[:5]
    event["pathParameters"] = {"orderLineId": line_part, "token": token}
    lent = functions.invoke(fns["WarehouseLendFunction"], event)
    assert lent["statusCode"] == 201 and lent["body"].startswith("http://hub.test/fulfillment/")
    back = run("WarehouseReturnFunction", "warehouse_return.json")  # a link this hub never signed
    assert (back["statusCode"], json.loads(back["body"])) == (403, ["no_loan_available"])
    assert run("WarehouseDrmReportFunction", "warehouse_drm_report.json")["month"] == "2026-11"
