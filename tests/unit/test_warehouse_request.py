"""Warehouse request parsing and wording, pure: parameters, every error at once, loan ids, ends."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from lending.domain.codes import Refused, Status
from lending.domain.licences import AccessMedium, Localization, Pool, check_loan, loan_refusals
from lending.domain.offers import LicenceTerms
from lending.pnb.refusals import answer as pnb_answer
from lending.warehouse import codec, errors
from lending.warehouse.request import loan_id, parse, parse_expire_at
from lending.web import MAX_BODY, BadBody, parameters

NOW = datetime(2026, 11, 10, 12, 0, 0, tzinfo=UTC)
IDS = {"borrower_id": "reader1", "transaction_id": "tx1"}
FORM = "application/x-www-form-urlencoded"


def test_a_minimal_request_is_a_download_with_the_publishers_maximum() -> None:
    p = parse(IDS, NOW)
    assert p.errors == set()
    assert (p.medium, p.pool, p.regeneration) == (AccessMedium.DOWNLOAD, Pool.DOWNLOAD, True)
    assert p.requested_end(NOW, 21) == NOW + timedelta(days=21)
    assert p.requested_end(NOW, 60) == NOW + timedelta(days=59)  # never past the spec's 59 days
    assert p.extra() == {"borrowerId": "reader1", "transactionId": "tx1", "medium": "download"}


@pytest.mark.parametrize(("text", "expected"), [
    ("20261201", datetime(2026, 12, 1, tzinfo=UTC)),
    ("20261201T093015", datetime(2026, 12, 1, 9, 30, 15, tzinfo=UTC)),
    ("20261201T093015Z", datetime(2026, 12, 1, 9, 30, 15, tzinfo=UTC)),
    ("2026-12-01", None), ("2026-12-01T09:30:15Z", None), ("20261301", None), ("20260230", None),
    ("20261201T250000", None), ("20261201T0930", None), ("", None), ("tomorrow", None),
])
def test_expire_at_is_iso_8601_basic(text: str, expected: datetime | None) -> None:
    assert parse_expire_at(text) == expected


@pytest.mark.parametrize(("expire_at", "ok"), [
    ("20261110T120001", True), ("20261110T120000", False),  # must be after now
    ("20270108T120000", True), ("20270108T120001", False),  # at most 59 days ahead
    ("20270108", True), ("20270109", False),
])
def test_expire_at_window(expire_at: str, ok: bool) -> None:
    p = parse({**IDS, "expire_at": expire_at}, NOW)
    assert (errors.INVALID_EXPIRATION_DATE not in p.errors) is ok
    if ok:
        assert p.requested_end(NOW, 60) == parse_expire_at(expire_at)


def test_expire_at_and_duration_the_earlier_end_wins() -> None:
    p = parse({**IDS, "expire_at": "20261120", "duration": "3"}, NOW)
    assert p.errors == set() and p.requested_end(NOW, 60) == NOW + timedelta(days=3)
    p = parse({**IDS, "expire_at": "20261112", "duration": "30"}, NOW)
    assert p.requested_end(NOW, 60) == datetime(2026, 11, 12, tzinfo=UTC)


@pytest.mark.parametrize(("params", "expected"), [
    ({}, {"missing_borrower_id", "missing_transaction_id"}),
    ({"borrower_id": " ", "transaction_id": ""}, {"missing_borrower_id", "missing_transaction_id"}),
    ({**IDS, "borrower_id": "x" * 255}, {"invalid_borrower_id"}),
    ({**IDS, "transaction_id": "a b"}, {"invalid_transaction_id"}),
    ({**IDS, "transaction_id": "x" * 254}, set()),
    ({**IDS, "borrower_id": "ABC-123_4.5:6"}, set()),
    ({**IDS, "expire_at": ""}, {"invalid_expiration_date"}),
    ({**IDS, "duration": "0"}, {"duration_parameter_invalid"}),
    ({**IDS, "duration": "-3"}, {"duration_parameter_invalid"}),
    ({**IDS, "duration": "²"}, {"duration_parameter_invalid"}),  # a digit to str.isdigit(), not to int()
    ({**IDS, "duration": "٣"}, {"duration_parameter_invalid"}),
    ({**IDS, "duration": "2.5"}, {"duration_parameter_invalid"}),
    ({**IDS, "duration": "60"}, {"loan_duration_over_maximum"}),
    ({**IDS, "medium": ""}, {"medium_parameter_required"}),
    ({**IDS, "medium": "vinyl"}, {"medium_parameter_invalid"}),
    ({**IDS, "medium": "vinyl", "localisation": "moon"},
     {"medium_parameter_invalid", "localisation_parameter_invalid"}),
    ({**IDS, "medium": "STREAMING"}, {"localisation_parameter_required"}),
    ({**IDS, "medium": "streaming", "localisation": "nowhere"}, {"localisation_parameter_invalid"}),
    ({**IDS, "medium": "streaming", "localization": "off-site"}, set()),  # the spec's other spelling
    ({**IDS, "medium": "streaming", "localisation": "on-site"}, {"ip_address_parameter_required"}),
    ({**IDS, "medium": "streaming", "localisation": "on-site", "ip_address": "1.2.3"},
     {"ip_address_parameter_invalid"}),
    ({**IDS, "medium": "streaming", "localisation": "on-site", "ip_address": "2001:db8::1"}, set()),
    ({**IDS, "localisation": "on-site"}, set()),  # a download is not located
    ({**IDS, "notify_url": "ftp://x.example/"}, {"notify_url_parameter_invalid"}),
    ({**IDS, "notify_url": "http://x.example/a b"}, {"notify_url_parameter_invalid"}),
    ({**IDS, "notify_url": "http://x.example:99999/"}, {"notify_url_parameter_invalid"}),
    ({**IDS, "notify_url": "https://x.example/api/notify/loan/transaction_id/12345/"}, set()),
    ({**IDS, "bill_drm_to": "a;b"}, {"bill_drm_to_parameter_invalid"}),
    ({**IDS, "bill_drm_to": ".."}, {"bill_drm_to_parameter_invalid"}),
    ({**IDS, "bill_drm_to": "_summary"}, {"bill_drm_to_parameter_invalid"}),
    ({**IDS, "bill_drm_to": "SIGB42"}, set()),
])
def test_every_error_that_applies(params: dict[str, str], expected: set[str]) -> None:
    assert parse(params, NOW).errors == expected


def test_pools_by_medium_and_localisation() -> None:
    assert parse({**IDS, "medium": "download"}, NOW).pool is Pool.DOWNLOAD
    on = parse({**IDS, "medium": "streaming", "localisation": "on-site", "ip_address": "10.0.0.1"}, NOW)
    assert (on.pool, on.localisation) == (Pool.ONSITE, Localization.IN_SITU)
    assert on.extra()["localisation"] == "on-site" and on.extra()["medium"] == "streaming"
    assert parse({**IDS, "medium": "Streaming", "localisation": "OFF-SITE"}, NOW).pool is Pool.OFFSITE


def test_loan_id_is_deterministic_per_line_borrower_and_transaction() -> None:
    a = loan_id("1" * 24, "reader1", "tx1")
    assert a == loan_id("1" * 24, "reader1", "tx1")
    assert len(a) == 24 and a.isalnum() and a.startswith("W")  # a valid PNB loanId (endLoan)
    others = {loan_id("2" * 24, "reader1", "tx1"), loan_id("1" * 24, "reader2", "tx1"),
              loan_id("1" * 24, "reader1", "tx2"), loan_id("1" * 24, "reader1t", "x1")}
    assert a not in others and len(others) == 4


def test_fingerprint_tells_a_retry_from_another_request() -> None:
    base = {**IDS, "expire_at": "20261201", "notify_url": "http://x.example/n"}
    line = "1" * 24
    first = parse(base, NOW).fingerprint(line)
    assert first == parse(dict(base), NOW + timedelta(minutes=5)).fingerprint(line)
    assert first != parse({**base, "expire_at": "20261202"}, NOW).fingerprint(line)
    assert first != parse({**base, "medium": "streaming", "localisation": "off-site"}, NOW).fingerprint(line)


def test_error_names_are_unique_and_in_spec_order() -> None:
    assert len(set(errors.ALL)) == len(errors.ALL)
    assert errors.ordered({"maximum_simultaneous_offsite_streamings_reached", "missing_borrower_id",
                           "notify_url_parameter_invalid", "invalid_expiration_date"}) == [
        "invalid_expiration_date", "missing_borrower_id", "maximum_simultaneous_offsite_streamings_reached",
        "notify_url_parameter_invalid"]
    assert errors.for_reason("pool_full", Pool.ONSITE) == "maximum_simultaneous_onsite_streamings_reached"
    assert errors.for_reason("nta_exhausted", Pool.DOWNLOAD) == "maximum_loans_qty_reached"
    assert errors.for_reason("licence_expired", Pool.DOWNLOAD) == "loan_term_limit_reached"
    assert errors.for_reason("duplicated", Pool.DOWNLOAD) == "no_loan_available"
    assert errors.for_reason("something_new", Pool.DOWNLOAD) == "no_loan_available"


def test_loan_refusals_lists_every_reason_and_check_loan_raises_the_first() -> None:
    from lending.domain.licences import Licence

    terms = LicenceTerms(loans=1, downloads=1, onsite_streams=0, offsite_streams=1, licence_days=10,
                         max_loan_days=5)
    lic = Licence.new(order_line_id="1" * 24, gln_coll="c", gln_reseller="r", order_id="o", ean13="e",
                      gln_distributor="d", terms=terms, dmd_date=NOW - timedelta(days=20))
    lic.nta, lic.free[Pool.DOWNLOAD] = 0, 0
    reasons = [r.reason for r in loan_refusals(lic, Pool.DOWNLOAD, NOW)]
    assert reasons == ["licence_expired", "nta_exhausted", "pool_full"]
    with pytest.raises(Refused) as got:
        check_loan(lic, Pool.DOWNLOAD, NOW)
    assert pnb_answer(got.value)[0] is Status.LOAN_DURATION_EXPIRED
    assert loan_refusals(lic, Pool.ONSITE, NOW)[0].reason == "cannot_be_loaned"
    fresh = Licence.new(order_line_id="1" * 24, gln_coll="c", gln_reseller="r", order_id="o", ean13="e",
                        gln_distributor="d", terms=terms, dmd_date=NOW - timedelta(days=1))
    assert loan_refusals(fresh, Pool.DOWNLOAD, NOW) == []
    check_loan(fresh, Pool.DOWNLOAD, NOW)


def _event(body: str | bytes, ctype: str | None, query: str = "", b64: bool = False) -> dict:
    raw = body.encode() if isinstance(body, str) else body
    return {"headers": {"content-type": ctype} if ctype else {}, "rawQueryString": query,
            "body": base64.b64encode(raw).decode() if b64 else raw.decode(), "isBase64Encoded": b64}


def test_codec_reads_form_json_multipart_and_query() -> None:
    form = _event("borrower_id=r%201&transaction_id=t1&transaction_id=t2&medium=", FORM)
    assert parameters(form) == {"borrower_id": "r 1", "transaction_id": "t1", "medium": ""}
    as_json = _event(json.dumps({"borrower_id": "r", "duration": 14, "notify_url": None, "medium": ["x"],
                                 "ip_address": True}), "application/json; charset=utf-8")
    got = parameters(as_json)
    assert got == {"borrower_id": "r", "duration": "14", "medium": "\x00", "ip_address": "true"}
    assert parse(got, NOW).errors >= {"medium_parameter_invalid", "ip_address_parameter_invalid"}
    untyped = _event('{"borrower_id": "r"}', None)
    assert parameters(untyped) == {"borrower_id": "r"}
    boundary = "XyZ"
    multipart = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"borrower_id\"\r\n\r\nr9\r\n"
                 f"--{boundary}\r\nContent-Disposition: form-data; name=\"expire_at\"\r\n\r\n20261201\r\n"
                 f"--{boundary}--\r\n")
    got = parameters(_event(multipart, f"multipart/form-data; boundary={boundary}", b64=True))
    assert got == {"borrower_id": "r9", "expire_at": "20261201"}
    query = _event("transaction_id=body", FORM, query="transaction_id=q&borrower_id=b")
    assert parameters(query) == {"transaction_id": "body", "borrower_id": "b"}


@pytest.mark.parametrize(("body", "ctype"), [
    ("{not json", "application/json"), ("[1, 2]", "application/json"), (b"\xff\xfe=1", "text/plain"),
    ("x" * (MAX_BODY + 1), "application/x-www-form-urlencoded"),
])
def test_codec_refuses_unreadable_bodies(body: str | bytes, ctype: str) -> None:
    with pytest.raises(BadBody):
        parameters(_event(body, ctype, b64=isinstance(body, bytes)))


def test_codec_answers() -> None:
    ok = codec.created("http://h/fulfillment/abc.def", "http://h/warehouse/loans/abc.def").event()
    assert ok["statusCode"] == 201 and ok["body"] == ok["headers"]["Location"] == "http://h/fulfillment/abc.def"
    assert ok["headers"]["Content-Type"].startswith("text/plain")
    assert ok["headers"]["Link"] == '<http://h/warehouse/loans/abc.def>; rel="return"'
    bad = codec.refused(400, {"missing_transaction_id", "missing_borrower_id"}).event()
    assert bad["statusCode"] == 400
    assert json.loads(bad["body"]) == ["missing_borrower_id", "missing_transaction_id"]
