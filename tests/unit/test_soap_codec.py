"""The SOAP codec on its own: the XSD matches the core's request schemas, requests decode into the JSON
door's body, answers encode in the XSD's order and back without loss, XSD violations name the field."""

from __future__ import annotations

from typing import Any

import pytest
from lxml import etree

from lending.pnb import operations
from lending.pnb import requests as rq
from lending.pnb.soap import codec, wsdl
from lending.pnb.soap.schema import MODEL, NS, SERVICES

P = f"{{{NS}}}"


def element(xml: str) -> etree._Element:
    return etree.fromstring(f'<root xmlns="{NS}">{xml}</root>')[0]


def check(xml: str) -> tuple[bool, str]:
    """Validate an operation element; (valid, INVALID_ARGUMENTS message)."""
    el = element(xml)
    ok = MODEL.validator.validate(el)
    if ok:
        return True, ""
    return False, codec.explain(el, MODEL.elements[etree.QName(el).localname]).message


def fields(type_name: str) -> set[str]:
    return set(MODEL.elements[type_name].by_name)


def test_every_service_of_the_core_has_a_request_and_an_answer_element() -> None:
    assert set(SERVICES) == set(operations.OPERATIONS)
    for service in SERVICES:
        assert service in MODEL.elements and f"{service}Response" in MODEL.elements
        assert "requestId" in fields(f"{service}Response") and "returnStatus" in fields(f"{service}Response")


def test_request_elements_carry_exactly_the_core_schemas_fields_and_the_credentials() -> None:
    for service, op in operations.OPERATIONS.items():
        assert fields(service) == set(op.schema.names) | set(op.credentials), service
    send_line = MODEL.elements["sendOrder"].by_name["orderRequestLine"].type
    check_line = MODEL.elements["checkAvailability"].by_name["checkAvailabilityLine"].type
    assert send_line is not None and set(send_line.by_name) == set(rq.ORDER_REQUEST_LINE.names)
    assert check_line is not None and set(check_line.by_name) == set(rq.CHECK_AVAILABILITY_LINE.names)


def test_the_spec_spelling_glncontrator_is_accepted_as_well_as_glncontractor() -> None:
    base = ("<checkAvailability><glnReseller>3012345000017</glnReseller>"
            "<passwordReseller>pw1</passwordReseller>"
            "{}<resellerCountry>FR</resellerCountry><collCountry>FR</collCountry><checkAvailabilityLine>"
            "<ean13>9791000000015</ean13><glnDistributor>3010999000018</glnDistributor><unitPrice>1</unitPrice>"
            "<unitPriceExcludingTax>1</unitPriceExcludingTax><currency>EUR</currency></checkAvailabilityLine>"
            "</checkAvailability>")
    for name in ("glnContractor", "glnContrator"):
        xml = base.format(f"<{name}>3012345000062</{name}>")
        assert check(xml) == (True, "")
        assert codec.decode(element(xml), MODEL.elements["checkAvailability"])[name] == "3012345000062"
    both = base.format("<glnContractor>3012345000062</glnContractor>"
                       "<glnContrator>3012345000062</glnContrator>")
    assert check(both)[0] is False


def test_decode_gives_the_json_doors_body_lists_ints_and_booleans() -> None:
    xml = ("<sendOrder><glnReseller>3012345000017</glnReseller><passwordReseller>pw1</passwordReseller>"
           "<glnColl>3012345000031</glnColl><orderId>O1</orderId><orderIdColl>C1</orderIdColl>"
           "<resellerCountry>FR</resellerCountry><collCountry>FR</collCountry>"
           + "".join(f"<orderRequestLine><ean13>979100000001{i}</ean13>"
                     f"<glnDistributor>3010999000018</glnDistributor>"
                     f"<unitPrice>2400</unitPrice><unitPriceExcludingTax>2275</unitPriceExcludingTax>"
                     f"<taxRate>550</taxRate><currency>EUR</currency><dmdDate>2026-01-02T03:04:05+01:00</dmdDate>"
                     f"</orderRequestLine>" for i in (5, 6))
           + "</sendOrder>")
    assert check(xml) == (True, "")
    body = codec.decode(element(xml), MODEL.elements["sendOrder"])
    assert body["orderRequestLine"][1] == {"ean13": "9791000000016", "glnDistributor": "3010999000018",
                                           "unitPrice": 2400, "unitPriceExcludingTax": 2275, "taxRate": 550,
                                           "currency": "EUR", "dmdDate": "2026-01-02T03:04:05+01:00"}
    assert "glnContractor" not in body and len(body["orderRequestLine"]) == 2
    orders = ("<getOrders><glnColl>3012345000031</glnColl><passwordColl>pw1</passwordColl>"
              "<orderIdColl>C1</orderIdColl><returnLinesWithError>1</returnLinesWithError></getOrders>")
    assert codec.decode(element(orders), MODEL.elements["getOrders"])["returnLinesWithError"] is True
    # A single array element is still an array; an empty marker element is the empty string.
    one = ("<cancelOrder><glnReseller>3012345000017</glnReseller><passwordReseller>pw1</passwordReseller>"
           "<orderId>O1</orderId><orderLineId>123456789012345678901234</orderLineId></cancelOrder>")
    ids = codec.decode(element(one), MODEL.elements["cancelOrder"])["orderLineId"]
    assert ids == ["123456789012345678901234"]
    offers = "<getOffers><glnReseller>3012345000017</glnReseller><passwordReseller>p</passwordReseller>" \
             "<lastConnection/></getOffers>"
    assert check(offers) == (True, "")
    assert codec.decode(element(offers), MODEL.elements["getOffers"])["lastConnection"] == ""


