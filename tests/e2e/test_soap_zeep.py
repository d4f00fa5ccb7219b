"""A stock SOAP client (zeep) built from the WSDL the local stack serves calls every one of the twelve
services, with their arrays and return codes. Every answer it receives is also checked against pnb.xsd."""

from __future__ import annotations

import ipaddress
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import zeep
from lxml import etree
from zeep import xsd
from zeep.helpers import serialize_object
from zeep.plugins import Plugin

from lending.local import demo
from lending.pnb.soap.schema import MODEL, NS
from tests.helpers import unused_ips

pytestmark = pytest.mark.e2e
NOW = datetime.now(UTC)
COLL = {"glnColl": demo.COLL, "passwordColl": demo.COLL_PASSWORD}
RESELLER = {"glnReseller": demo.RESELLER, "passwordReseller": demo.RESELLER_PASSWORD}
DISTRIBUTOR = {"glnDistributor": demo.DISTRIBUTOR, "passwordDistributor": demo.DISTRIBUTOR_PASSWORD}


class XsdCheck(Plugin):
    """Every answer body must be valid against the schema the WSDL carries; records what was answered."""

    def __init__(self) -> None:
        self.seen: set[str] = set()
        self.last: Any = None  # the last answer element as received

    def ingress(self, envelope: Any, http_headers: Any, operation: Any) -> tuple[Any, Any]:
        payload = envelope.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")
        if payload is None:
            payload = envelope.find("{http://www.w3.org/2003/05/soap-envelope}Body")
        answer = self.last = payload[0]
        name = etree.QName(answer).localname
        if name != "Fault":
            assert MODEL.validator.validate(answer), (name, MODEL.validator.error_log)
            self.seen.add(name.removesuffix("Response"))
        return envelope, http_headers


@pytest.fixture(scope="module")
def check() -> XsdCheck:
    return XsdCheck()


@pytest.fixture(scope="module")
def pnb(stack: Any, check: XsdCheck) -> Any:
    client = zeep.Client(f"{stack.url}/v2/pnb-numerique/soap?wsdl", plugins=[check])
    return client.service


def plain(value: Any) -> Any:
    return serialize_object(value, dict)


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def order_line(ean13: str = "9791000000015", distributor: str = demo.DISTRIBUTOR,
               **over: Any) -> dict[str, Any]:
    prices = {o.ean13: (o.price_ttc, o.price_ht) for o in demo.offers()}
    ttc, ht = prices.get(ean13, (2400, 2275))
    return {"ean13": ean13, "glnDistributor": distributor, "unitPrice": ttc, "unitPriceExcludingTax": ht,
            "currency": "EUR", "dmdDate": NOW - timedelta(days=1), **over}


def send(pnb: Any, *lines: dict[str, Any], order_id: str | None = None, order_id_coll: str = "ZEEP") -> Any:
    return pnb.sendOrder(**RESELLER, glnColl=demo.COLL, orderId=order_id or unique("Z")[:16],
                         orderIdColl=order_id_coll, resellerCountry="FR", collCountry="FR",
                         orderRequestLine=list(lines) or [order_line()])


def loan(pnb: Any, line_id: str, loan_id: str, **over: Any) -> Any:
    args = {**COLL, "orderLineId": line_id, "loanId": loan_id, "ean13": "9791000000015",
            "accessMedium": "DOWNLOAD", "localization": "EX_SITU", "loanEndDate": NOW + timedelta(days=7),
            **over}
    return pnb.loanBook(**args)


