"""Text that is not text (lone surrogates, control characters, bytes not of the declared charset) is the
protocol's invalid-argument answer naming the field, on every door, before anything reads it: never a
500, never an answer that cannot be encoded. And SOAP applies the XSD's defaults (`<quantity/>` is 1)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from lxml import etree

from lending.local import demo
from lending.pnb.operations import OPERATIONS
from lending.pnb.soap import codec
from lending.pnb.soap.schema import MODEL, NS
from tests.helpers import coll_auth, invoke, line, order_body, order_ok, pnb
from tests.v1_helpers import KEY

pytestmark = pytest.mark.usefixtures("aws")
SURROGATE = "\ud800"
CREDENTIALS = {
    ("glnReseller", "passwordReseller"): (demo.RESELLER, demo.RESELLER_PASSWORD),
    ("glnColl", "passwordColl"): (demo.COLL, demo.COLL_PASSWORD),
    ("glnDistributor", "passwordDistributor"): (demo.DISTRIBUTOR, demo.DISTRIBUTOR_PASSWORD),
    ("login", "password"): (demo.COLL, demo.COLL_PASSWORD),  # returnLoan, extendLoan, getUserAgent
}


def raw_invoke(method: str, path: str, body: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """Like helpers.invoke, but the answer's bytes as a client would get them (encoding them must work)."""
    from lending.local import functions
    from lending.local.gateway import Gateway, build_event
    from tests.helpers import _functions

    fns = _functions()
    gw = Gateway.__new__(Gateway)
    gw.routes = [r for f in fns.values() for r in f.routes]
    route, params, _ = gw.match(method, path)
    assert route is not None
    hdrs = {"host": "hub.test", "content-type": "application/json", **(headers or {})}
    event = build_event(method, path, "", hdrs, body.encode("utf-8", "surrogatepass"), route, params, "127.0.0.1")
    status, _, payload = Gateway.translate(functions.invoke(fns[route.function], event))
    return status, payload


@pytest.mark.parametrize("service", sorted(OPERATIONS))
def test_a_lone_surrogate_is_invalid_arguments_naming_the_field_on_every_pnb_service(service: str) -> None:
    gln_field, password_field = OPERATIONS[service].credentials
    gln, password = CREDENTIALS[OPERATIONS[service].credentials]
    for field in ("orderIdColl", "orderId", "loanId"):
        body = {gln_field: gln, password_field: password, field: SURROGATE}
        status, answer = invoke("POST", f"/v2/pnb-numerique/{service}", body)  # json.dumps escapes it: \ud800
        assert status == 200, answer
        assert answer["returnStatus"] == "INVALID_ARGUMENTS", answer
        assert answer["returnMessage"] == f"The parameter {field} is invalid: not valid Unicode text"
        assert answer["requestId"]


def test_get_orders_with_a_surrogate_answers_in_utf8() -> None:
    body = json.dumps({**coll_auth(), "orderIdColl": SURROGATE})  # the example, as sent
    status, payload = raw_invoke("POST", "/v2/pnb-numerique/getOrders", body)
    answer = json.loads(payload.decode("utf-8"))
    assert status == 200 and answer["returnStatus"] == "INVALID_ARGUMENTS", answer


def test_invalid_text_in_an_order_line_is_named_and_stores_nothing() -> None:
    def orders() -> Any:
        return pnb("getOrders", {**coll_auth(), "sinceDate": "2020-01-01T00:00:00Z",
                                   "returnLinesWithError": True}).get("getOrderResponseLine")

    before = orders()
    for bad in (SURROGATE, "a\x01b", "x\x7f"):
        answer = pnb("sendOrder", order_body(line(), line(currency=bad)))
        assert answer["returnStatus"] == "INVALID_ARGUMENTS", answer
        assert answer["returnMessage"].startswith("The parameter orderRequestLine.1.currency is invalid")
    assert orders() == before


def test_a_bad_credential_text_is_an_authentication_error() -> None:
    answer = pnb("getOrders", {**coll_auth(password="pw" + SURROGATE)})
    assert (answer["returnStatus"], answer["returnMessage"]) == ("AUTHENTICATION_ERROR", "Bad credentials")


def test_a_key_that_is_not_text_is_named_by_where_it_is() -> None:
    answer = pnb("getOrders", {**coll_auth(), SURROGATE: "x"})
    assert answer["returnStatus"] == "INVALID_ARGUMENTS"
    assert answer["returnMessage"] == "The parameter (a parameter name) is invalid: not valid Unicode text"


