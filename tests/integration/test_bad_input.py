"""Bad input of any kind gets a PNB code and a message: never a 500, never a half-written record."""

from __future__ import annotations

import random
from typing import Any

import pytest

from lending.domain.codes import Status
from lending.local import demo
from lending.pnb.operations import OPERATIONS
from lending.store import table
from tests.helpers import invoke

pytestmark = pytest.mark.usefixtures("aws")

WEIRD: list[Any] = [None, "", " ", "x" * 3000, 0, -1, 10**30, 1.5, True, [], {}, [None], {"a": 1}, "é\u0000\ud7ff",
                    "2026-13-45T99:99:99Z", "3012345000017", "9791000000015", "DOWNLOAD", "IN_SITU", ["1.2.3.4"]]
FIELDS = ["orderId", "orderIdColl", "glnColl", "glnContractor", "glnDelivery", "resellerCountry", "collCountry",
          "orderRequestLine", "orderLineId", "checkAvailabilityLine", "sinceDate", "returnLinesWithError", "ips",
          "loanerColl", "loanId", "ean13", "accessMedium", "localization", "loanEndDate", "consultEndDate",
          "ipAddress", "callbackUrl", "date", "glnDistributor", "lastConnection", "glnContrator"]
CREDENTIALS = {
    ("glnReseller", "passwordReseller"): (demo.RESELLER, demo.RESELLER_PASSWORD),
    ("glnColl", "passwordColl"): (demo.COLL, demo.COLL_PASSWORD),
    ("glnDistributor", "passwordDistributor"): (demo.DISTRIBUTOR, demo.DISTRIBUTOR_PASSWORD),
    ("login", "password"): (demo.COLL, demo.COLL_PASSWORD),  # returnLoan, extendLoan, getUserAgent
}


def _count_items() -> int:
    return int(table.client().scan(TableName=table.table_name(), Select="COUNT")["Count"])


@pytest.mark.parametrize("service", sorted(OPERATIONS))
def test_random_bodies_never_fail_the_server(service: str) -> None:
    rng = random.Random(service)
    op = OPERATIONS[service]
    gln_field, password_field = op.credentials
    gln, password = CREDENTIALS[op.credentials]
    before = _count_items()
    for _ in range(30):
        body: dict[str, Any] = {gln_field: gln, password_field: password}
        for field in rng.sample(FIELDS, rng.randint(0, len(FIELDS))):
            if field not in body:
                body[field] = rng.choice(WEIRD)
        if service == "sendOrder" and rng.random() < 0.5:
            body["orderRequestLine"] = [{f: rng.choice(WEIRD) for f in rng.sample(FIELDS, 5)} for _ in range(3)]
        status, answer = invoke("POST", f"/v2/pnb-numerique/{service}", body)
        assert status == 200, (body, answer)
        assert answer["requestId"] and answer["returnStatus"] in Status.__members__, answer
        if answer["returnStatus"] != "OK":
            assert answer.get("returnMessage"), answer
    # Random input wrote nothing but what a valid request may write (an IP declaration, a valid order).
    assert _count_items() - before <= 30


def test_garbage_bodies_are_400_with_a_request_id() -> None:
    for raw in ["null", "42", '"text"', "{", "\x00\x01", "[" * 5000, "[" * 100_000 + "]" * 100_000,
                "orderLineId[999]=1", "DRMinfo=x&DRMinfo.readerId=y"]:
        status, answer = invoke("POST", "/v2/pnb-numerique/loanBook", raw)
        assert status == 400 and answer["returnStatus"] == "INVALID_ARGUMENTS" and answer["requestId"], raw
    # An empty body is a readable request without parameters: without credentials, the REST binding's 401;
    # the older path answers AUTHENTICATION_ERROR as it always did.
    status, answer = invoke("POST", "/v2/pnb-numerique/json/loanBook", "")
    assert status == 401 and answer["returnStatus"] == "AUTHENTICATION_ERROR" and answer["requestId"]
    status, answer = invoke("POST", "/v2/pnb-numerique/loanBook", "")
    assert status == 200 and answer["returnStatus"] == "AUTHENTICATION_ERROR" and answer["requestId"]


