"""The SOAP door on emulated AWS (handler invoked as API Gateway would): it answers through the same core
as the JSON door (same answers, same state), in XML the XSD accepts, with a requestId every time."""

from __future__ import annotations

import copy
import dataclasses
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from lxml import etree

from lending.local import demo
from lending.pnb import operations
from lending.pnb.json_door import as_bean
from lending.pnb.soap import codec
from lending.pnb.soap.envelope import SOAP11, SOAP12
from lending.pnb.soap.schema import MODEL, NS
from tests.helpers import coll_auth, invoke, iso, line, loan_body, order_body, order_ok, pnb

pytestmark = pytest.mark.usefixtures("aws")
PATH = "/v2/pnb-numerique/soap"
RESELLER = {"glnReseller": demo.RESELLER, "passwordReseller": demo.RESELLER_PASSWORD}


def envelope(payload: etree._Element | str, version: str = SOAP11) -> bytes:
    inner = payload if isinstance(payload, str) else etree.tostring(payload).decode()
    return f'<s:Envelope xmlns:s="{version}"><s:Body>{inner}</s:Body></s:Envelope>'.encode()


def post(raw: bytes, content_type: str = "text/xml; charset=utf-8") -> tuple[int, etree._Element]:
    status, payload = invoke("POST", PATH, raw, {"content-type": content_type})
    doc = etree.fromstring(payload.encode("utf-8") if isinstance(payload, str) else payload)
    return status, doc[0][0]  # the Body's only child


def soap(service: str, body: dict[str, Any], version: str = SOAP11) -> dict[str, Any]:
    """Call a service over SOAP with the JSON door's body; the answer must be valid against the XSD."""
    request = codec.encode(service, body, MODEL.elements[service])
    status, answer = post(envelope(request, version))
    assert status == 200, etree.tostring(answer)
    assert etree.QName(answer).text == f"{{{NS}}}{service}Response"
    assert MODEL.validator.validate(answer), MODEL.validator.error_log
    decoded = codec.decode(answer, MODEL.elements[f"{service}Response"])
    assert decoded["requestId"]
    return decoded


def comparable(answer: dict[str, Any]) -> dict[str, Any]:
    """An answer without its requestId and timestamps; empty lists dropped (in XML they are absent)."""
    def clean(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()
                    if k not in ("requestId", "date", "Date") and v != []}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return clean(answer)


def same(service: str, body: dict[str, Any]) -> dict[str, Any]:
    json_answer = pnb(service, body)
    soap_answer = soap(service, body)
    # The one difference: SOAP keeps the XSD's NTA/NUS1/NUS2, JSON renders them as Java beans do (nta, nus1).
    assert comparable(as_bean(soap_answer)) == comparable(json_answer)
    return soap_answer


def test_soap_answers_what_json_answers_for_every_reading_service() -> None:
    dmd = datetime.now(UTC) - timedelta(days=1)
    order = pnb("sendOrder", {**RESELLER, "glnColl": demo.COLL, "orderId": f"S{uuid.uuid4().hex[:10]}",
                              "orderIdColl": "SOAPSAME", "resellerCountry": "FR", "collCountry": "FR",
                              "orderRequestLine": [line(dmd=dmd, lineReferenceColl="RC1"),
                                                   line(demo.UNKNOWN_EAN)]})
    ok_line = order["orderResponseLine"][0]["orderLineId"]
    assert pnb("loanBook", loan_body(ok_line, "SAME1"))["returnStatus"] == "OK"
    assert pnb("loanBook", loan_body(ok_line, "SAME2"))["returnStatus"] == "OK"
    distributor = {"glnDistributor": demo.DISTRIBUTOR, "passwordDistributor": demo.DISTRIBUTOR_PASSWORD}
    assert pnb("endLoan", {**distributor, "orderLineId": ok_line, "loanId": "SAME1"})["returnStatus"] == "OK"

    orders = same("getOrders", {**coll_auth(), "orderIdColl": "SOAPSAME", "returnLinesWithError": True})
    lines = [x["orderLine"][0] for x in orders["getOrderResponseLine"]]
    assert [x["returnStatus"] for x in lines] == ["OK", "NOT_FOUND"] and lines[0]["loanUrl"]
    assert (lines[0]["NUS1"], lines[0]["NTA"]) == (1, 28)
    assert same("getOrders", {**coll_auth(), "orderIdColl": "NOTHING"})["noOrder"] == ""
    status = same("getLoanStatus", {**coll_auth(), "orderLineId": [ok_line, "123456789012345678901234"]})
    assert [x["returnStatus"] for x in status["loanResponseLine"]] == ["OK", "NOT_FOUND"]
    ended = same("getEndedLoans", {**coll_auth(), "loanId": ["SAME1", "SAME2", "NEVER"]})
    assert [x["loanId"] for x in ended["loanEndedResponseLine"]] == ["SAME1"]
    assert same("getEndedLoans", {**coll_auth(), "date": iso(dmd - timedelta(days=61))})["returnStatus"] == \
        "DATE_TOO_OLD"
    check = {**RESELLER, "glnContrator": demo.CONTRACTOR, "resellerCountry": "FR", "collCountry": "FR",
             "checkAvailabilityLine": [
                 {k: v for k, v in line(ean).items() if k not in ("quantity", "dmdDate")}
                 for ean in ("9791000000015", "9791000000046", demo.UNKNOWN_EAN)]}
    available = same("checkAvailability", check)
    assert [x["checkAvailabilityReturnValue"] for x in available["checkAvailabilityResponseLine"]] == [
        "AVAILABLE", "UNAVAILABLE", "UNAVAILABLE"]
    for service in ("getOffers", "getOffersForDistributor"):  # whatever the core answers, SOAP says the same
        body = {**RESELLER, "sinceDate": iso(datetime.now(UTC) - timedelta(days=1))}
        if service == "getOffersForDistributor":
            body["glnDistributor"] = demo.DISTRIBUTOR
        assert soap(service, body)["returnStatus"] == pnb(service, body)["returnStatus"]
        assert same(service, {**body, "passwordReseller": "wrong"})["returnStatus"] == "AUTHENTICATION_ERROR"