def test_a_body_not_in_its_declared_charset_is_refused_and_a_declared_latin1_one_is_read() -> None:
    from lending.local import functions
    from lending.local.gateway import Gateway, build_event
    from tests.helpers import _functions

    fns = _functions()
    gw = Gateway.__new__(Gateway)
    gw.routes = [r for f in fns.values() for r in f.routes]
    route, params, _ = gw.match("POST", "/v2/pnb-numerique/getOrders")
    assert route is not None
    body = json.dumps({**coll_auth(), "orderIdColl": "é"}, ensure_ascii=False)
    for charset, raw, expected in (("utf-8", body.encode("latin-1"), 400), ("iso-8859-1", body.encode("latin-1"), 200),
                                   ("no-such-charset", body.encode(), 400)):
        event = build_event("POST", route.path, "", {"host": "hub.test",
                            "content-type": f"application/json; charset={charset}"}, raw, route, params, "127.0.0.1")
        status, _, payload = Gateway.translate(functions.invoke(fns[route.function], event))
        answer = json.loads(payload)
        assert status == expected, (charset, answer)
        assert answer["requestId"]
        if status == 400:
            assert answer["returnStatus"] == "INVALID_ARGUMENTS"


def test_v1_text_that_is_not_text_is_400_naming_the_parameter() -> None:
    ean = order_ok(line()) and "9791000000015"
    for fmt in ("json", "xml"):
        for params, code in (({"member_id": "m1", "return_url": "https://x.test/" + SURROGATE}, "invalid_return_url"),
                             ({"member_id": "m1", "notify": 1, "email": SURROGATE + "@x.test"}, "invalid_email"),
                             ({"member_id": "m\x00"}, "invalid_member_id")):
            body = json.dumps(params)
            status, payload = raw_invoke("POST", f"/v1/media/{ean}/loans.{fmt}", body, KEY)
            text = payload.decode("utf-8")
            assert status == 400, text
            assert code in text and "is invalid" in text


def test_warehouse_ids_that_are_not_text_are_their_own_400() -> None:
    from tests.integration.test_warehouse import loan_url

    [line_id] = order_ok(line())
    path = urlsplit(loan_url(line_id)).path
    for field, name in (("borrower_id", "invalid_borrower_id"), ("transaction_id", "invalid_transaction_id")):
        params = {"borrower_id": "b1", "transaction_id": "t1", field: SURROGATE}
        status, payload = raw_invoke("POST", path, json.dumps(params))
        assert (status, json.loads(payload)) == (400, [name])


def _soap(service: str, inner: str) -> tuple[int, etree._Element]:
    raw = (f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>'
           f'<p:{service} xmlns:p="{NS}">{inner}</p:{service}></s:Body></s:Envelope>')
    status, payload = invoke("POST", "/v2/pnb-numerique/soap", raw.encode(), {"content-type": "text/xml"})
    return status, etree.fromstring(payload.encode() if isinstance(payload, str) else payload)[0][0]


def test_soap_empty_quantity_takes_the_xsd_default() -> None:
    body = order_body(line())
    request = codec.encode("sendOrder", body, MODEL.elements["sendOrder"])
    quantity = request.find(f"{{{NS}}}orderRequestLine/{{{NS}}}quantity")
    assert quantity is not None
    quantity.text = None  # <quantity/>: schema-valid, the XSD's default is 1
    inner = "".join(etree.tostring(c).decode() for c in request)
    status, answer = _soap("sendOrder", inner)
    assert status == 200, etree.tostring(answer)
    decoded = codec.decode(answer, MODEL.elements["sendOrderResponse"])
    assert decoded["returnStatus"] == "OK", decoded
    [line_id] = [x["orderLineId"] for x in decoded["orderResponseLine"]]
    status_line = pnb("getLoanStatus", {**coll_auth(), "orderLineId": [line_id]})["loanResponseLine"][0]
    assert status_line["returnStatus"] == "OK"


def test_soap_text_with_a_control_character_is_invalid_arguments_naming_the_field() -> None:
    inner = (f"<p:glnColl>{demo.COLL}</p:glnColl><p:passwordColl>{demo.COLL_PASSWORD}</p:passwordColl>"
             "<p:orderIdColl>a&#x7f;b</p:orderIdColl>")
    status, answer = _soap("getOrders", inner)
    decoded = codec.decode(answer, MODEL.elements["getOrdersResponse"])
    assert status == 200 and decoded["returnStatus"] == "INVALID_ARGUMENTS", decoded
    assert decoded["returnMessage"].startswith("The parameter orderIdColl is invalid"), decoded
