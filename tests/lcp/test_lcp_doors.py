"""The doors' LCP parameters on emulated AWS: PNB over SOAP and JSON (DRMinfo), v1 (passphrase); a
passphrase that will not do is refused, never turned into a plain loan. A renewal by any door (PNB
extendLoan, v1 PUT, LSD renew) is the core's one renewal, and the licence follows the loan's end."""

from __future__ import annotations

import json
from typing import Any

import pytest

from lending.domain.refusals import Reason, Refused
from lending.lcp.licence import LICENCE_TYPE
from lending.local import demo
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
    answer = pnb("loanBook", loan_body(lid, "BADPASS2", DRMinfo={"readerPass": ""}))
    assert answer["returnStatus"] == "INVALID_ARGUMENTS" and "readerPass" in answer["returnMessage"]
    # The REST binding reads every value as text (a form body has no numbers): 12345 is the passphrase "12345".
    answer = pnb("loanBook", loan_body(lid, "NUMPASS1", DRMinfo={"readerPass": 12345}))
    assert answer["returnStatus"] == "OK" and answer["link"]["protection"] == "LCP"
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
    assert loan_store.get(demo.COLL, "CRASH1").state.value == "ACTIVE"  # type: ignore[union-attr]
    with pytest.raises(Refused) as refused:
        lcp.return_loan(Ctx(now=now), str(doc["id"]), "other", "Other")
    assert refused.value.reason is Reason.RETURNED_BY_ANOTHER_DEVICE
    lsd = lcp.return_loan(Ctx(now=now, base_url="http://hub.test"), str(doc["id"]), "dev", "App")
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


def _status(licence_id: str) -> dict[str, Any]:
    status, lsd = invoke("GET", f"/lcp/status/{licence_id}")
    assert status == 200, lsd
    validate(lsd, "status")
    return dict(lsd)


def test_a_renewal_by_extend_loan_or_v1_put_moves_the_licence_end_and_the_status_document() -> None:
    from datetime import UTC, datetime, timedelta

    from lending.services import clock
    from tests.helpers import iso

    (lid,) = order_ok(line())
    start = datetime.now(UTC).replace(microsecond=0)
    with clock.frozen(start):
        answer = pnb("loanBook", loan_body(lid, "LCPEXT1", days=14, now=start, DRMinfo=DRM))
        doc = licence_of(answer["link"]["url"])
        lsd = _status(str(doc["id"]))
    assert doc["rights"]["end"] == iso(start + timedelta(days=14))  # type: ignore[index]
    assert lsd["potential_rights"]["end"] == iso(start + timedelta(days=60))  # the offer's 60 days
    # PNB extendLoan: the licence re-fetched (its link, and the status document's license link) says so.
    with clock.frozen(start + timedelta(days=1)):
        got = pnb("extendLoan", {"login": demo.COLL, "password": demo.COLL_PASSWORD, "orderLineId": lid,
                                 "loanId": "LCPEXT1", "date": iso(start + timedelta(days=20))})
        assert got["returnStatus"] == "OK", got
        lsd = _status(str(doc["id"]))
        assert lsd["updated"]["license"] > str(doc["updated"])  # the app is told to fetch it again
        renewed = licence_of(next(x["href"] for x in lsd["links"] if x["rel"] == "license"))
        assert renewed["rights"]["end"] == iso(start + timedelta(days=20))  # type: ignore[index]
        assert renewed["id"] == doc["id"] and renewed["encryption"] == doc["encryption"]
        assert renewed["signature"] != doc["signature"]  # signed again, by the provider
        assert licence_of(answer["link"]["url"])["rights"] == renewed["rights"]
        assert renewed["updated"] == lsd["updated"]["license"]

    # v1 PUT on a v1 LCP loan: GET /v1/loans/{id} answers the licence with the new end.
    with clock.frozen(start):
        status, made = invoke("POST", "/v1/media/9791000000015/loans.json",
                              {"member_id": "lcpren", "passphrase": "v1 words"}, KEY)
        assert status == 201, made
    with clock.frozen(start + timedelta(days=2)):
        status, _ = invoke("PUT", f"/v1/loans/{made['id']}.json", {"expires_at": iso(start + timedelta(days=25))}, KEY)
        assert status == 200
        status, v1doc = invoke("GET", f"/v1/loans/{made['id']}", None, KEY)
        assert status == 200 and v1doc["rights"]["end"] == iso(start + timedelta(days=25))
        validate(v1doc, "license")


def test_lsd_renew_is_the_core_renewal_and_its_refusals_are_renew_problems() -> None:
    from datetime import UTC, datetime, timedelta

    from lending.services import clock
    from tests.helpers import iso

    (lid,) = order_ok(line())
    start = datetime.now(UTC).replace(microsecond=0)
    with clock.frozen(start):
        answer = pnb("loanBook", loan_body(lid, "LCPREN1", days=14, now=start, DRMinfo=DRM))
        lid_ = str(licence_of(answer["link"]["url"])["id"])
    base = f"/lcp/status/{lid_}/renew?id=dev&name=App"
    with clock.frozen(start + timedelta(days=1)):
        for end, code, words in ((start + timedelta(days=14), 400, iso(start + timedelta(days=14))),  # not later
                                 (start + timedelta(days=61), 403, "60 days"),
                                 (None, 200, "")):
            status, body = invoke("PUT", base + (f"&end={iso(end)}" if end else ""))
            assert status == code, body
            if code != 200:
                assert body["type"].endswith("/error/renew") and words in body["title"] and body["status"] == code
        # Without an end: the potential_rights end, the latest the offer allows; the loan and licence moved.
        latest = iso(start + timedelta(days=60))
        assert body["potential_rights"]["end"] == latest and "renew" not in {x["rel"] for x in body["links"]}
        assert [e["type"] for e in body["events"]] == ["renew"]
        assert licence_of(answer["link"]["url"])["rights"]["end"] == latest  # type: ignore[index]
        status, body = invoke("PUT", base)  # nothing later is left
        assert status == 400 and body["type"].endswith("/error/renew")
        status, body = invoke("PUT", f"/lcp/status/{lid_}/renew?id=&name=App")
        assert status == 400 and body["type"].endswith("/error/renew")  # the device is needed
    with clock.frozen(start + timedelta(days=61)):  # the loan is over: refused, as a renewal
        status, body = invoke("PUT", base + f"&end={iso(start + timedelta(days=62))}")
        assert status == 400 and body["type"].endswith("/error/renew") and body["title"] == "The loan has ended."
        status, body = invoke("POST", f"/lcp/status/{lid_}/register?id=dev&name=App")
        assert status == 400 and body["type"].endswith("/error/registration")