def test_what_soap_writes_json_reads_and_the_reverse() -> None:
    (line_id,) = order_ok()
    body = loan_body(line_id, "XDOOR1")
    loan = soap("loanBook", body)
    assert loan["returnStatus"] == "OK" and loan["link"]["url"].startswith("http://hub.test/")
    again = soap("loanBook", body)
    assert comparable(again) == comparable(loan)  # an identical repeat is the first loan, nothing more taken
    assert pnb("loanBook", body)["link"] == loan["link"]
    state = pnb("getLoanStatus", {**coll_auth(), "orderLineId": [line_id]})["loanResponseLine"][0]
    assert (state["nus1"], state["nta"]) == (1, 29)
    other = soap("loanBook", loan_body(line_id, "XDOOR1", days=3))
    assert other["returnStatus"] == "DUPLICATED"
    declared = soap("declareIp", {**coll_auth(), "ips": ["10.1.0.0,10.1.0.9", "192.0.2.7"]})
    assert declared == {**declared, "returnStatus": "OK"} and "returnMessage" not in declared
    warned = pnb("declareIp", {**coll_auth(), "ips": ["192.0.2.7"]})
    assert warned["returnMessage"] == "Warn : 192.0.2.7 already declared."
    consult = soap("consultBook", {**loan_body(line_id, "XDOOR2", medium="STREAMING", where="IN_SITU"),
                                   "loanEndDate": None, "ipAddress": "10.1.0.5",
                                   "consultEndDate": iso(datetime.now(UTC) + timedelta(hours=2))})
    assert consult["returnStatus"] == "OK" and consult["consultEndDate"]
    end = {"glnDistributor": demo.DISTRIBUTOR, "passwordDistributor": demo.DISTRIBUTOR_PASSWORD,
           "orderLineId": line_id, "loanId": "XDOOR1"}
    assert soap("endLoan", end)["returnStatus"] == "OK"
    assert pnb("endLoan", end)["returnStatus"] == "ACCES_DENIED"
    cancel = soap("cancelOrder", {**RESELLER, "orderId": "NOPE"})
    assert cancel["returnStatus"] == "NOT_FOUND"


def test_soap_takes_what_library_systems_send_where_the_xsd_can_carry_it() -> None:
    (line_id,) = order_ok()
    body = loan_body(line_id, "12_345-20191203", glnContractor=demo.COLL,  # its own GLN: no contractor
                     DRMinfo={"readerHint": "hint", "readerId": "CB000012"}, userInfo={"year": "1984"})
    loan = soap("loanBook", body)
    assert loan["returnStatus"] == "OK" and loan["loanId"] == "12_345-20191203" and loan["protection"] == "NONE"
    state = soap("getLoanStatus", {**coll_auth(), "orderLineId": [line_id]})["loanResponseLine"][0]
    assert state["NTA"] == 29 and "pnbLoanList" not in state  # SOAP keeps the XSD's names
    assert soap("endLoan", {"glnDistributor": demo.DISTRIBUTOR, "passwordDistributor": demo.DISTRIBUTOR_PASSWORD,
                            "orderLineId": line_id, "loanId": "12_345-20191203"})["returnStatus"] == "OK"
    ended = soap("getLoanStatus", {**coll_auth(), "orderLineId": [line_id], "returnEndedLoan": True})
    assert [x["loanId"] for x in ended["loanResponseLine"][0]["pnbLoanList"]] == ["12_345-20191203"]