def test_reseller_services_send_cancel_and_check(pnb: Any, check: XsdCheck) -> None:
    order_id = unique("Z")[:16]
    sent = send(pnb, order_line(), order_line(demo.UNKNOWN_EAN, lineReference="REF2"),
                order_line("9791000000022", quantity=2), order_id=order_id)
    assert sent.requestId and sent.orderId == order_id
    assert sent.returnStatus == "WARNING"
    assert sent.returnMessage == "Some sendOrder lines are returned with error"
    got = [(x.returnStatus, x.lineReference) for x in sent.orderResponseLine]
    assert got == [("OK", None), ("NOT_FOUND", "REF2"), ("INVALID_ARGUMENTS", None)]
    assert sent.orderResponseLine[0].unitPrice == 2400 and len(sent.orderResponseLine[0].orderLineId) == 24
    again = send(pnb, order_line(), order_id=order_id)
    assert again.returnStatus == "DUPLICATED" and again.orderResponseLine == []

    for contractor in ("glnContractor", "glnContrator"):
        available = pnb.checkAvailability(**RESELLER, glnColl=demo.COLL, **{contractor: demo.CONTRACTOR},
                                          resellerCountry="FR", collCountry="FR", checkAvailabilityLine=[
            {k: v for k, v in order_line(ean).items() if k != "dmdDate"}
            for ean in ("9791000000015", "9791000000046", demo.UNKNOWN_EAN)])
        assert available.returnStatus == "OK"
        lines = available.checkAvailabilityResponseLine
        assert [x.checkAvailabilityReturnValue for x in lines] == ["AVAILABLE", "UNAVAILABLE", "UNAVAILABLE"]
        assert lines[1].returnMessage == "ProductAvailability 40: This product is not available"
        assert isinstance(lines[0].Date, datetime) and lines[0].Date.tzinfo is not None

    ids = [x.orderLineId for x in sent.orderResponseLine]
    cancelled = pnb.cancelOrder(**RESELLER, orderId=order_id, orderLineId=ids[1:])
    assert cancelled.returnStatus == "OK"
    assert [(x.orderLineId, x.returnStatus) for x in cancelled.cancelResponseLine] == [
        (ids[1], "CANCELLED"), (ids[2], "CANCELLED")]
    unknown = pnb.cancelOrder(**RESELLER, orderId=order_id, orderLineId=["123456789012345678901234"])
    assert unknown.returnStatus == "NOT_FOUND"
    assert unknown.returnMessage == "The orderLineId 123456789012345678901234 does not exist"
    whole = pnb.cancelOrder(**RESELLER, orderId=order_id)  # no orderLineId: the whole order
    assert [x.returnStatus for x in whole.cancelResponseLine] == ["CANCELLED"] * 3
    wrong = pnb.cancelOrder(glnReseller=demo.RESELLER, passwordReseller="nope", orderId=order_id)
    assert (wrong.returnStatus, wrong.returnMessage) == ("AUTHENTICATION_ERROR", "Bad credentials")
    assert {"sendOrder", "checkAvailability", "cancelOrder"} <= check.seen


