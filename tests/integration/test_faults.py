"""An unexpected fault still answers in the door's own shape (PNB 500 ERROR with its requestId, a SOAP
Server fault naming the request, v1 and warehouse 500 JSON), and is logged once, with that request id."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from lxml import etree

from lending.local import demo
from lending.pnb.soap.schema import NS
from tests.helpers import coll_auth, invoke, line, order_ok
from tests.v1_helpers import KEY

pytestmark = pytest.mark.usefixtures("aws")


def boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("/secret/path/in/a/trace")


def once(caplog: pytest.LogCaptureFixture, request_id: str) -> None:
    """Exactly one log record names the request, at ERROR with the exception."""
    records = [r for r in caplog.records if getattr(r, "requestId", None) == request_id]
    assert len(records) == 1, [r.getMessage() for r in caplog.records]
    assert records[0].levelname == "ERROR" and records[0].exc_info is not None


def test_pnb_json(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr("lending.pnb.json_door.run", boom)
    status, answer = invoke("POST", "/v2/pnb-numerique/getOrders", {**coll_auth(), "orderIdColl": "C1"})
    assert status == 500 and answer["returnStatus"] == "ERROR" and answer["returnMessage"] == "Internal error"
    assert "secret" not in json.dumps(answer)
    once(caplog, answer["requestId"])


def test_pnb_soap(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr("lending.pnb.soap.door.run", boom)
    raw = (f'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><p:getOrders xmlns:p="{NS}">'
           f"<p:glnColl>{demo.COLL}</p:glnColl><p:passwordColl>{demo.COLL_PASSWORD}</p:passwordColl>"
           "<p:orderIdColl>C1</p:orderIdColl></p:getOrders></s:Body></s:Envelope>")
    status, payload = invoke("POST", "/v2/pnb-numerique/soap", raw, {"content-type": "text/xml"})
    node = etree.fromstring(payload.encode())[0][0]
    assert status == 500 and node.findtext("faultcode") == "soap:Server"
    request_id = node.findtext(f"detail/{{{NS}}}pnbFault/{{{NS}}}requestId")
    assert request_id and "secret" not in payload
    once(caplog, request_id)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_v1(fmt: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr("lending.v1.door.count", boom)  # outside the action's own net
    from lending.local import functions
    from lending.local.gateway import Gateway, build_event
    from tests.helpers import _functions

    fns = _functions()
    gw = Gateway.__new__(Gateway)
    gw.routes = [r for f in fns.values() for r in f.routes]
    route, params, _ = gw.match("GET", f"/v1/loans.{fmt}")
    assert route is not None
    event = build_event("GET", f"/v1/loans.{fmt}", "", {"host": "hub.test", **KEY}, b"", route, params, "127.0.0.1")
    status, headers, payload = Gateway.translate(functions.invoke(fns[route.function], event))
    assert status == 500 and b"internal_error" in payload and b"secret" not in payload
    assert headers["X-Request-Id"] == event["requestContext"]["requestId"]
    once(caplog, headers["X-Request-Id"])


def test_warehouse(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from tests.integration.test_warehouse import loan_url

    [line_id] = order_ok(line())
    path = urlsplit(loan_url(line_id)).path
    monkeypatch.setattr("lending.warehouse.handlers.lend_by_url", boom)
    from lending.local import functions
    from lending.local.gateway import Gateway, build_event
    from tests.helpers import _functions

    fns = _functions()
    gw = Gateway.__new__(Gateway)
    gw.routes = [r for f in fns.values() for r in f.routes]
    route, params, _ = gw.match("POST", path)
    assert route is not None
    event = build_event("POST", path, "", {"host": "hub.test", "content-type": "application/x-www-form-urlencoded"},
                        b"borrower_id=b&transaction_id=t", route, params, "127.0.0.1")
    status, headers, payload = Gateway.translate(functions.invoke(fns[route.function], event))
    assert (status, json.loads(payload)) == (500, ["internal_error"])
    once(caplog, headers["X-Request-Id"])