def test_a_request_breaking_the_xsd_answers_invalid_arguments_naming_the_field() -> None:
    body = loan_body("1" * 24, "BAD1")
    request = codec.encode("loanBook", body, MODEL.elements["loanBook"])
    request.find(f"{{{NS}}}ean13").text = "97910000000"
    status, answer = post(envelope(request))
    got = codec.decode(answer, MODEL.elements["loanBookResponse"])
    assert status == 200 and got["requestId"] and got["returnStatus"] == "INVALID_ARGUMENTS"
    assert got["returnMessage"].startswith("The parameter ean13 is invalid")
    request.remove(request.find(f"{{{NS}}}ean13"))
    got = codec.decode(post(envelope(request))[1], MODEL.elements["loanBookResponse"])
    assert got["returnMessage"] == "The parameter ean13 is mandatory"
    # What only the core knows (the GLN check digit) is still INVALID_ARGUMENTS naming the field.
    got = soap("loanBook", {**body, "loanerColl": "3012345000040"})
    assert got["returnStatus"] == "INVALID_ARGUMENTS"
    assert got["returnMessage"].startswith("The parameter loanerColl")
    got = soap("getLoanStatus", {**coll_auth(), "orderLineId": ["1" * 24], "glnContractor": "3012345000061"})
    assert got["returnStatus"] == "INVALID_ARGUMENTS" and "glnContractor" in got["returnMessage"]


def twice(request: etree._Element, path: str) -> etree._Element:
    """The request with the element at `path` (below the operation) given a second time."""
    node = request.find(path, {"p": NS})
    node.addnext(copy.deepcopy(node))
    return request


def added_after(request: etree._Element, after: str, name: str, text: str) -> etree._Element:
    """The request with a `name` element holding `text` right after its `after` element."""
    added = etree.Element(f"{{{NS}}}{name}")
    added.text = text
    request.find(f"{{{NS}}}{after}").addnext(added)
    return request


def answered(service: str, request: etree._Element) -> tuple[str, str]:
    status, answer = post(envelope(request))
    got = codec.decode(answer, MODEL.elements[f"{service}Response"])
    assert status == 200 and got["requestId"]
    return got["returnStatus"], got["returnMessage"]


def test_an_element_given_twice_or_out_of_place_is_named_itself() -> None:
    order = codec.encode("sendOrder", order_body(), MODEL.elements["sendOrder"])
    assert answered("sendOrder", twice(copy.deepcopy(order), "p:glnColl")) == (
        "INVALID_ARGUMENTS", "The parameter glnColl is not expected here: duplicated")
    assert answered("sendOrder", twice(copy.deepcopy(order), "p:orderRequestLine/p:currency")) == (
        "INVALID_ARGUMENTS", "The parameter orderRequestLine.0.currency is not expected here: duplicated")
    assert pnb("sendOrder", codec.decode(order, MODEL.elements["sendOrder"]))["returnStatus"] == "OK"  # nothing taken
    check = codec.encode("checkAvailability", {
        **RESELLER, "glnColl": demo.COLL, "glnContractor": demo.CONTRACTOR, "resellerCountry": "FR",
        "collCountry": "FR", "checkAvailabilityLine": [
            {k: v for k, v in line().items() if k not in ("quantity", "dmdDate")}]},
        MODEL.elements["checkAvailability"])
    assert answered("checkAvailability", added_after(check, "glnContractor", "glnContrator", demo.CONTRACTOR)) == (
        "INVALID_ARGUMENTS", "The parameter glnContrator is not expected here: glnContractor is already given "
                             "(only one of glnContractor or glnContrator)")

    # A credential given twice (or out of its place) is a malformed credential: AUTHENTICATION_ERROR, as a
    # missing one; another field out of place before the password is named and is INVALID_ARGUMENTS.
    (line_id,) = order_ok()
    loan = codec.encode("loanBook", loan_body(line_id, "TWICE1"), MODEL.elements["loanBook"])
    assert answered("loanBook", twice(copy.deepcopy(loan), "p:glnColl")) == (
        "AUTHENTICATION_ERROR", "Bad credentials")
    early = added_after(copy.deepcopy(loan), "glnColl", "glnContractor", demo.CONTRACTOR)
    assert answered("loanBook", early) == (
        "INVALID_ARGUMENTS", "The parameter glnContractor is not expected here: out of order "
                             "(passwordColl comes first)")
    assert answered("loanBook", twice(copy.deepcopy(early), "p:glnContractor")) == answered("loanBook", early)
    assert answered("loanBook", twice(copy.deepcopy(loan), "p:loanId")) == (
        "INVALID_ARGUMENTS", "The parameter loanId is not expected here: duplicated")
    missing = copy.deepcopy(loan)
    missing.remove(missing.find(f"{{{NS}}}passwordColl"))
    assert answered("loanBook", missing) == ("AUTHENTICATION_ERROR", "Bad credentials")
    assert soap("loanBook", loan_body(line_id, "TWICE1"))["returnStatus"] == "OK"  # the right one still lends