ANSWERS: list[tuple[str, dict[str, Any]]] = [
    ("getOrdersResponse", {
        "requestId": "r1", "returnStatus": "OK", "date": "2026-01-02T03:04:05Z",
        "getOrderResponseLine": [{"returnStatus": "OK", "orderIdColl": "C1", "orderLine": [
            {"NTA": 29, "orderLineId": "1" * 24, "ean13": "9791000000015", "quantity": 1,
             "beginDate": "2026-01-02T03:04:05Z", "endDate": "2036-01-02T03:04:05Z", "NUS1": 1, "NUS2": 2,
             "returnStatus": "OK", "loanUrl": "https://hub.test/warehouse/licences/x/y/loans"}]},
            {"orderIdColl": "C2", "lineReferenceColl": "RC", "returnStatus": "NOT_FOUND",
             "returnMessage": "m",
             "orderLine": [{"orderLineId": "2" * 24, "ean13": "9791000000077", "quantity": 1,
                            "returnStatus": "NOT_FOUND", "returnMessage": "m"}]}]}),
    ("getOrdersResponse", {"requestId": "r2", "date": "2026-01-02T03:04:05Z", "getOrderResponseLine": [],
                           "noOrder": "", "returnStatus": "OK"}),
    ("loanBookResponse", {"requestId": "r3", "orderLineId": "1" * 24, "loanId": "L1",
                          "loanEndDate": "2026-02-02T00:00:00Z", "returnStatus": "OK",
                          "link": {"url": "https://hub.test/f/x", "format": "EPUB",
                                   "formatDescription": "epub",
                                   "ean13": "9791000000015", "mimeType": "application/epub+zip"}}),
    ("getOffersResponse", {"requestId": "r4", "returnStatus": "OK",
                           "onixFileUrl": [{"httpLinks": "https://hub.test/onix/1.xml"},
                                           {"httpLinks": "https://hub.test/onix/2.xml"}]}),
    ("endLoanResponse", {"requestId": "r5", "returnStatus": "AUTHENTICATION_ERROR",
                         "returnMessage": "Bad credentials"}),
]


@pytest.mark.parametrize(("name", "answer"), ANSWERS)
def test_answers_encode_in_xsd_order_valid_and_back_without_loss(name: str, answer: dict[str, Any]) -> None:
    ctype = MODEL.elements[name]
    el = codec.encode(name, answer, ctype)
    assert MODEL.validator.validate(el), MODEL.validator.error_log
    # Lists that are empty have no element to say so: they come back absent.
    expected = {k: v for k, v in answer.items() if v != []}
    assert codec.decode(el, ctype) == expected
    order = [etree.QName(c).localname for c in el]
    assert order == sorted(order, key=[f.name for f in ctype.fields].index)


def test_encoding_details() -> None:
    el = codec.encode("getOffersResponse", {"requestId": "r", "returnStatus": "OK", "noNotice": "",
                                            "onixFileUrl": ["https://hub.test/a.xml"], "notInXsd": 1},
                      MODEL.elements["getOffersResponse"])
    # A bare value fills the structure's one field.
    assert el.findtext(f"{P}onixFileUrl/{P}httpLinks") == "https://hub.test/a.xml"
    assert el.find(f"{P}notInXsd") is None
    # A presence flag (the JSON door's "") goes as `true`, which a client built from the WSDL can see,
    # and comes back as "".
    assert el.findtext(f"{P}noNotice") == "true"
    assert MODEL.validator.validate(el)
    assert codec.decode(el, MODEL.elements["getOffersResponse"])["noNotice"] == ""
    assert MODEL.elements["getOrdersResponse"].by_name["noOrder"].kind == "flag"
    assert MODEL.elements["getOffers"].by_name["lastConnection"].kind == "str"  # a request's stays empty
    empty = codec.encode("getOffersResponse", {"requestId": "r", "returnStatus": "OK"},
                         MODEL.elements["getOffersResponse"])
    empty.insert(1, etree.Element(f"{P}noNotice"))
    assert not MODEL.validator.validate(empty)  # the answer never carries an empty flag
    bad = codec.encode("endLoanResponse",
                       {"requestId": "r", "returnStatus": "ERROR", "returnMessage": "a\x00b"},
                       MODEL.elements["endLoanResponse"])
    assert bad.findtext(f"{P}returnMessage") == "a\ufffdb"


