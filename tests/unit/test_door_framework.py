"""The one door framework (lending/web.py): what it reads from an API Gateway HTTP API event, how a
door's error table and fault answer are applied, and that every HTTP function of template.yaml goes
through it."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

import pytest

from lending import web
from lending.domain.refusals import Reason, Refused
from lending.local import functions, template
from lending.web import Answer, BadBody, BadText, Door, Request


def event(body: str | bytes = "", headers: dict[str, str] | None = None, path: str = "/v1/loans.json",
          query: str = "", stage: str = "$default", **extra: Any) -> dict[str, Any]:
    encoded = isinstance(body, bytes)
    return {
        "version": "2.0", "routeKey": "POST /v1/loans.{format}", "rawPath": path, "rawQueryString": query,
        "headers": headers or {}, "pathParameters": {"format": "json"},
        "requestContext": {"domainName": "abc123.execute-api.eu-west-3.amazonaws.com", "stage": stage,
                           "requestId": "rid-1", "http": {"method": "POST", "sourceIp": "203.0.113.9"}},
        "body": base64.b64encode(body).decode() if encoded else body, "isBase64Encoded": encoded, **extra,
    }


# --- reading an event ---

def test_a_base64_body_is_decoded_and_read_in_its_charset() -> None:
    text = "titre=Les Misérables&n=1"
    ctype = "application/x-www-form-urlencoded; charset=ISO-8859-1"
    req = Request(event(text.encode("latin-1"), {"Content-Type": ctype}))
    assert req.body() == text.encode("latin-1") and req.text() == text
    assert req.content_type == "application/x-www-form-urlencoded" and req.charset == "ISO-8859-1"
    assert web.parameters(req) == {"titre": "Les Misérables", "n": "1"}


def test_a_body_that_is_not_base64_or_too_large_is_bad() -> None:
    bad = event()
    bad.update(body="%%%not base64", isBase64Encoded=True)
    with pytest.raises(BadBody, match="not base64"):
        Request(bad).body()
    with pytest.raises(BadBody, match="too large"):
        Request(event(b"x" * 101)).body(100)
    with pytest.raises(BadText) as bad_text:
        Request(event(b"\xff\xfe", {"content-type": "text/plain"})).text()
    assert bad_text.value.field == "body"


@pytest.mark.parametrize(("header", "expected"), [
    ("Basic " + base64.b64encode(b"3025594195000:mot de passe:avec").decode(), ("3025594195000", "mot de passe:avec")),
    ("basic " + base64.b64encode("é:x".encode()).decode(), ("é", "x")),
    ("Basic " + base64.b64encode(b"no-colon").decode(), ("", "")),  # given, and wrong
    ("Basic %%%", ("", "")),
    ("Bearer abc", None),
    ("", None),
])
def test_basic_credentials(header: str, expected: tuple[str, str] | None) -> None:
    req = Request(event(headers={"Authorization": header} if header else {}))
    assert req.basic == expected


def test_the_key_as_basic_user_name() -> None:
    req = Request(event(headers={"authorization": "Basic " + base64.b64encode(b"the-key:").decode()}))
    assert req.basic_user == "the-key" and Request(event()).basic_user is None


def test_headers_query_path_cookies_and_the_caller() -> None:
    req = Request(event(headers={"X-Api-Key": "k", "Cookie": "a=1; b=2; a=3"}, query="a=1&a=2&b="))
    assert req.headers["x-api-key"] == "k"
    assert req.query == {"a": "1", "b": ""}  # the first of a repeated parameter
    assert req.cookies == {"a": "1", "b": "2"}
    assert Request(event(cookies=["lh_session=s", "lh_lang=fr"])).cookies == {"lh_session": "s", "lh_lang": "fr"}
    assert (req.method, req.path, req.route, req.path_params) == ("POST", "/v1/loans.json", "POST /v1/loans.{format}",
                                                                    {"format": "json"})
    assert (req.source_ip, req.request_id) == ("203.0.113.9", "rid-1")


def test_base_url_as_the_caller_reached_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    # the API's own domain (no Host header): its domain name
    assert Request(event()).base_url == "https://abc123.execute-api.eu-west-3.amazonaws.com"
    # a custom domain: the Host the caller used (its mapping takes any stage out of the path)
    assert Request(event(headers={"Host": "prets.example.fr"})).base_url == "https://prets.example.fr"
    # a named stage on the API's own URL: the stage is part of the address, not of the route's path
    staged = Request(event(path="/prod/v1/loans.json", stage="prod"))
    assert staged.base_url == "https://abc123.execute-api.eu-west-3.amazonaws.com/prod"
    assert staged.path == "/v1/loans.json"
    # the local stack says http
    assert Request(event(headers={"host": "127.0.0.1:3000", "x-forwarded-proto": "http"})).base_url == \
        "http://127.0.0.1:3000"
    # a deployment that names its address wins over all of them
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://hub.example.org/")
    assert Request(event(path="/prod/x", stage="prod")).base_url == "https://hub.example.org"


def test_an_event_that_is_not_a_dict_reads_as_empty() -> None:
    req = Request(None)  # type: ignore[arg-type]
    assert (req.method, req.path, req.headers, req.body()) == ("GET", "/", {}, b"")


# --- answering ---

def test_answers_text_bytes_and_cookies() -> None:
    assert Answer(200, "ok", {"Content-Type": "text/plain"}).event() == {
        "statusCode": 200, "headers": {"Content-Type": "text/plain"}, "body": "ok"}
    out = Answer(200, b"\x00\xff", cookies=["a=1; Path=/"]).event()
    assert out["isBase64Encoded"] is True and base64.b64decode(out["body"]) == b"\x00\xff"
    assert out["cookies"] == ["a=1; Path=/"]


def _door() -> Door[tuple[int, str]]:
    """A door of its own: refusals through a table, unreadable bodies through another entry."""
    table = {Reason.LOAN_NOT_FOUND: (404, "no_such_loan")}

    def refused(req: Request, r: Refused) -> tuple[int, str]:
        return table.get(r.reason, (400, "refused"))

    def encode(req: Request, out: tuple[int, str]) -> Answer:
        return web.json_answer(out[0], {"error": out[1]})

    def fault(req: Request, request_id: str) -> Answer:
        return web.json_answer(500, {"error": "internal", "requestId": request_id})

    return Door("test", fault, {Refused: refused, BadBody: lambda req, e: (400, f"body: {e}")}, encode)


def _answer(door: Door[Any], serve: Any, **kw: Any) -> tuple[int, dict[str, Any]]:
    out = door.handler(serve)(event(**kw), functions.LambdaContext("test"))
    return out["statusCode"], json.loads(out["body"])


def test_a_refusal_goes_through_the_doors_table() -> None:
    def serve(req: Request) -> tuple[int, str]:
        raise Refused(Reason.LOAN_NOT_FOUND)

    assert _answer(_door(), serve) == (404, {"error": "no_such_loan"})


def test_the_most_specific_entry_wins() -> None:
    door = _door()
    door.errors[BadText] = lambda req, e: (400, f"text {e.field}")

    def serve(req: Request) -> tuple[int, str]:
        web.parameters(req)
        return 200, "ok"

    assert _answer(door, serve, body="{") == (400, {"error": "body: not JSON"})
    assert _answer(door, serve, body='{"a": "\\u0001"}', headers={"content-type": "application/json"}) == \
        (400, {"error": "text a"})
    assert _answer(door, serve, body="a=1") == (200, {"error": "ok"})


def test_a_fault_is_answered_in_the_doors_shape_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    def serve(req: Request) -> tuple[int, str]:
        raise RuntimeError("/secret/path")

    with caplog.at_level(logging.ERROR):
        status, body = _answer(_door(), serve)
    assert (status, body) == (500, {"error": "internal", "requestId": "rid-1"})
    records = [r for r in caplog.records if getattr(r, "requestId", None) == "rid-1"]
    assert len(records) == 1 and records[0].exc_info is not None


def test_a_fault_of_the_encoder_is_a_fault_too() -> None:
    door = _door()

    def serve(req: Request) -> tuple[int, str]:
        return 200, "ok"

    door.encode = lambda req, out: 1 / 0  # type: ignore[assignment,return-value]
    assert _answer(door, serve)[0] == 500


# --- every HTTP function goes through it ---

def test_every_http_function_of_the_template_is_built_by_a_door() -> None:
    fns = template.functions(template.load())
    http = {name: fn for name, fn in fns.items() if fn.routes}
    assert len(http) > 30  # the template is read (each PNB service, v1, warehouse, LCP, console, patron...)
    not_doors = {name for name, fn in http.items()
                 if not isinstance(getattr(functions.handler(fn), "door", None), Door)}
    assert not_doors == set()
    # and nothing else builds an HTTP answer's event by hand in functions/: one-liners over a door
    for fn in http.values():
        assert "statusCode" not in (fn.code_uri / "app.py").read_text(), fn.name