def test_an_internal_fault_is_a_server_fault_naming_the_request(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> dict[str, Any]:
        raise RuntimeError("table on fire")

    op = operations.OPERATIONS["getLoanStatus"]
    monkeypatch.setitem(operations.OPERATIONS, "getLoanStatus", dataclasses.replace(op, call=broken))
    request = codec.encode("getLoanStatus", {**coll_auth(), "orderLineId": ["1" * 24]},
                           MODEL.elements["getLoanStatus"])
    status, fault = post(envelope(request))
    assert status == 500 and fault.findtext("faultcode") == "soap:Server"
    assert fault.findtext("faultstring") == "Internal error"
    assert fault.findtext(f"detail/{{{NS}}}pnbFault/{{{NS}}}requestId")
    assert fault.findtext(f"detail/{{{NS}}}pnbFault/{{{NS}}}returnStatus") == "ERROR"
    assert "fire" not in etree.tostring(fault).decode()


def test_a_fault_of_the_door_itself_is_a_server_fault_in_the_caller_s_version(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from lending.pnb.soap import door

    def broken(event: Any) -> Any:
        raise RuntimeError("door on fire")

    monkeypatch.setattr(door, "call", broken)
    for content_type, version, code in (("application/soap+xml", SOAP12, "soap:Receiver"),
                                        ("text/xml", SOAP11, "soap:Server")):
        status, payload = invoke("POST", PATH, "<x/>", {"content-type": content_type})
        assert status == 500 and f'xmlns:soap="{version}"' in payload and code in payload
        assert "Internal error" in payload and "fire" not in payload


def test_soap_12_is_answered_in_soap_12() -> None:
    answer = soap("getLoanStatus", {**coll_auth(), "orderLineId": ["1" * 24]}, version=SOAP12)
    assert answer["returnStatus"] == "WARNING"
    status, payload = invoke("POST", PATH, envelope("", SOAP12), {"content-type": "application/soap+xml"})
    assert status == 400 and f'xmlns:soap="{SOAP12}"' in payload and "soap:Sender" in payload
    # Not even XML: the version the Content-Type names (1.2 here, 1.1 otherwise).
    for content_type, version, http in (("application/soap+xml; charset=utf-8", SOAP12, 400),
                                        ("text/xml", SOAP11, 500)):
        status, payload = invoke("POST", PATH, "not xml", {"content-type": content_type})
        assert (status, f'xmlns:soap="{version}"' in payload, "not well-formed" in payload) == (http, True, True)


def test_a_body_in_utf16_arrives_base64_encoded_and_is_read() -> None:
    request = codec.encode("getLoanStatus", {**coll_auth(), "orderLineId": ["1" * 24]},
                           MODEL.elements["getLoanStatus"])
    raw = ('<?xml version="1.0" encoding="UTF-16"?>' + envelope(request).decode()).encode("utf-16")
    status, answer = post(raw)
    assert status == 200 and answer.findtext(f"{{{NS}}}returnStatus") == "WARNING"


def test_the_wsdl_and_the_xsd_are_served() -> None:
    status, wsdl = invoke("GET", f"{PATH}?wsdl")
    assert status == 200
    doc = etree.fromstring(wsdl.encode())
    soap_ns = {"s": "http://schemas.xmlsoap.org/wsdl/soap/"}
    assert doc.xpath("//s:address/@location", namespaces=soap_ns) == [f"http://hub.test{PATH}"]
    status, xsd = invoke("GET", f"{PATH}?xsd")
    assert status == 200 and xsd.encode() == MODEL.source


def test_the_sample_events_run_as_sam_local_invoke_would_run_them() -> None:
    import json
    from pathlib import Path

    from lending.local import functions, template

    fn = template.functions(template.load())["PnbSoapFunction"]
    events = Path(__file__).resolve().parents[2] / "events"
    wsdl = functions.invoke(fn, json.loads((events / "pnb_soap_wsdl.json").read_text()))
    assert wsdl["statusCode"] == 200 and "https://hub.example.org/v2/pnb-numerique/soap" not in wsdl["body"]
    assert 'location="http://hub.test/v2/pnb-numerique/soap"' in wsdl["body"]  # PUBLIC_BASE_URL wins
    answer = functions.invoke(fn, json.loads((events / "pnb_soap.json").read_text()))
    payload = etree.fromstring(answer["body"].encode())[0][0]
    got = codec.decode(payload, MODEL.elements["getLoanStatusResponse"])
    assert answer["statusCode"] == 200 and got["returnStatus"] == "WARNING"
    assert [x["returnStatus"] for x in got["loanResponseLine"]] == ["NOT_FOUND", "NOT_FOUND"]