def test_absurdly_nested_json_is_a_client_error_at_every_door() -> None:
    from urllib.parse import urlsplit

    from tests.helpers import order_ok, pnb

    order_ok(orderIdColl="NESTED")
    got = pnb("getOrders", {"glnColl": demo.COLL, "passwordColl": demo.COLL_PASSWORD, "orderIdColl": "NESTED"})
    loan_url = urlsplit(got["getOrderResponseLine"][0]["orderLine"][0]["loanUrl"]).path
    nested = "[" * 20_000 + "]" * 20_000  # deep enough for a RecursionError, small enough to be read
    json_type = {"content-type": "application/json"}
    for path, headers in [(loan_url, json_type), ("/v1/media/9791000000015/loans.json",
                                                  {**json_type, "x-api-key": demo.COLL_API_KEY})]:
        status, answer = invoke("POST", path, nested, headers=headers)
        assert status == 400, (path, answer)


@pytest.mark.parametrize("when", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "9999-06-01T00:00:00Z",
                                  "1969-12-31T23:59:59Z"])
def test_dates_at_the_calendar_s_edges_are_invalid_arguments(when: str) -> None:
    """Shifted to UTC they leave the calendar, or a licence's days added to them would: refused, not a 500."""
    from tests.helpers import coll_auth, line, loan_body, order_body, order_ok, pnb

    (lid,) = order_ok(line())
    ordered = pnb("sendOrder", order_body(line(dmdDate=when)))
    assert ordered["returnStatus"] == "WARNING"  # the order is kept with its line in error (returnLinesWithError)
    (refused,) = ordered["orderResponseLine"]
    assert refused["returnStatus"] == "INVALID_ARGUMENTS" and "dmdDate" in refused["returnMessage"]
    before = _count_items()
    distributor = {"glnDistributor": demo.DISTRIBUTOR, "passwordDistributor": demo.DISTRIBUTOR_PASSWORD}
    for service, body in [("getOrders", {**coll_auth(), "sinceDate": when}),
                          ("getEndedLoans", {**coll_auth(), "date": when}),
                          ("loanBook", loan_body(lid, "EDGE1", loanEndDate=when)),
                          ("consultBook", {**loan_body(lid, "EDGE2", medium="STREAMING"), "consultEndDate": when,
                                           "ipAddress": "192.0.2.1"}),
                          ("getOffers", {"glnReseller": demo.RESELLER, "passwordReseller": demo.RESELLER_PASSWORD,
                                         "sinceDate": when}),
                          ("endLoan", {**distributor, "orderLineId": lid, "loanId": "EDGE1", "date": when})]:
        answer = pnb(service, body)
        assert answer["returnStatus"] == "INVALID_ARGUMENTS", (service, answer)
        assert "1970 to 2999" in answer["returnMessage"], (service, answer)
    assert _count_items() == before


FORM = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}


@pytest.mark.parametrize("path, body, cookie, expected", [
    # found by the fuzzer: hmac.compare_digest raises TypeError on text with non-ASCII characters
    ("/console/licences", "csrf=%C3%A9t%C3%A9", "lh_pre=x", 403),
    ("/console/sign-in", "csrf=x&email=a%40b.example&password=x", "lh_pre=%C3%A9", 403),
    ("/sign_in", "csrf=%C3%A9&library=3012345000031&member=m1&password=x", "lh_pre=x", 403),
    ("/console/subscription/3012345000017.%C3%A9", "csrf=x", "lh_pre=x", 404),  # a link that is not one
])
def test_non_ascii_tokens_are_refused_not_a_500(path: str, body: str, cookie: str, expected: int) -> None:
    status, page = invoke("POST", path, body, {**FORM, "cookie": cookie})
    assert status == expected and "<html" in str(page)


def test_a_non_ascii_password_is_a_wrong_password() -> None:
    from lending.local import demo
    from lending.services import console

    key = console.derive_patron_key(demo.COLL, "m1", 0)
    assert key.isascii()
    status, page = invoke("POST", "/sign_in", "csrf=x&library=3012345000031&member=m1&password=%C3%A9t%C3%A9",
                          {**FORM, "cookie": "lh_pre=x"})
    assert status == 401 and "<html" in str(page)
    status, _ = invoke("GET", "/fulfillment/YWJj.%C3%A9t%C3%A9")
    assert status < 500
