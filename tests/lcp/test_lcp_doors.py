"""The doors' LCP parameters on emulated AWS: PNB over SOAP and JSON (DRMinfo), v1 (passphrase); a
passphrase that will not do is refused, never turned into a plain loan."""

from __future__ import annotations

import json

import pytest

from lending.lcp.licence import LICENCE_TYPE
from tests.helpers import invoke, line, loan_body, order_ok, pnb
from tests.integration.test_soap_door import soap
from tests.lcp.conftest import validate
from tests.v1_helpers import KEY

pytestmark = pytest.mark.usefixtures("aws")
DRM = {"readerPass": "secret words", "readerHint": "Two words"}


def licence_of(url: str) -> dict[str, object]:
    status, doc = invoke("GET", url.removeprefix("http://hub.test"))
    assert status == 200, doc
    validate(doc, "license")
    return dict(doc)


def test_soap_loan_book_with_drm_info_answers_an_lcp_link() -> None:
    (lid,) = order_ok(line())
    answer = soap("loanBook", loan_body(lid, "SOAPLCP1", DRMinfo=DRM))
    assert answer["returnStatus"] == "OK"
    assert answer["link"]["protection"] == "LCP" and answer["link"]["mimeType"] == LICENCE_TYPE
    doc = licence_of(answer["link"]["url"])
    assert doc["encryption"]["user_key"]["text_hint"] == "Two words"  # type: ignore[index]


def test_a_passphrase_that_will_not_do_is_refused() -> None:
    (lid,) = order_ok(line())
    answer = pnb("loanBook", loan_body(lid, "BADPASS1", DRMinfo={"readerPass": "x" * 257}))
    assert answer["returnStatus"] == "INVALID_ARGUMENTS" and "readerPass" in answer["returnMessage"]
    answer = pnb("loanBook", loan_body(lid, "BADPASS2", DRMinfo={"readerPass": 12345}))
    assert answer["returnStatus"] == "INVALID_ARGUMENTS"
    status, body = invoke("POST", "/v1/media/9791000000015/loans.json",
                          {"member_id": "lcpbad", "passphrase": "x" * 257}, KEY)
    assert status == 400 and body["errors"] == ["invalid_passphrase"]


def test_v1_loan_with_a_passphrase_answers_its_licence_file() -> None:
    order_ok(line())
    status, made = invoke("POST", "/v1/media/9791000000015/loans.json",
                          {"member_id": "lcp1", "passphrase": "v1 words", "passphrase_hint": "v1"}, KEY)
    assert status == 201, made
    status, doc = invoke("GET", f"/v1/loans/{made['id']}", None, KEY)
    assert status == 200 and doc["encryption"]["user_key"]["text_hint"] == "v1"
    validate(doc, "license")
    status, again = invoke("GET", f"/v1/loans/{made['id']}.xml", None, KEY)
    assert status == 200 and json.dumps(again) == json.dumps(doc)  # the file, whatever the suffix


def test_a_return_interrupted_after_its_record_is_finished_by_the_same_device() -> None:
    from datetime import UTC, datetime

    from lending.lcp.status import Event, EventType
    from lending.services import lcp
    from lending.services.context import Ctx
    from lending.store import lcp as lcp_store
    from lending.store import loans as loan_store

    (lid,) = order_ok(line())
    answer = pnb("loanBook", loan_body(lid, "CRASH1", DRMinfo=DRM))
    doc = licence_of(answer["link"]["url"])
    now = datetime.now(UTC)
    # The device's return was recorded, then the function died before the loan ended.
    assert lcp_store.mark_returned(str(doc["id"]), Event(EventType.RETURN, "dev", "App", now))
    from lending.local import demo
    assert loan_store.get(demo.COLL, "CRASH1").state.value == "ACTIVE"  # type: ignore[union-attr]
    with pytest.raises(lcp.LsdRefused):
        lcp.give_back(Ctx(now=now), str(doc["id"]), "other", "Other")
    lsd = lcp.give_back(Ctx(now=now, base_url="http://hub.test"), str(doc["id"]), "dev", "App")
    assert lsd["status"] == "returned"
    assert loan_store.get(demo.COLL, "CRASH1").state.value == "RETURNED"  # type: ignore[union-attr]


def test_warehouse_refuses_a_passphrase_that_will_not_do() -> None:
    from datetime import UTC, datetime, timedelta

    from tests.helpers import coll_auth

    (lid,) = order_ok(line())
    orders = pnb("getOrders", {**coll_auth(), "orderIdColl": "COLL1"})
    url = next(x["orderLine"][0]["loanUrl"] for x in orders["getOrderResponseLine"]
               if x["orderLine"][0]["orderLineId"] == lid)
    expire = (datetime.now(UTC) + timedelta(days=7)).strftime("%Y%m%dT%H%M%S")
    base = {"borrower_id": "wlcp1", "transaction_id": "wlcptx1", "expire_at": expire}
    path = url.removeprefix("http://hub.test")
    status, body = invoke("POST", path, {**base, "passphrase": "x" * 257})
    assert status == 400 and body == ["passphrase_parameter_invalid"]
    status, body = invoke("POST", path, {**base, "passphrase": "ok words", "passphrase_hint": "h" * 201})
    assert status == 400 and body == ["passphrase_parameter_invalid"]
    status, body = invoke("POST", path, {**base, "passphrase": "ok words"})
    assert status == 201, body
    assert licence_of(str(body))["encryption"]["user_key"]["algorithm"]  # type: ignore[index]