def test_collectivity_services_lend_consult_and_follow(pnb: Any, check: XsdCheck) -> None:
    order_id_coll = unique("C")[:16]
    sent = send(pnb, order_line(), order_line("9791000000022"), order_id_coll=order_id_coll)
    line_id, small_line = (x.orderLineId for x in sent.orderResponseLine)

    orders = pnb.getOrders(**COLL, orderIdColl=order_id_coll, returnLinesWithError=True)
    assert orders.returnStatus == "OK" and orders.noOrder is None and isinstance(orders.date, datetime)
    first = orders.getOrderResponseLine[0]
    assert first.orderIdColl == order_id_coll
    assert (first.orderLine[0].NUS1, first.orderLine[0].NUS2, first.orderLine[0].NTA) == (2, 2, 30)
    assert first.orderLine[0].loanUrl.startswith("http://127.0.0.1:")
    nothing = pnb.getOrders(**COLL, orderIdColl="NOSUCHORDER")
    assert nothing.returnStatus == "OK" and nothing.getOrderResponseLine == []
    # noOrder goes as `true` (pnb:Present): zeep would read the spec's empty element as None, absent.
    assert nothing.noOrder is True and check.last.findtext(f"{{{NS}}}noOrder") == "true"
    assert pnb.getOrders(**COLL).returnStatus == "INVALID_ARGUMENTS"  # neither sinceDate nor orderIdColl

    lent = loan(pnb, line_id, "ZL1")
    assert lent.returnStatus == "OK" and lent.loanId == "ZL1" and lent.orderLineId == line_id
    assert lent.link.url.startswith("http://127.0.0.1:") and lent.link.mimeType == "application/epub+zip"
    assert requests.get(lent.link.url, timeout=10).status_code == 200  # the link works
    end = NOW + timedelta(days=7)
    replay = loan(pnb, line_id, "ZL1", loanEndDate=end)
    assert plain(loan(pnb, line_id, "ZL1", loanEndDate=end))["link"] == plain(replay)["link"]
    assert loan(pnb, line_id, "ZL1", loanEndDate=NOW + timedelta(days=3)).returnStatus == "DUPLICATED"
    assert loan(pnb, small_line, "ZS1", ean13="9791000000022").returnStatus == "OK"
    full = loan(pnb, small_line, "ZS2", ean13="9791000000022")
    assert (full.returnStatus, full.returnMessage) == (
        "MAX_SIMULTANEOUS_LOAN_REACHED", "The maximum number of simultaneous downloads loans is reached.")
    assert loan(pnb, line_id, "ZL9", loanEndDate=NOW + timedelta(days=90)).returnStatus == "INVALID_ARGUMENTS"
    no_ip = loan(pnb, line_id, "ZL2", accessMedium="STREAMING", localization="IN_SITU")
    assert (no_ip.returnStatus, no_ip.returnMessage) == (
        "ACCES_DENIED", f"{demo.COLL}: The ip adress is null and localization IN_SITU.")
    assert pnb.loanBook(**COLL, orderLineId="123456789012345678901234", loanId="ZL3", ean13="9791000000015",
                        accessMedium="DOWNLOAD", localization="EX_SITU",
                        loanEndDate=end).returnStatus == "NOT_FOUND"

    # Addresses of this test's own (the session's stack keeps what other tests declared): a range of 20, one
    # address alone, one never declared.
    block, (single,), (outside_ip,) = unused_ips(20), unused_ips(), unused_ips()
    declared = pnb.declareIp(**COLL, ips=[f"{block[0]},{block[-1]}", single])
    assert declared.returnStatus == "OK"
    again = pnb.declareIp(**COLL, ips=[single])
    assert (again.returnStatus, again.returnMessage) == ("OK", f"Warn : {single} already declared.")
    too_large = f"{block[0]},{ipaddress.IPv4Address(block[0]) + 5000}"  # over declareIp's 1000 addresses
    assert pnb.declareIp(**COLL, ips=[too_large]).returnStatus == "INVALID_ARGUMENTS"
    consult = pnb.consultBook(**COLL, orderLineId=line_id, loanId="ZC1", ean13="9791000000015",
                              accessMedium="STREAMING", localization="IN_SITU",
                              consultEndDate=NOW + timedelta(hours=2), ipAddress=block[6])
    assert consult.returnStatus == "OK" and consult.consultEndDate and consult.link.url
    outside = pnb.consultBook(**COLL, orderLineId=line_id, loanId="ZC2", ean13="9791000000015",
                              accessMedium="STREAMING", localization="IN_SITU",
                              consultEndDate=NOW + timedelta(hours=2), ipAddress=outside_ip)
    assert outside.returnStatus == "ACCES_DENIED"

    status = pnb.getLoanStatus(**COLL, orderLineId=[line_id, small_line, "123456789012345678901234"])
    assert status.returnStatus == "WARNING" and isinstance(status.date, datetime)
    got = [(x.orderLineId, x.NUS1, x.NUS2, x.NTA, x.returnStatus) for x in status.loanResponseLine]
    assert got == [(line_id, 1, 1, 28, "OK"), (small_line, 0, 0, 9, "OK"),
                   ("123456789012345678901234", None, None, None, "NOT_FOUND")]

    ended = pnb.endLoan(**DISTRIBUTOR, orderLineId=line_id, loanId="ZL1")
    assert ended.returnStatus == "OK" and ended.requestId
    twice = pnb.endLoan(**DISTRIBUTOR, orderLineId=line_id, loanId="ZL1")
    assert twice.returnStatus == "ACCES_DENIED"
    assert pnb.endLoan(orderLineId=line_id, loanId="ZL1").returnStatus == "AUTHENTICATION_ERROR"
    assert pnb.endLoan(**DISTRIBUTOR, orderLineId=line_id, loanId="NOPE").returnStatus == "NOT_FOUND"

    returned = pnb.getEndedLoans(**COLL, loanId=["ZL1", "ZS1", "NOPE"])
    assert returned.returnStatus == "OK"
    assert [(x.loanId, x.orderLineId, x.ean13) for x in returned.loanEndedResponseLine] == [
        ("ZL1", line_id, "9791000000015")]
    assert isinstance(returned.loanEndedResponseLine[0].returnDate, datetime)
    since = pnb.getEndedLoans(**COLL, date=NOW - timedelta(minutes=5))
    assert "ZL1" in [x.loanId for x in since.loanEndedResponseLine]
    old = pnb.getEndedLoans(**COLL, date=NOW - timedelta(days=61))
    assert (old.returnStatus, old.returnMessage) == ("DATE_TOO_OLD", "The date can't be older than 60 days")
    assert {"getOrders", "loanBook", "declareIp", "consultBook", "getLoanStatus", "endLoan",
            "getEndedLoans"} <= check.seen


