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