LOAN = ("<loanBook><glnColl>{coll}</glnColl><passwordColl>{pw}</passwordColl>"
        "<orderLineId>{line}</orderLineId>"
        "<loanId>L1</loanId><ean13>9791000000015</ean13><accessMedium>{medium}</accessMedium>"
        "<localization>EX_SITU</localization>{end}</loanBook>")


def loan(**over: str) -> str:
    values = {"coll": "3012345000031", "pw": "collDemo2026", "line": "1" * 24, "medium": "DOWNLOAD",
              "end": "<loanEndDate>2026-02-02T00:00:00Z</loanEndDate>", **over}
    return LOAN.format(**values)


def test_xsd_violations_answer_invalid_arguments_naming_the_field() -> None:
    assert check(loan()) == (True, "")
    ok, message = check(loan(coll="301234500003"))
    assert not ok and message.startswith("The parameter glnColl is invalid") and "301234500003" in message
    assert check(loan(end=""))[1] == "The parameter loanEndDate is mandatory"
    assert "loanEndDate" in check(loan(end="<loanEndDate>2026-02-02T00:00:00</loanEndDate>"))[1]  # no zone
    assert "loanEndDate" in check(loan(end="<loanEndDate>tomorrow</loanEndDate>"))[1]
    medium = check(loan(medium="FAX"))[1]
    assert medium.startswith("The parameter accessMedium is invalid") and "enumeration" in medium
    assert check(loan(line="1" * 25))[1].startswith("The parameter orderLineId is invalid")
    secret = check(loan(pw="not-alnum!!"))[1]
    assert secret == "The parameter passwordColl is invalid: alphanumeric, at most 25 characters"
    long_value = check(loan(coll="9" * 5000))[1]
    assert len(long_value) < 300 and "glnColl" in long_value
    foreign = check(loan(end='<loanEndDate xmlns="urn:other">2026-02-02T00:00:00Z</loanEndDate>'))[1]
    assert foreign == "The parameter {urn:other}loanEndDate is not expected here (expected loanEndDate)"


def test_a_nested_violation_is_named_by_its_path() -> None:
    good = ("<orderRequestLine><ean13>9791000000015</ean13><glnDistributor>3010999000018</glnDistributor>"
            "<unitPrice>1</unitPrice><unitPriceExcludingTax>1</unitPriceExcludingTax><currency>EUR</currency>"
            "<dmdDate>2026-01-01T00:00:00Z</dmdDate></orderRequestLine>")
    head = ("<sendOrder><glnReseller>3012345000017</glnReseller><passwordReseller>p</passwordReseller>"
            "<glnColl>3012345000031</glnColl><orderId>O1</orderId><orderIdColl>C1</orderIdColl>"
            "<resellerCountry>FR</resellerCountry><collCountry>FR</collCountry>")
    assert check(head + good + "</sendOrder>") == (True, "")
    bad_price = good.replace("<unitPrice>1</unitPrice>", "<unitPrice>-5</unitPrice>")
    message = check(head + good + bad_price + "</sendOrder>")[1]
    assert message.startswith("The parameter orderRequestLine.1.unitPrice is invalid")
    no_currency = good.replace("<currency>EUR</currency>", "")
    message = check(head + no_currency + "</sendOrder>")[1]
    assert message == "The parameter orderRequestLine.0.currency is mandatory"
    assert check(head + "</sendOrder>")[1] == "The parameter orderRequestLine is mandatory"
    too_many = check(head + good * 100 + "</sendOrder>")[1]
    assert too_many == "The parameter orderRequestLine.99 is not expected here: at most 99"


