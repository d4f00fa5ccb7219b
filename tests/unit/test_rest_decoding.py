"""Dilicom's REST binding, decoded: Spring notation, HTTP Basic, and the dates real clients write."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest

from lending.domain.dates import PNB_ZONE, parse_iso
from lending.web import BadBody, basic_credentials, nest, spring_parameters


def test_spring_notation_nests_lists_and_sub_objects() -> None:
    query = ("glnColl=3012345000031&orderLineId%5B0%5D=111&orderLineId%5B1%5D=222&DRMinfo.readerId=abc"
             "&userInfo.year=1980&orderRequestLine[1].ean13=978&orderRequestLine[0].ean13=979"
             "&orderRequestLine[0].quantity=2&ips=1.2.3.4&ips=5.6.7.8&php[]=a&php[]=b&assoc[key]=v&gap[3]=x")
    assert nest(parse_qsl(query), frozenset({"quantity"})) == {
        "glnColl": "3012345000031", "orderLineId": ["111", "222"], "DRMinfo": {"readerId": "abc"},
        "userInfo": {"year": "1980"}, "orderRequestLine": [{"ean13": "979", "quantity": 2}, {"ean13": "978"}],
        "ips": ["1.2.3.4", "5.6.7.8"], "php": ["a", "b"], "assoc": {"key": "v"}, "gap": ["x"]}


@pytest.mark.parametrize("query", ["a=1&a.b=2", "a.b=2&a=1", "a[256]=1", "a[0]=1&a.b=2", ".x=1", "a\x01=1",
                                   "a.b.c.d.e.f.g=1"])
def test_what_the_binding_cannot_read_is_bad(query: str) -> None:
    with pytest.raises(BadBody):
        nest(parse_qsl(query))


def event(body: str | None, ctype: str = "application/json", query: str = "", **headers: str) -> dict[str, object]:
    return {"rawQueryString": query, "body": body, "headers": {"content-type": ctype, **headers}}


def test_the_body_shape_decides_not_the_content_type() -> None:
    assert spring_parameters(event("orderLineId%5B0%5D=1&returnEndedLoan=0")) == {
        "orderLineId": ["1"], "returnEndedLoan": "0"}  # PMB: a form body under application/json
    assert spring_parameters(event('{"orderLineId": ["1"]}', "application/x-www-form-urlencoded")) == {
        "orderLineId": ["1"]}
    assert spring_parameters(event(None, query="orderLineId[0]=9")) == {"orderLineId": ["9"]}
    for bad in ("{", "null", "42", '"x"', "[1]"):
        with pytest.raises(BadBody):
            spring_parameters(event(bad))


def test_basic_credentials() -> None:
    def auth(value: str) -> tuple[str, str] | None:
        return basic_credentials({"headers": {"Authorization": value}})

    assert auth("Basic " + base64.b64encode(b"3012345000031:collDemo2026").decode()) == (
        "3012345000031", "collDemo2026")
    assert auth("basic " + base64.b64encode(b"a:b:c").decode()) == ("a", "b:c")
    assert auth("Basic !!!") == ("", "") and auth("Basic " + base64.b64encode(b"nocolon").decode()) == ("", "")
    assert auth("Bearer x") is None and basic_credentials({"headers": {}}) is None


def test_dates_as_real_clients_write_them() -> None:
    winter = datetime(2026, 12, 13, 23, tzinfo=UTC)
    assert parse_iso("2026-12-14T00:00:00+0100") == winter  # PHP's DateTime::ISO8601 (PMB)
    assert parse_iso("2026-12-14T00:00:00+01:00") == winter
    assert parse_iso("2026-12-13T23:00:00Z") == winter
    assert parse_iso("2026-12-14T00:00:00") is None  # no zone: refused unless the caller names one
    assert parse_iso("2026-12-14T00:00:00", naive_zone=PNB_ZONE) == winter
    assert parse_iso("2026-07-14T00:00:00", naive_zone=PNB_ZONE) == datetime(2026, 7, 13, 22, tzinfo=UTC)
    for bad in ("2026-12-14T00:00:00+01", "2026-12-14T00:00:00+2500", "2026-12-14", "2026-13-01T00:00:00Z"):
        assert parse_iso(bad, naive_zone=PNB_ZONE) is None, bad


def test_a_body_read_as_a_parameter_name_is_never_echoed() -> None:
    """Found by the fuzzer: JSON in UTF-16 sent to a form door became one "name" and the refusal quoted its
    first 64 characters, the caller's password among them."""
    with pytest.raises(BadBody) as e:
        nest([('{"glnColl": "3012345000031", "passwordColl": "s3cret-pass", "x": [1.5]}', "")])
    assert "s3cret" not in str(e.value) and "JSON body sent as a form" in str(e.value)
    with pytest.raises(BadBody) as e:
        nest([("a..b", "x")])
    assert "'a..b'" in str(e.value)  # a short name that only breaks the notation is still named