def test_offer_services_pass_the_core_answer_through(stack: Any, pnb: Any, check: XsdCheck) -> None:
    since = NOW - timedelta(days=1)
    services = (("getOffers", {}), ("getOffersForDistributor", {"glnDistributor": demo.DISTRIBUTOR}))
    for service, extra in services:
        answer = getattr(pnb, service)(**RESELLER, **extra, sinceDate=since)
        body = {**RESELLER, **extra, "sinceDate": since.strftime("%Y-%m-%dT%H:%M:%SZ")}
        over_json = requests.post(f"{stack.url}/v2/pnb-numerique/{service}", json=body, timeout=10).json()
        assert answer.requestId and answer.returnStatus == over_json["returnStatus"]
        assert answer.returnMessage == over_json.get("returnMessage")
        def target(link: str) -> str | None:  # the update file a signed link opens
            from lending.catalogue.updates import verify_link

            return verify_link(link.rsplit("/", 1)[1], datetime.now(UTC))

        files = [target(x["httpLinks"]) for x in over_json.get("onixFileUrl", [])]
        assert [target(x.httpLinks) for x in answer.onixFileUrl] == files
        assert answer.noNotice is (True if "noNotice" in over_json else None)
        wrong = getattr(pnb, service)(glnReseller=demo.RESELLER, passwordReseller="nope", **extra,
                                      lastConnection="")
        assert (wrong.returnStatus, wrong.returnMessage) == ("AUTHENTICATION_ERROR", "Bad credentials")
    assert {"getOffers", "getOffersForDistributor"} <= check.seen


def test_a_zeep_client_sees_no_notice_and_no_order(stack: Any, pnb: Any, check: XsdCheck) -> None:
    """The spec's empty noNotice / noOrder, whose presence is the information, reach zeep as True."""
    later = datetime.now(UTC) + timedelta(hours=1)  # nothing is published after it
    services = (("getOffers", {}), ("getOffersForDistributor", {"glnDistributor": demo.DISTRIBUTOR}))
    for service, extra in services:
        answer = getattr(pnb, service)(**RESELLER, **extra, sinceDate=later)
        assert (answer.returnStatus, answer.noNotice, answer.onixFileUrl) == ("OK", True, [])
        assert check.last.findtext(f"{{{NS}}}noNotice") == "true"
        body = {**RESELLER, **extra, "sinceDate": later.strftime("%Y-%m-%dT%H:%M:%SZ")}
        over_json = requests.post(f"{stack.url}/v2/pnb-numerique/{service}", json=body, timeout=10).json()
        assert over_json["noNotice"] == "" and "onixFileUrl" not in over_json  # JSON keeps the spec's ""
    nothing = pnb.getOrders(**COLL, orderIdColl="NOSUCHORDER")
    assert (nothing.returnStatus, nothing.noOrder) == ("OK", True)
    over_json = requests.post(f"{stack.url}/v2/pnb-numerique/getOrders", timeout=10,
                              json={**COLL, "orderIdColl": "NOSUCHORDER"}).json()
    assert over_json["noOrder"] == ""  # absent, zeep's None: test_collectivity_services_lend_consult_and_follow


def test_what_the_xsd_refuses_answers_invalid_arguments_naming_the_field(pnb: Any) -> None:
    bad = pnb.getLoanStatus(**COLL, glnContractor="123", orderLineId=["1" * 24])
    assert bad.requestId and bad.returnStatus == "INVALID_ARGUMENTS"
    assert bad.returnMessage.startswith("The parameter glnContractor is invalid")
    # A malformed credential is a failed authentication, as over JSON (CONTRACT 3).
    bad_gln = pnb.getLoanStatus(glnColl="123", passwordColl=demo.COLL_PASSWORD, orderLineId=["1" * 24])
    assert (bad_gln.returnStatus, bad_gln.returnMessage) == ("AUTHENTICATION_ERROR", "Bad credentials")
    missing = pnb.getLoanStatus(**COLL, orderLineId=xsd.SkipValue)
    assert missing.returnStatus == "INVALID_ARGUMENTS"
    assert missing.returnMessage == "The parameter orderLineId is mandatory"
    with pytest.raises(zeep.exceptions.ValidationError, match="at most 20"):  # the WSDL carries the bound
        pnb.getEndedLoans(**COLL, loanId=[f"L{i}" for i in range(21)])
    naive = pnb.getOrders(**COLL, sinceDate=datetime(2026, 1, 1, 12, 0))  # no zone
    assert naive.returnStatus == "INVALID_ARGUMENTS" and "sinceDate" in naive.returnMessage
    line = order_line(unitPrice=-1)
    negative = send(pnb, line)
    assert negative.returnStatus == "INVALID_ARGUMENTS"
    assert negative.returnMessage.startswith("The parameter orderRequestLine.0.unitPrice is invalid")


def test_the_soap_12_port_works_too(stack: Any) -> None:
    client = zeep.Client(f"{stack.url}/v2/pnb-numerique/soap?wsdl")
    port = client.bind("PnbNumeriqueService", "PnbNumeriqueSoap12")
    answer = port.getLoanStatus(**COLL, orderLineId=["123456789012345678901234"])
    assert answer.returnStatus == "WARNING" and answer.loanResponseLine[0].returnStatus == "NOT_FOUND"