def test_an_element_given_twice_or_out_of_place_is_named_itself_not_the_next_field() -> None:
    """libxml2 reports the element it met ("not expected"): that one is named, with why; a required
    element is called mandatory only when it is really given nowhere."""
    good = ("<orderRequestLine><ean13>9791000000015</ean13><glnDistributor>3010999000018</glnDistributor>"
            "<unitPrice>1</unitPrice><unitPriceExcludingTax>1</unitPriceExcludingTax><currency>EUR</currency>"
            "<dmdDate>2026-01-01T00:00:00Z</dmdDate></orderRequestLine>")
    coll, order = "<glnColl>3012345000031</glnColl>", "<orderId>O1</orderId><orderIdColl>C1</orderIdColl>"
    head = ("<sendOrder><glnReseller>3012345000017</glnReseller><passwordReseller>p</passwordReseller>"
            f"{coll}{order}<resellerCountry>FR</resellerCountry><collCountry>FR</collCountry>")

    def send(start: str = head, *lines: str) -> str:
        return check(start + "".join(lines or (good,)) + "</sendOrder>")[1]

    assert send(head.replace(coll, coll * 2)) == "The parameter glnColl is not expected here: duplicated"
    twice = good.replace("<currency>EUR</currency>", "<currency>EUR</currency>" * 2)
    assert send(head, twice) == "The parameter orderRequestLine.0.currency is not expected here: duplicated"
    assert send(head, good, twice) == "The parameter orderRequestLine.1.currency is not expected here: duplicated"
    swapped = head.replace(order, "<orderIdColl>C1</orderIdColl><orderId>O1</orderId>")
    assert send(swapped) == "The parameter orderIdColl is not expected here: out of order (orderId comes first)"
    late = good.replace("<currency>EUR</currency>", "").replace("</orderRequestLine>",
                                                                "<currency>EUR</currency></orderRequestLine>")
    assert send(head, late) == ("The parameter orderRequestLine.0.dmdDate is not expected here: out of order "
                                "(currency comes first)")
    assert send(head.replace(coll, coll + "<foo>1</foo>")) == (
        "The parameter foo is not expected here: unknown parameter (expected glnContractor or glnDelivery or "
        "orderId)")
    # Really absent (given nowhere after), a required element is still the one named, as mandatory.
    assert send(head.replace("<orderId>O1</orderId>", "")) == "The parameter orderId is mandatory"
    assert send(head.replace(coll, "")) == "The parameter glnColl is mandatory"

    both = ("<checkAvailability><glnReseller>3012345000017</glnReseller><passwordReseller>pw1</passwordReseller>"
            "<glnContractor>3012345000062</glnContractor><glnContrator>3012345000062</glnContrator>"
            "<resellerCountry>FR</resellerCountry><collCountry>FR</collCountry><checkAvailabilityLine>"
            "<ean13>9791000000015</ean13><glnDistributor>3010999000018</glnDistributor><unitPrice>1</unitPrice>"
            "<unitPriceExcludingTax>1</unitPriceExcludingTax><currency>EUR</currency></checkAvailabilityLine>"
            "</checkAvailability>")
    assert check(both)[1] == ("The parameter glnContrator is not expected here: glnContractor is already given "
                              "(only one of glnContractor or glnContrator)")

    gln, pw = "<glnColl>3012345000031</glnColl>", "<passwordColl>collDemo2026</passwordColl>"
    assert check(loan().replace(gln, gln * 2))[1] == "The parameter glnColl is not expected here: duplicated"
    assert check(loan().replace(pw, pw * 2))[1] == "The parameter passwordColl is not expected here: duplicated"
    contractor = "<glnContractor>3012345000062</glnContractor>"
    assert check(loan().replace(pw, contractor + pw))[1] == (
        "The parameter glnContractor is not expected here: out of order (passwordColl comes first)")
    assert check(loan().replace(pw, ""))[1] == "The parameter passwordColl is mandatory"
    end = "<loanEndDate>2026-02-02T00:00:00Z</loanEndDate>"
    assert check(loan(end=end * 2))[1] == "The parameter loanEndDate is not expected here: duplicated"
    assert check(loan().replace("<loanId>L1</loanId>", "<loanId>L1</loanId>" * 2))[1] == (
        "The parameter loanId is not expected here: duplicated")


def test_the_wsdl_describes_every_service_document_literal_at_the_callers_address() -> None:
    doc = etree.fromstring(wsdl.document('https://hub.example/"x"'))
    w = {"w": wsdl.WSDL, "s": wsdl.SOAP11_BINDING, "s12": wsdl.SOAP12_BINDING, "xs": "http://www.w3.org/2001/XMLSchema"}
    assert doc.xpath("//w:portType/w:operation/@name", namespaces=w) == list(SERVICES)
    for binding in ("s", "s12"):
        assert doc.xpath(f"//{binding}:binding/@style", namespaces=w) == ["document"]
        assert set(doc.xpath(f"//{binding}:body/@use", namespaces=w)) == {"literal"}
    assert doc.xpath("//s:address/@location", namespaces=w) == ['https://hub.example/"x"/v2/pnb-numerique/soap']
    inline = doc.xpath("//w:types/xs:schema", namespaces=w)
    assert len(inline) == 1 and inline[0].get("targetNamespace") == NS
    etree.XMLSchema(inline[0])  # the inline schema compiles on its own
