"""The PNB JSON door over HTTP on the local stack: orders, loans and tenants, with a real HTTP client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from lending.local import demo
from tests.helpers import coll_auth, iso, line, loan_body, order_body, unused_ips

DIST = {"glnDistributor": demo.DISTRIBUTOR, "passwordDistributor": demo.DISTRIBUTOR_PASSWORD}


@pytest.fixture(scope="module")
def call(stack: Any) -> Any:
    session = requests.Session()

    def call(service: str, body: Any, expect: int = 200) -> dict[str, Any]:
        r = session.post(f"{stack.url}/v2/pnb-numerique/{service}", json=body, timeout=30)
        assert r.status_code == expect, r.text
        assert r.headers["Content-Type"] == "application/json"
        answer = r.json()
        assert answer["requestId"]
        return answer

    return call


def test_order_lend_return_cycle(call: Any) -> None:
    answer = call("sendOrder", order_body(line(), line(demo.UNKNOWN_EAN), orderIdColl="E2E1"))
    assert answer["returnStatus"] == "WARNING"
    lid = answer["orderResponseLine"][0]["orderLineId"]
    orders = call("getOrders", {**coll_auth(), "orderIdColl": "E2E1"})
    (ok_line,) = orders["getOrderResponseLine"]
    assert ok_line["orderLine"][0]["loanUrl"].startswith("http://127.0.0.1:")
    loan = call("loanBook", loan_body(lid, "E2ELOAN1"))
    assert loan["returnStatus"] == "OK"
    link = requests.get(loan["link"]["url"], timeout=30)
    assert link.status_code == 200
    status = call("getLoanStatus", {**coll_auth(), "orderLineId": [lid]})["loanResponseLine"][0]
    assert (status["nus1"], status["nta"]) == (1, 29)
    assert call("endLoan", {**DIST, "orderLineId": lid, "loanId": "E2ELOAN1"})["returnStatus"] == "OK"
    assert requests.get(loan["link"]["url"], timeout=30).status_code == 403  # returned: the link is dead
    ended = call("getEndedLoans", {**coll_auth(), "loanId": ["E2ELOAN1"]})
    assert [x["loanId"] for x in ended["loanEndedResponseLine"]] == ["E2ELOAN1"]
    assert call("endLoan", {**DIST, "orderLineId": lid, "loanId": "E2ELOAN1"})["returnStatus"] == "ACCES_DENIED"


def test_every_return_code_of_the_six_loan_services(call: Any) -> None:
    lid = call("sendOrder", order_body(line("9791000000022")))["orderResponseLine"][0]["orderLineId"]
    body = loan_body(lid, "CODES1", ean13="9791000000022")
    seen = {}
    seen["ok"] = call("loanBook", body)["returnStatus"]
    seen["busy"] = call("loanBook", {**body, "loanId": "CODES2"})["returnStatus"]
    seen["dup"] = call("loanBook", {**body, "accessMedium": "STREAMING"})["returnStatus"]
    seen["wrong_ean"] = call("loanBook", {**body, "loanId": "C3", "ean13": "9791000000015"})["returnStatus"]
    seen["bad_end"] = call(
        "loanBook", {**body, "loanId": "C4", "loanEndDate": iso(datetime.now(UTC) - timedelta(days=1))}
    )["returnStatus"]
    seen["auth"] = call("loanBook", {**body, "passwordColl": "bad"})["returnStatus"]
    # The same on-site consultation, before and after its address is declared (this title has no streams): an
    # address of this test's own, which no other test of the session has declared.
    (ip,) = unused_ips()
    consult = {
        **coll_auth(),
        "orderLineId": lid,
        "loanId": "C5",
        "ean13": "9791000000022",
        "accessMedium": "STREAMING",
        "localization": "IN_SITU",
        "consultEndDate": iso(datetime.now(UTC) + timedelta(hours=1)),
        "ipAddress": ip,
    }
    seen["in_situ"] = call("consultBook", consult)["returnStatus"]
    seen["declare"] = call("declareIp", {**coll_auth(), "ips": [ip]})["returnStatus"]
    seen["declare_big"] = call("declareIp", {**coll_auth(), "ips": ["10.0.0.0,10.9.0.0"]})["returnStatus"]
    seen["stream_none"] = call("consultBook", consult)["returnStatus"]
    seen["status_missing"] = call("getLoanStatus", {**coll_auth(), "orderLineId": ["1" * 24]})["loanResponseLine"][0][
        "returnStatus"
    ]
    seen["too_old"] = call("getEndedLoans", {**coll_auth(), "date": iso(datetime.now(UTC) - timedelta(days=90))})[
        "returnStatus"
    ]
    seen["none_ended"] = call("getEndedLoans", {**coll_auth(), "loanId": ["CODES1"]})["returnMessage"]
    seen["end_unknown"] = call("endLoan", {**DIST, "orderLineId": lid, "loanId": "ZZZ"})["returnStatus"]
    seen["end_ok"] = call("endLoan", {**DIST, "orderLineId": lid, "loanId": "CODES1"})["returnStatus"]
    seen["end_again"] = call("endLoan", {**DIST, "orderLineId": lid, "loanId": "CODES1"})["returnStatus"]
    assert seen == {
        "ok": "OK",
        "busy": "MAX_SIMULTANEOUS_LOAN_REACHED",
        "dup": "DUPLICATED",
        "wrong_ean": "NOT_FOUND",
        "bad_end": "INVALID_ARGUMENTS",
        "auth": "AUTHENTICATION_ERROR",
        "in_situ": "ACCES_DENIED",
        "declare": "OK",
        "declare_big": "INVALID_ARGUMENTS",
        "stream_none": "PRODUCT_CANNOT_BE_LOAN",
        "status_missing": "NOT_FOUND",
        "too_old": "DATE_TOO_OLD",
        "none_ended": f"No ended loans founds for coll : {demo.COLL}",
        "end_unknown": "NOT_FOUND",
        "end_ok": "OK",
        "end_again": "ACCES_DENIED",
    }


def test_nta_exhaustion_and_expired_licence_over_http(call: Any) -> None:
    lid = call("sendOrder", order_body(line("9791000000039")))["orderResponseLine"][0]["orderLineId"]
    for i in range(3):
        assert call("loanBook", loan_body(lid, f"NTAH{i}", ean13="9791000000039", days=7))["returnStatus"] == "OK"
    assert (
        call("loanBook", loan_body(lid, "NTAH9", ean13="9791000000039", days=7))["returnStatus"]
        == "MAX_LOAN_QUANTITY_REACHED"
    )
    old = call("sendOrder", order_body(line("9791000000039", dmd=datetime.now(UTC) - timedelta(days=400))))
    old_id = old["orderResponseLine"][0]["orderLineId"]
    assert call("loanBook", loan_body(old_id, "OLDH", ean13="9791000000039"))["returnStatus"] == "LOAN_DURATION_EXPIRED"


def test_tenants_never_see_each_other(call: Any) -> None:
    answer = call("sendOrder", order_body(line(), orderIdColl="TEN1"))
    lid = answer["orderResponseLine"][0]["orderLineId"]
    call("loanBook", loan_body(lid, "TENLOAN"))
    two = coll_auth(demo.COLL2, demo.COLL2_PASSWORD)
    assert call("getOrders", {**two, "orderIdColl": "TEN1"})["noOrder"] == ""
    assert call("loanBook", {**loan_body(lid, "TENX"), **two})["returnStatus"] == "NOT_FOUND"
    assert call("getLoanStatus", {**two, "orderLineId": [lid]})["loanResponseLine"][0]["returnStatus"] == "NOT_FOUND"
    assert call("getEndedLoans", {**two, "loanId": ["TENLOAN"]})["loanEndedResponseLine"] == []
    reseller2 = {"glnReseller": demo.RESELLER2, "passwordReseller": demo.RESELLER2_PASSWORD}
    cancel = call("cancelOrder", {**reseller2, "orderId": answer["orderId"]})
    assert cancel["returnStatus"] == "NOT_FOUND"
    distributor2 = {"glnDistributor": demo.DISTRIBUTOR2, "passwordDistributor": demo.DISTRIBUTOR2_PASSWORD}
    assert call("endLoan", {**distributor2, "orderLineId": lid, "loanId": "TENLOAN"})["returnStatus"] == "NOT_FOUND"
    # The second collectivity's own order and its IPs are its own.
    theirs = call(
        "sendOrder",
        order_body(
            line("9791000000053", dist=demo.DISTRIBUTOR2),
            glnColl=demo.COLL2,
            glnReseller=demo.RESELLER2,
            passwordReseller=demo.RESELLER2_PASSWORD,
            orderIdColl="TEN2",
        ),
    )
    assert theirs["returnStatus"] == "OK"
    assert call("getOrders", {**coll_auth(), "orderIdColl": "TEN2"})["noOrder"] == ""


def test_bad_bodies(stack: Any) -> None:
    r = requests.post(f"{stack.url}/v2/pnb-numerique/loanBook", data=b"\xff\xfe not json", timeout=30)
    assert r.status_code == 400 and r.json()["returnStatus"] == "INVALID_ARGUMENTS"
    r = requests.post(f"{stack.url}/v2/pnb-numerique/nope", json={}, timeout=30)  # the spec's answer, no 404
    assert (r.status_code, r.json()["returnStatus"]) == (200, "NOT_IMPLEMENTED")
    r = requests.put(f"{stack.url}/v2/pnb-numerique/loanBook", timeout=30)  # the binding has GET and POST
    assert r.status_code == 405
    r = requests.get(f"{stack.url}/fulfillment/forged.token", timeout=30)
    assert r.status_code == 403


def test_remaining_return_codes_over_http(call: Any) -> None:
    lid = call("sendOrder", order_body(line()))["orderResponseLine"][0]["orderLineId"]  # 2 dl, 1 on, 1 off
    now = datetime.now(UTC)
    over = call("loanBook", loan_body(lid, "REM1", loanEndDate=iso(now + timedelta(days=61))))
    assert (over["returnStatus"], over["returnMessage"]) == (
        "INVALID_ARGUMENTS",
        "The parameter loanEndDate is invalid. The loan duration is over maximum autorized limit",
    )
    null_ip = call("loanBook", loan_body(lid, "REM2", medium="STREAMING", where="IN_SITU"))
    assert null_ip["returnMessage"] == f"{demo.COLL}: The ip adress is null and localization IN_SITU."
    ips = ["198.51.100.50", "198.51.100.60,198.51.100.70"]
    assert call("declareIp", {**coll_auth(), "ips": ips})["returnStatus"] == "OK"
    warn = call("declareIp", {**coll_auth(), "ips": ["198.51.100.50"]})
    assert (warn["returnStatus"], warn["returnMessage"]) == ("OK", "Warn : 198.51.100.50 already declared.")
    invalid = call("declareIp", {**coll_auth(), "ips": ["198.51.100.70,198.51.100.60"]})
    assert invalid["returnMessage"] == "Ip range is not valid [198.51.100.70,198.51.100.60]."
    onsite = loan_body(lid, "REM3", medium="STREAMING", where="IN_SITU", ipAddress="198.51.100.65")
    assert call("loanBook", onsite)["returnStatus"] == "OK"
    assert call("loanBook", {**onsite, "loanId": "REM4"})["returnMessage"] == (
        "The maximum number of on-site consultation is reached."
    )
    assert call("loanBook", loan_body(lid, "REM5", medium="STREAMING"))["returnStatus"] == "OK"
    assert call("loanBook", loan_body(lid, "REM6", medium="STREAMING"))["returnMessage"] == (
        "The maximum number of off-site consultation is reached."
    )
    missing_line = call("endLoan", {**DIST, "orderLineId": "4" * 24, "loanId": "REM3"})
    assert (missing_line["returnStatus"], missing_line["returnMessage"]) == (
        "NOT_FOUND",
        f"The orderLineId {'4' * 24} does not exist",
    )
    assert call("getLoanStatus", {**coll_auth(), "orderLineId": [lid]})["loanResponseLine"][0]["nus2"] == 0


def test_every_return_code_of_consult_book_over_http(call: Any) -> None:
    """consultBook's own table of codes (spec), each one sent over HTTP."""
    lid = call("sendOrder", order_body(line()))["orderResponseLine"][0]["orderLineId"]  # 2 dl, 1 on, 1 off
    now = datetime.now(UTC)
    (ip,) = unused_ips()  # undeclared until this test declares it, whatever ran before

    def consult(loan_id: str, where: str = "EX_SITU", **over: Any) -> dict[str, Any]:
        body = {**coll_auth(), "orderLineId": lid, "loanId": loan_id, "ean13": "9791000000015",
                "accessMedium": "STREAMING", "localization": where,
                "consultEndDate": iso(now + timedelta(hours=2)), "ipAddress": ip, **over}
        return call("consultBook", body)

    def code(answer: dict[str, Any]) -> tuple[str, str]:
        return answer["returnStatus"], answer.get("returnMessage", "")

    first = consult("CB1")
    assert first["returnStatus"] == "OK" and first["link"]["url"]
    again = consult("CB1")  # identical within the hour: the first answer, nothing taken
    assert {k: v for k, v in again.items() if k != "requestId"} == {k: v for k, v in first.items() if k != "requestId"}
    later = iso(now + timedelta(hours=3))
    assert code(consult("CB1", consultEndDate=later)) == (
        "DUPLICATED", f"{demo.COLL}: Loan with id 'CB1' already exists")
    assert code(consult("CB2")) == ("MAX_SIMULTANEOUS_LOAN_REACHED",
                                    "The maximum number of off-site consultation is reached.")
    assert code(consult("CB3", where="IN_SITU")) == (
        "ACCES_DENIED", f"{demo.COLL}: The ip adress '{ip} is not declared in PNB and localization IN_SITU.")
    assert code(consult("CB3", where="IN_SITU", ipAddress="")) == (
        "ACCES_DENIED", f"{demo.COLL}: The ip adress is null and localization IN_SITU.")
    call("declareIp", {**coll_auth(), "ips": [ip]})
    assert code(consult("CB3", where="IN_SITU"))[0] == "OK"
    assert code(consult("CB4", where="IN_SITU")) == ("MAX_SIMULTANEOUS_LOAN_REACHED",
                                                     "The maximum number of on-site consultation is reached.")
    assert code(consult("CB5", accessMedium="DOWNLOAD"))[0] == "OK"
    assert code(consult("CB6", accessMedium="DOWNLOAD"))[0] == "OK"
    assert code(consult("CB7", accessMedium="DOWNLOAD")) == (
        "MAX_SIMULTANEOUS_LOAN_REACHED", "The maximum number of simultaneous downloads loans is reached.")
    assert code(consult("CB8", orderLineId="5" * 24)) == ("NOT_FOUND", f"The orderLineId {'5' * 24} does not exist")
    assert code(consult("CB8", ean13="9791000000022")) == (
        "NOT_FOUND", f"{demo.COLL} : The ean 9791000000022 is not a part of orderLine '{lid}'!")
    past = code(consult("CB8", consultEndDate=iso(now - timedelta(hours=1))))
    assert past[0] == "INVALID_ARGUMENTS" and "expiration date" in past[1]
    assert code(consult("CB8", consultEndDate=iso(now + timedelta(days=61)))) == (
        "INVALID_ARGUMENTS", "The parameter loanEndDate is invalid. The loan duration is over maximum autorized limit")
    assert code(consult("CB8", ipAddress=None)) == ("INVALID_ARGUMENTS", "The parameter ipAddress is mandatory")
    assert code(consult("CB8", passwordColl="nope"))[0] == "AUTHENTICATION_ERROR"
    # Accesses spent, the licence's window over, a line that is no licence.
    spent = call("sendOrder", order_body(line("9791000000039")))["orderResponseLine"][0]["orderLineId"]
    for i in range(3):
        assert code(consult(f"CN{i}", orderLineId=spent, ean13="9791000000039", accessMedium="DOWNLOAD"))[0] == "OK"
    assert code(consult("CN9", orderLineId=spent, ean13="9791000000039", accessMedium="DOWNLOAD")) == (
        "MAX_LOAN_QUANTITY_REACHED", "The loan number limit is reached.")
    old = call("sendOrder", order_body(line("9791000000039", dmd=now - timedelta(days=400))))
    old_id = old["orderResponseLine"][0]["orderLineId"]
    assert code(consult("CO1", orderLineId=old_id, ean13="9791000000039")) == (
        "LOAN_DURATION_EXPIRED", "The loan duration is expired.")
    refused = call("sendOrder", order_body(line("9791000000022", ttc=1)))["orderResponseLine"][0]["orderLineId"]
    assert code(consult("CR1", orderLineId=refused, ean13="9791000000022")) == (
        "PRODUCT_CANNOT_BE_LOAN", "The product cannot be loan")
