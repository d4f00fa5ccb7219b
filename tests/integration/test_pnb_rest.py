"""Dilicom's REST binding on the handlers: every service at /v2/pnb-numerique/json/{service}, by GET with query
parameters and by POST with a form body in Spring notation, authenticated by HTTP Basic (401 without, 403 wrong);
the older path is the same door; an unknown service is NOT_IMPLEMENTED; what real clients send is accepted."""

from __future__ import annotations

import base64
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest

from lending.local import demo
from lending.local.template import functions, load
from lending.pnb.operations import OPERATIONS
from lending.store import loans as loan_store
from tests.helpers import coll_auth, invoke, iso, order_ok

pytestmark = pytest.mark.usefixtures("aws")
REST = "/v2/pnb-numerique/json"
SERVICES = ("sendOrder", "cancelOrder", "checkAvailability", "getOffers", "getOffersForDistributor", "getOrders",
            "declareIp", "loanBook", "consultBook", "getLoanStatus", "getEndedLoans", "endLoan")
LATER = ("returnLoan", "extendLoan", "getUserAgent")  # CONTRACT 3's later services: the same binding
PARIS = ZoneInfo("Europe/Paris")


def basic(login: str, password: str) -> dict[str, str]:
    return {"authorization": "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()}


COLL = basic(demo.COLL, demo.COLL_PASSWORD)
RESELLER = basic(demo.RESELLER, demo.RESELLER_PASSWORD)
DISTRIBUTOR = basic(demo.DISTRIBUTOR, demo.DISTRIBUTOR_PASSWORD)
FORM = {"content-type": "application/x-www-form-urlencoded"}


def get(service: str, params: list[tuple[str, str]], auth: dict[str, str], expect: int = 200) -> dict[str, Any]:
    status, answer = invoke("GET", f"{REST}/{service}?{urlencode(params)}", None, auth)
    assert status == expect, (service, status, answer)
    assert isinstance(answer, dict) and answer["requestId"]
    return answer


def post(service: str, params: list[tuple[str, str]], auth: dict[str, str], expect: int = 200,
         headers: dict[str, str] = FORM, path: str = REST) -> dict[str, Any]:
    status, answer = invoke("POST", f"{path}/{service}", urlencode(params), {**headers, **auth})
    assert status == expect, (service, status, answer)
    assert isinstance(answer, dict) and answer["requestId"]
    return answer


def order_line_params(i: int, ean13: str, ttc: int, ht: int) -> list[tuple[str, str]]:
    p = f"orderRequestLine[{i}]."
    dmd = (datetime.now(PARIS) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")  # no zone: read in Paris
    return [(p + "quantity", "1"), (p + "glnDistributor", demo.DISTRIBUTOR), (p + "ean13", ean13),
            (p + "unitPrice", str(ttc)), (p + "unitPriceExcludingTax", str(ht)), (p + "taxRate", "550"),
            (p + "currency", "EUR"), (p + "dmdDate", dmd)]


def send_order(order_id: str) -> list[str]:
    params = [("glnColl", demo.COLL), ("orderId", order_id), ("orderIdColl", "RESTCOLL"),
              ("resellerCountry", "FR"), ("collCountry", "FR"),
              *order_line_params(0, "9791000000015", 2400, 2275), *order_line_params(1, "9791000000022", 1500, 1422)]
    answer = post("sendOrder", params, RESELLER)
    assert answer["returnStatus"] == "OK", answer
    return [x["orderLineId"] for x in answer["orderResponseLine"]]


def end_in(days: int) -> str:
    """PHP's DateTime::ISO8601, as PMB writes a loan's end: basic offset."""
    return (datetime.now(PARIS) + timedelta(days=days)).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%S%z")


def test_every_service_answers_by_get_and_by_form_post_with_basic_auth() -> None:
    stamp = datetime.now(UTC).strftime("%H%M%S%f")[:10]
    line15, line22 = send_order(f"R{stamp}")
    seen: dict[str, str] = {}
    seen["checkAvailability"] = get("checkAvailability", [
        ("glnColl", demo.COLL), ("resellerCountry", "FR"), ("collCountry", "FR"),
        ("checkAvailabilityLine[0].ean13", "9791000000015"), ("checkAvailabilityLine[0].glnDistributor",
                                                              demo.DISTRIBUTOR),
        ("checkAvailabilityLine[0].unitPrice", "2400"), ("checkAvailabilityLine[0].unitPriceExcludingTax", "2275"),
        ("checkAvailabilityLine[0].currency", "EUR")], RESELLER)["returnStatus"]
    since = ("sinceDate", (datetime.now(PARIS) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S"))  # no zone
    seen["getOffers"] = get("getOffers", [since], RESELLER)["returnStatus"]
    seen["getOffersForDistributor"] = get("getOffersForDistributor", [("glnDistributor", demo.DISTRIBUTOR), since],
                                          RESELLER)["returnStatus"]
    orders = get("getOrders", [("orderIdColl", "RESTCOLL"), since], COLL)
    seen["getOrders"] = orders["returnStatus"]
    mine = [x for x in orders["getOrderResponseLine"] if x["orderLine"][0]["orderLineId"] == line15]
    assert mine and mine[0]["orderLine"][0]["nta"] == 30 and "NTA" not in mine[0]["orderLine"][0]
    ips = [("ips", "192.0.2.1,192.0.2.50"), ("ips", "198.51.100.7")]  # a repeated key is an array
    seen["declareIp"] = post("declareIp", ips, COLL)["returnStatus"]
    loan = post("loanBook", [("orderLineId", line15), ("loanId", f"r_{stamp}-1"), ("ean13", "9791000000015"),
                             ("accessMedium", "DOWNLOAD"), ("localization", "EX_SITU"),
                             ("loanEndDate", end_in(14))], COLL)
    seen["loanBook"] = loan["returnStatus"]
    assert loan["loanId"] == f"r_{stamp}-1" and loan["link"]["url"] and loan["protection"] == "NONE"
    consult = get("consultBook", [("orderLineId", line15), ("loanId", f"c{stamp}"), ("ean13", "9791000000015"),
                                  ("accessMedium", "STREAMING"), ("localization", "IN_SITU"),
                                  ("ipAddress", "192.0.2.10"), ("consultEndDate", end_in(1))], COLL)
    seen["consultBook"] = consult["returnStatus"]
    status = get("getLoanStatus", [("orderLineId[0]", line15), ("orderLineId[1]", line22)], COLL)
    seen["getLoanStatus"] = status["returnStatus"]
    first = status["loanResponseLine"][0]
    assert (first["nta"], first["nus1"], first["nus2"]) == (28, 1, 1) and "NTA" not in first, consult
    seen["endLoan"] = post("endLoan", [("orderLineId", line15), ("loanId", f"r_{stamp}-1")],
                           DISTRIBUTOR)["returnStatus"]
    ended = get("getEndedLoans", [("loanId[0]", f"r_{stamp}-1")], COLL)
    seen["getEndedLoans"] = ended["returnStatus"]
    assert [x["loanId"] for x in ended["loanEndedResponseLine"]] == [f"r_{stamp}-1"]
    seen["cancelOrder"] = post("cancelOrder", [("orderId", f"R{stamp}"), ("orderLineId[0]", line22)],
                               RESELLER)["returnStatus"]
    seen["sendOrder"] = "OK"
    assert seen == dict.fromkeys(SERVICES, "OK") | {"cancelOrder": seen["cancelOrder"]}, seen
    assert seen["cancelOrder"] in ("OK", "WARNING")  # a line may be past its withdrawal window: still processed


@pytest.mark.parametrize("service", SERVICES + LATER)
def test_without_credentials_401_with_wrong_ones_403(service: str) -> None:
    for method in ("GET", "POST"):
        status, answer = invoke(method, f"{REST}/{service}", "" if method == "POST" else None, FORM)
        assert (status, answer["returnStatus"]) == (401, "AUTHENTICATION_ERROR"), (method, answer)
        assert answer["requestId"]
        for wrong in (basic(demo.COLL, "nope"), basic(demo.RESELLER, "nope"), basic("not-a-gln", "x"),
                      {"authorization": "Basic !!!"}, basic(demo.DISTRIBUTOR, demo.COLL_PASSWORD)):
            status, answer = invoke(method, f"{REST}/{service}", "" if method == "POST" else None, {**FORM, **wrong})
            assert (status, answer["returnStatus"], answer["returnMessage"]) == (
                403, "AUTHENTICATION_ERROR", "Bad credentials"), (method, wrong, answer)


def test_the_wrong_role_is_acces_denied_and_parameters_still_authenticate() -> None:
    assert get("endLoan", [("orderLineId", "1"), ("loanId", "x")], COLL)["returnStatus"] == "ACCES_DENIED"
    # The spec's GLN/password parameters (SOAP-era and today's JSON callers) keep working, without Basic.
    answer = get("getLoanStatus", [*coll_auth().items(), ("orderLineId", "000000000000000000000000")], {})
    assert answer["loanResponseLine"][0]["returnStatus"] == "NOT_FOUND"
    # PMB's returnLoan/extendLoan name them login/password.
    answer = post("getLoanStatus", [("login", demo.COLL), ("password", demo.COLL_PASSWORD),
                                    ("orderLineId", "000000000000000000000000")], {})
    assert answer["loanResponseLine"][0]["returnStatus"] == "NOT_FOUND"
    # Wrong ones in parameters: the spec's AUTHENTICATION_ERROR, as over SOAP.
    answer = post("getLoanStatus", [("glnColl", demo.COLL), ("passwordColl", "nope"), ("orderLineId", "1")], {})
    assert answer["returnStatus"] == "AUTHENTICATION_ERROR"


def test_an_unknown_service_is_not_implemented_on_both_paths() -> None:
    for path in (f"{REST}/renewSubscription", "/v2/pnb-numerique/renewSubscription"):
        for method in ("GET", "POST"):
            status, answer = invoke(method, path, "" if method == "POST" else None, COLL)
            assert (status, answer["returnStatus"]) == (200, "NOT_IMPLEMENTED"), (path, method, answer)
            assert answer["requestId"] and "renewSubscription" in answer["returnMessage"]


def test_older_path_json_bodies_and_form_bodies_under_a_json_content_type_are_one_door() -> None:
    (lid,) = order_ok(orderIdColl="RESTSAME")
    params = [("orderLineId[0]", lid)]
    by_form_as_json = post("getLoanStatus", params, COLL, headers={"content-type": "application/json"})
    by_old_path = post("getLoanStatus", params, COLL, path="/v2/pnb-numerique")
    status, by_json = invoke("POST", f"{REST}/getLoanStatus", json.dumps({"orderLineId": [lid]}), COLL)
    assert status == 200
    php = invoke("POST", f"{REST}/getLoanStatus", f"orderLineId%5B0%5D={lid}", COLL)[1]  # PHP's brackets
    for answer in (by_form_as_json, by_old_path, by_json, php):
        line = answer["loanResponseLine"][0]
        assert (line["orderLineId"], line["nta"], line["returnStatus"]) == (lid, 30, "OK"), answer


def test_what_real_clients_send_is_accepted() -> None:
    stamp = datetime.now(UTC).strftime("%H%M%S%f")[:10]
    (lid,) = order_ok(orderIdColl="RESTTOL")
    loan_id = f"12_{stamp[-6:]}-20191203"
    answer = post("loanBook", [
        ("glnLoaner", demo.LIBRARY), ("glnContractor", demo.COLL),  # PMB: its own GLN as the contractor
        ("orderLineId", lid), ("loanId", loan_id), ("ean13", "9791000000015"), ("accessMedium", "DOWNLOAD"),
        ("localization", "EX_SITU"), ("loanEndDate", end_in(10)),
        ("callBackUrl", "https://library.example/s.php?h=abc"),
        ("DRMinfo.userAgent", "PMB-1"), ("DRMinfo.readerPass", "q1w2e3+/="), ("DRMinfo.readerHint", "my cat"),
        ("DRMinfo.readerId", "READER-0042"), ("userInfo.year", "1984"), ("userInfo.gender", "F")], COLL)
    assert answer["returnStatus"] == "OK", answer
    stored = loan_store.get(demo.COLL, loan_id)
    assert stored is not None and stored.callback_url == "https://library.example/s.php?h=abc"
    assert stored.extra["loanerColl"] == demo.LIBRARY
    # Kept for the DRM, except the LCP passphrase: it only derives the licence's user key, never stored.
    assert stored.extra["drm"] == {"userAgent": "PMB-1", "readerHint": "my cat", "readerId": "READER-0042"}
    assert stored.extra["reader"] == {"year": "1984", "gender": "F"}
    # A contractor other than the caller is still checked.
    other = post("loanBook", [("glnContractor", demo.COLL2), ("orderLineId", lid), ("loanId", "other1"),
                              ("ean13", "9791000000015"), ("accessMedium", "DOWNLOAD"), ("localization", "EX_SITU"),
                              ("loanEndDate", end_in(10))], COLL)
    assert other["returnStatus"] == "INVALID_ARGUMENTS" and "glnContractor" in other["returnMessage"]


def test_reader_data_is_never_echoed_in_logs_or_messages(capfd: pytest.CaptureFixture[str],
                                                          caplog: pytest.LogCaptureFixture) -> None:
    from lending.observability import logger

    (lid,) = order_ok(orderIdColl="RESTPRIV")
    caplog.set_level(logging.INFO)  # every log line of ours (botocore's DEBUG dumps the stored item itself)
    level = logger.log_level
    logger.setLevel(logging.INFO)
    secret_hint, secret_id = "HintOfMyPrivateLife", "ReaderCard998877"
    base = [("orderLineId", lid), ("ean13", "9791000000015"), ("accessMedium", "DOWNLOAD"),
            ("localization", "EX_SITU"), ("loanEndDate", end_in(10)), ("DRMinfo.readerHint", secret_hint),
            ("DRMinfo.readerId", secret_id)]
    assert post("loanBook", [*base, ("loanId", "priv1")], COLL)["returnStatus"] == "OK"
    bad = post("loanBook", [*base, ("loanId", "priv2"), ("userInfo.year", secret_id)], COLL)
    assert bad["returnStatus"] == "INVALID_ARGUMENTS" and "userInfo.year" in bad["returnMessage"]
    assert secret_id not in bad["returnMessage"]
    logger.setLevel(level)
    out = capfd.readouterr()
    records = [str(r.__dict__) for r in caplog.records]
    assert any("'operation': 'loanBook'" in r for r in records)  # the door's own lines were seen, extras and all
    for text in (out.out, out.err, caplog.text, *records):
        assert secret_hint not in text and secret_id not in text


def test_get_loan_status_return_ended_loan_lists_the_loans_ended_early() -> None:
    (lid,) = order_ok(orderIdColl="RESTENDED")
    for loan_id in ("ended1", "kept1"):
        assert post("loanBook", [("orderLineId", lid), ("loanId", loan_id), ("ean13", "9791000000015"),
                                 ("accessMedium", "DOWNLOAD"), ("localization", "EX_SITU"),
                                 ("loanEndDate", end_in(10))], COLL)["returnStatus"] == "OK"
    assert post("endLoan", [("orderLineId", lid), ("loanId", "ended1")], DISTRIBUTOR)["returnStatus"] == "OK"
    plain = get("getLoanStatus", [("orderLineId[0]", lid), ("returnEndedLoan", "0")], COLL)["loanResponseLine"][0]
    assert "pnbLoanList" not in plain
    line = get("getLoanStatus", [("orderLineId[0]", lid), ("returnEndedLoan", "1")], COLL)["loanResponseLine"][0]
    (ended,) = line["pnbLoanList"]
    assert ended["loanId"] == "ended1" and ended["endLoanDate"][:10] == iso(datetime.now(UTC))[:10]


def test_template_routes_every_service_on_the_rest_path_and_a_catch_all() -> None:
    routes = {(r.method, r.path): r.function for f in functions(load()).values() for r in f.routes}
    assert set(SERVICES + LATER) == set(OPERATIONS)  # every operation has its own routes, none the catch-all
    for service in SERVICES + LATER:
        owner = routes[("POST", f"/v2/pnb-numerique/{service}")]
        for method in ("GET", "POST"):
            assert routes[(method, f"{REST}/{service}")] == owner
        assert routes[("GET", f"/v2/pnb-numerique/{service}")] == owner
    for path in (f"{REST}/{{service}}", "/v2/pnb-numerique/{service}"):
        assert routes[("GET", path)] == routes[("POST", path)] == "PnbUnknownServiceFunction"


def test_the_later_services_by_get_and_by_form_post_with_basic_auth() -> None:
    """returnLoan, extendLoan, getUserAgent on the binding exactly like the twelve: Basic alone (PMB also puts
    login/password in the body), GET or a form POST, a `+0100` end, the counters in lower case."""
    stamp = datetime.now(UTC).strftime("%H%M%S%f")[:10]
    (lid,) = order_ok(orderIdColl="RESTLATER")
    for loan_id in (f"7x{stamp}x1", f"7x{stamp}x2"):
        assert post("loanBook", [("orderLineId", lid), ("loanId", loan_id), ("ean13", "9791000000015"),
                                 ("accessMedium", "DOWNLOAD"), ("localization", "EX_SITU"),
                                 ("loanEndDate", end_in(10))], COLL)["returnStatus"] == "OK"
    agents = get("getUserAgent", [], COLL)
    assert agents["returnStatus"] == "OK" and {"userAgentId", "appName"} <= set(agents["listUserAgent"][0])
    assert post("getUserAgent", [("glnContractor", demo.RESELLER)], RESELLER)["returnStatus"] == "OK"
    new_end = (datetime.now(PARIS) + timedelta(days=20)).replace(hour=0, minute=0, second=0, microsecond=0)
    renewed = get("extendLoan", [("glnContractor", demo.COLL), ("orderLineId", lid), ("loanId", f"7x{stamp}x1"),
                                 ("date", new_end.strftime("%Y-%m-%dT%H:%M:%S%z"))], COLL)
    assert (renewed["returnStatus"], renewed["loanEndDate"]) == ("OK", iso(new_end.astimezone(UTC))), renewed
    zoneless = post("extendLoan", [("orderLineId", lid), ("loanId", f"7x{stamp}x1"),
                                   ("date", (new_end + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S"))], COLL)
    assert zoneless["loanEndDate"] == iso((new_end + timedelta(days=1)).astimezone(UTC)), zoneless  # Paris time
    returned = post("returnLoan", [("login", demo.COLL), ("password", demo.COLL_PASSWORD),
                                   ("glnContractor", demo.COLL), ("loanId", f"7x{stamp}x2"), ("orderLineId", lid)],
                    COLL, headers={"content-type": "application/json"})  # PMB's form under a JSON type
    assert returned["returnStatus"] == "OK", returned
    line = get("getLoanStatus", [("orderLineId[0]", lid), ("returnEndedLoan", "1")], COLL)["loanResponseLine"][0]
    assert (line["nta"], line["nus1"]) == (28, 1)
    assert [x["loanId"] for x in line["pnbLoanList"]] == [f"7x{stamp}x2"]
    # Another collectivity's Basic reaches none of the caller's loans; a distributor is not a collectivity.
    other = post("returnLoan", [("orderLineId", lid), ("loanId", f"7x{stamp}x1")],
                 basic(demo.COLL2, demo.COLL2_PASSWORD))
    assert other["returnStatus"] == "NOT_FOUND", other
    assert get("extendLoan", [("orderLineId", lid), ("loanId", f"7x{stamp}x1"), ("date", end_in(30))],
               DISTRIBUTOR)["returnStatus"] == "ACCES_DENIED"


def test_text_is_checked_on_the_bindings_decoding() -> None:
    """A form value (query or body, Spring notation) that is not text is INVALID_ARGUMENTS naming the
    parameter as sent; a body that is not text at all, or a name that is not, is the binding's 400."""
    base = [("orderLineId", "L1"), ("loanId", "x1"), ("ean13", "9791000000015"), ("accessMedium", "DOWNLOAD"),
            ("localization", "EX_SITU"), ("loanEndDate", end_in(10))]
    for hint in ("my\x01cat", "my\x7fcat"):
        answer = post("loanBook", [*base, ("DRMinfo.readerHint", hint)], COLL)
        assert answer["returnStatus"] == "INVALID_ARGUMENTS" and "DRMinfo.readerHint" in answer["returnMessage"]
    # A percent-escape of a lone surrogate (not UTF-8): named, never silently replaced.
    status, answer = invoke("POST", f"{REST}/loanBook", urlencode(base) + "&DRMinfo.readerId=%ED%A0%80",
                            {**FORM, **COLL})
    assert status == 200 and answer["returnStatus"] == "INVALID_ARGUMENTS", answer
    assert "DRMinfo.readerId" in answer["returnMessage"]
    answer = get("loanBook", [*base, ("userInfo.gender", "F\x00")], COLL)
    assert answer["returnStatus"] == "INVALID_ARGUMENTS" and "userInfo.gender" in answer["returnMessage"]
    # The same in a JSON object: the path names it.
    status, answer = invoke("POST", f"{REST}/loanBook", json.dumps({**dict(base), "DRMinfo": {"readerHint": "a\x1b"}}),
                            COLL)
    assert status == 200 and "DRMinfo.readerHint" in answer["returnMessage"], answer
    # Bytes that are not UTF-8, and a parameter name that is not text: nobody can read the request.
    for raw in (b"loanId=caf\xe9", b"\x01=1"):
        status, answer = invoke("POST", f"{REST}/loanBook", raw, {**FORM, **COLL})
        assert status == 400 and answer["returnStatus"] == "INVALID_ARGUMENTS" and answer["requestId"], answer
