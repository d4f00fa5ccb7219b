"""Hostile requests for every door of the hub, as hypothesis strategies, and the promises every answer
keeps: no 5xx, no dropped connection, no answer over 5 s, the door's own format (PNB JSON with a
requestId, SOAP that parses with a requestId even in a Fault, v1 JSON or XML, warehouse's shapes), no
trace, path or secret in any answer.

Shared by the bounded run of `make test` (tests/e2e/test_fuzz.py) and the long one of `make fuzz`
(tools/fuzz.py). Valid credentials are mixed in so that most requests get past authentication; wrong
ones name unknown accounts and come from many loopback addresses (127.0.0.2-254), so that the sign-in
throttling of the demo accounts and of 127.0.0.1 (which the other tests use) is never reached."""

from __future__ import annotations

import base64
import http.client
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape

from hypothesis import strategies as st
from lxml import etree

from lending.domain.codes import Status
from lending.domain.identifiers import gs1_check_digit
from lending.local import demo
from lending.pnb.operations import OPERATIONS
from lending.pnb.soap.schema import MODEL, NS

SLOW_SECONDS = 5.0
LEAKS = ("Traceback", 'File "', "/work/", "/home/", "site-packages", ".py\"", "passwordColl>" + demo.COLL_PASSWORD,
         demo.COLL_PASSWORD, demo.RESELLER_PASSWORD, demo.DISTRIBUTOR_PASSWORD, "local-stack-signing-key")
CREDENTIALS = {
    ("glnReseller", "passwordReseller"): (demo.RESELLER, demo.RESELLER_PASSWORD),
    ("glnColl", "passwordColl"): (demo.COLL, demo.COLL_PASSWORD),
    ("glnDistributor", "passwordDistributor"): (demo.DISTRIBUTOR, demo.DISTRIBUTOR_PASSWORD),
    ("login", "password"): (demo.COLL, demo.COLL_PASSWORD),  # returnLoan, extendLoan, getUserAgent (PMB's names)
}
RENEWED_ENDS = ["2027-01-10T00:00:00Z", "2026-12-01T00:00:00+01:00", "2020-01-01"]  # v1 PUT: later, sooner, past
EANS = ["9791000000015", "9791000000022", "9791000000039", "9791000000046", "9791000000053", demo.UNKNOWN_EAN]
_sources = itertools.cycle(range(2, 255))


def gln_of(payload: str) -> str:
    return payload + gs1_check_digit(payload)


# --- values ------------------------------------------------------------------------------------------

ODD = ["\ud800", "\udfff", "a\ud83d", "\ud83d\ude00", "\x00", "\x01\x02", "\x7f", "\x85", "\u2028", "\ufeff",
       "\ufffe", "\uffff", "\U0010ffff", "é", "𝔘", " ", "", "\t\r\n", "x" * 70_000, "9" * 400, "-1", "0", "1e309",
       "NaN", "2026-02-30T25:61:61Z", "0000-00-00", "9999-12-31T23:59:59Z", "1970-01-01T00:00:00+14:00",
       "2026-11-29", "20261129T120000", "../../etc/passwd", "%00", "%ud800", "<x/>", "]]>", "&amp;",
       "' OR 1=1 --", "${jndi:ldap://127.0.0.1/x}", "http://169.254.169.254/latest/meta-data/",
       "http://127.0.0.1:1/", "https://x.test/" + "a" * 3000, "1.2.3.4", "::1", "0.0.0.0/0", "DOWNLOAD", "STREAMING",
       "IN_SITU", "EX_SITU", "EUR", "FR"]


def texts(plausible: list[str] | None = None) -> st.SearchStrategy[str]:
    """Text as a caller might send it: plausible values, odd ones, lone surrogates, controls, any Unicode."""
    options: list[st.SearchStrategy[str]] = [
        st.sampled_from(ODD),
        st.text(max_size=40),
        st.text(st.characters(codec=None, categories=["Cs", "Cc", "Co", "Cn"]), min_size=1, max_size=8),
        st.builds(lambda a, b, c: a + b + c, st.sampled_from([*EANS, "COLL1", "abc"]),
                  st.sampled_from(["\ud800", "\x00", "\x1b", "\x7f", ""]), st.text(max_size=4)),
    ]
    if plausible:
        options.insert(0, st.sampled_from(plausible))
    return st.one_of(*options)


def deep(depth: int) -> Any:
    value: Any = "x"
    for i in range(depth):
        value = [value] if i % 2 else {"a": value}
    return value


SCALARS = st.one_of(texts(), st.integers(), st.integers(min_value=-(10**40), max_value=10**40),
                    st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none())
VALUES = st.one_of(
    SCALARS,
    st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts(), inner, max_size=4),
                 max_leaves=12),
    st.sampled_from([5, 50, 600, 3000]).map(deep),
    st.lists(st.sampled_from(["1.2.3.4", "9791000000015", "x"]), min_size=100, max_size=150),
)


# --- requests ----------------------------------------------------------------------------------------

@dataclass
class Req:
    door: str  # pnb, soap, v1, warehouse, links, http
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    note: str = ""  # what the figures and failures name it by
    wrong_credentials: bool = False
    expect: dict[str, Any] = field(default_factory=dict)  # what a success would be (loan on a known line)


@dataclass
class Target:
    """What the fuzzer may aim at: lines it ordered, their warehouse URLs, a v1 key, loans it made (PNB
    (line, loanId) for returnLoan and extendLoan, v1 ids for PUT and DELETE /v1/loans/{id})."""
    lines: list[str]
    loan_urls: list[str]
    loans: list[tuple[str, str]] = field(default_factory=list)
    v1_loans: list[str] = field(default_factory=list)
    v1_key: str = demo.COLL2_API_KEY
    v1_ean: str = "9791000000053"
    console_cookie: str = ""  # "name=value" of a signed-in distributor console session (empty: none)
    console_csrf: str = ""  # that session's CSRF token


def _credentials(draw: Any, pair: tuple[str, str]) -> tuple[dict[str, Any], bool]:
    gln_field, password_field = pair
    gln, password = CREDENTIALS[pair]
    kind = draw(st.sampled_from(["valid"] * 6 + ["unknown", "malformed", "missing", "other_role"]))
    if kind == "valid":
        return {gln_field: gln, password_field: password}, False
    if kind == "unknown":  # a well-formed GLN of no account: counted against that GLN and this address only
        return {gln_field: gln_of(f"3019{draw(st.integers(0, 10**8 - 1)):08d}"), password_field: "wrong1"}, True
    if kind == "malformed":  # refused before any sign-in is counted
        return {gln_field: gln, password_field: draw(st.sampled_from(["\ud800", "a" * 40, "pa ss", "", "é"]))}, True
    if kind == "other_role":
        other = next(p for p in CREDENTIALS if p != pair)
        return {gln_field: CREDENTIALS[other][0], password_field: CREDENTIALS[other][1]}, True
    return {}, True


FIELDS = sorted({f.name for t in MODEL.elements.values() for f in t.fields} - {"requestId", "returnStatus"})


@st.composite
def pnb_body(draw: Any, service: str, target: Target) -> tuple[dict[str, Any], bool]:
    op = OPERATIONS[service]
    body, wrong = _credentials(draw, op.credentials)
    request_type = MODEL.elements[service]
    names = [f.name for f in request_type.fields if f.name not in op.credentials]
    plausible = {"orderLineId": target.lines, "ean13": EANS, "glnColl": [demo.COLL],
                 "glnDistributor": [demo.DISTRIBUTOR],
                 "loanerColl": [demo.COLL, demo.LIBRARY],
                 "accessMedium": ["DOWNLOAD", "STREAMING"], "localization": ["EX_SITU", "IN_SITU"],
                 "loanEndDate": ["2027-01-01T00:00:00Z", "2026-12-20T10:00:00+01:00"], "orderIdColl": ["COLL1"],
                 "date": ["2027-01-15T00:00:00Z", "2026-12-31T10:00:00+01:00", "2026-01-01T00:00:00Z"],
                 "glnContractor": [demo.COLL, demo.RESELLER]}
    for name in draw(st.lists(st.sampled_from(names + FIELDS), max_size=len(names) + 2, unique=True)):
        if name in plausible and draw(st.booleans()):
            body[name] = draw(st.sampled_from(plausible[name]))
        else:
            body[name] = draw(VALUES)
    if service in ("loanBook", "consultBook") and draw(st.booleans()):  # often a loan that can succeed
        if draw(st.booleans()):  # and then often nothing else
            body = {k: v for k, v in body.items() if k in op.credentials}
        body.update({"orderLineId": draw(st.sampled_from(target.lines)), "loanId": f"FZ{draw(st.integers(0, 10**9))}",
                     "ean13": "9791000000015", "accessMedium": "DOWNLOAD", "localization": "EX_SITU"})
        body.setdefault("loanEndDate", "2027-01-01T00:00:00Z")
        body.setdefault("consultEndDate", "2027-01-01T00:00:00Z")
    if service in ("returnLoan", "extendLoan") and target.loans and draw(st.booleans()):  # a loan that exists
        line, loan = draw(st.sampled_from(target.loans))
        body.update({"orderLineId": line, "loanId": loan})
        if service == "extendLoan" and draw(st.booleans()):
            body["date"] = draw(st.sampled_from(plausible["date"]))
    return body, wrong


def _json_bytes(draw: Any, value: Any) -> tuple[bytes, str]:
    """A JSON body in one of the ways a client may get it wrong or right."""
    how = draw(st.sampled_from(["ascii", "ascii", "utf8", "raw_surrogates", "latin1_declared", "latin1_undeclared",
                                "utf16", "bad_charset", "truncated", "not_json"]))
    try:
        text = json.dumps(value)
    except (ValueError, RecursionError):
        text = json.dumps(str(value)[:100])
    ctype = "application/json"
    if how == "utf8":
        return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass"), ctype
    if how == "raw_surrogates":
        return text.replace("\\ud800", "\ud800").encode("utf-8", "surrogatepass"), ctype
    if how == "latin1_declared":
        return json.dumps(value, ensure_ascii=False).encode("latin-1", "replace"), ctype + "; charset=iso-8859-1"
    if how == "latin1_undeclared":
        return json.dumps(value, ensure_ascii=False).encode("latin-1", "replace"), ctype
    if how == "utf16":
        return text.encode("utf-16"), ctype + "; charset=utf-16"
    if how == "bad_charset":
        return text.encode(), ctype + "; charset=x-no-such"
    if how == "truncated":
        return text[: max(1, len(text) // 2)].encode(), ctype
    if how == "not_json":
        return draw(st.sampled_from([b"", b"null", b"[]", b"\xff\xfe", b"{" * 3000, b"1" * 5000])), ctype
    return text.encode(), ctype


@st.composite
def pnb_json(draw: Any, target: Target) -> Req:
    service = draw(st.sampled_from(sorted(OPERATIONS)))
    body, wrong = draw(pnb_body(service, target))
    raw, ctype = _json_bytes(draw, body)
    return Req("pnb", "POST", f"/v2/pnb-numerique/{service}", {"Content-Type": ctype}, raw, service, wrong,
               _loan_expectation(service, body))


def _spring_pairs(value: Any, key: str, out: list[tuple[str, str]], depth: int = 0) -> None:
    """A body as Dilicom's REST binding reads a form: `a[0].b=x`, `DRMinfo.readerPass=y` (past depth 10,
    one name deeper than the binding reads, and its value as text)."""
    if depth > 10:
        out.append((key, "x"))
    elif isinstance(value, dict):
        for k, v in list(value.items())[:8]:
            _spring_pairs(v, f"{key}.{k}" if key else str(k), out, depth + 1)
    elif isinstance(value, list):
        for i, v in enumerate(value[:8]):
            _spring_pairs(v, f"{key}[{i}]", out, depth + 1)
    elif value is not None:
        out.append((key, str(value)[:3000]))


@st.composite
def pnb_rest(draw: Any, target: Target) -> Req:
    """The REST binding (json/ paths, as PMB calls it): credentials by HTTP Basic or as parameters, the rest
    as a form body or query string in Spring notation, DRMinfo by dotted keys, now and then as JSON."""
    service = draw(st.sampled_from(sorted(OPERATIONS)))
    body, wrong = draw(pnb_body(service, target))
    headers: dict[str, str] = {}
    if draw(st.booleans()):
        gln_field, password_field = OPERATIONS[service].credentials
        login, password = str(body.pop(gln_field, "")), str(body.pop(password_field, ""))
        token = base64.b64encode(f"{login}:{password}".encode("utf-8", "surrogatepass")).decode()
        headers["Authorization"] = draw(st.sampled_from([f"Basic {token}", f"Basic {token}", "Basic %%%", "Bearer x"]))
    if service in ("loanBook", "consultBook") and draw(st.booleans()):
        body["DRMinfo"] = {"userAgent": draw(texts(["PMB-1", "x"])), "readerPass": draw(texts(["cGFzcw==", ""])),
                           "readerHint": draw(texts(["hint"])), "readerId": "CB000001"}
    if draw(st.integers(0, 4)) == 0:
        raw, ctype = _json_bytes(draw, body)
        headers["Content-Type"] = ctype
        return Req("pnb", "POST", f"/v2/pnb-numerique/json/{service}", headers, raw, f"rest {service}", wrong,
                   _loan_expectation(service, body))
    pairs: list[tuple[str, str]] = []
    _spring_pairs(body, "", pairs)
    form = urlencode([(k.encode("utf-8", "surrogatepass"), v.encode("utf-8", "surrogatepass")) for k, v in pairs])
    if draw(st.booleans()):
        return Req("pnb", "GET", f"/v2/pnb-numerique/json/{service}?{form}"[:6000], headers, b"",
                   f"rest {service}", wrong, _loan_expectation(service, body))
    headers["Content-Type"] = draw(st.sampled_from(["application/x-www-form-urlencoded", "application/json"]))
    return Req("pnb", "POST", f"/v2/pnb-numerique/json/{service}", headers, form.encode(), f"rest {service}", wrong,
               _loan_expectation(service, body))


def _loan_expectation(service: str, body: dict[str, Any]) -> dict[str, Any]:
    if service in ("loanBook", "consultBook") and isinstance(body.get("orderLineId"), str):
        return {"line": body["orderLineId"], "loan": str(body.get("loanId"))}
    return {}


def _xml_text(draw: Any, value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value) if not isinstance(value, float) else repr(value)
    how = draw(st.sampled_from(["escaped", "escaped", "char_refs", "cdata", "empty"]))
    if how == "empty":
        return ""
    if how == "char_refs":  # what XML cannot carry, written as references: libxml2 must refuse them
        return "".join(f"&#x{ord(c):x};" if ord(c) < 0x20 or 0xD800 <= ord(c) <= 0xDFFF or ord(c) > 0x7e else escape(c)
                       for c in text[:200])
    if how == "cdata":
        return "<![CDATA[" + text.replace("]]>", "") + "]]>"
    return escape(text)


@st.composite
def pnb_soap(draw: Any, target: Target) -> Req:
    service = draw(st.sampled_from(sorted(OPERATIONS)))
    body, wrong = draw(pnb_body(service, target))
    parts = []
    for name, value in body.items():
        safe_name = name if name.isidentifier() and name.isascii() else "bad"
        items = value if isinstance(value, list) and draw(st.booleans()) else [value]
        for item in items[:120]:
            parts.append(f"<p:{safe_name}>{_xml_text(draw, item)}</p:{safe_name}>")
    version = draw(st.sampled_from(["http://schemas.xmlsoap.org/soap/envelope/",
                                    "http://www.w3.org/2003/05/soap-envelope"]))
    prolog = draw(st.sampled_from(["", '<?xml version="1.0" encoding="UTF-8"?>',
                                   '<?xml version="1.0" encoding="ISO-8859-1"?>',
                                   '<?xml version="1.0" encoding="x-no-such"?>', '<?xml version="1.1"?>']))
    op = draw(st.sampled_from([service, service, service, "notAService"]))
    text = (f'{prolog}<s:Envelope xmlns:s="{version}"><s:Body><p:{op} xmlns:p="{NS}">{"".join(parts)}'
            f"</p:{op}></s:Body></s:Envelope>")
    raw = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 9)) == 0:
        raw = raw[: draw(st.integers(0, len(raw)))]  # truncated
    ctype = "application/soap+xml; charset=utf-8" if "2003" in version else "text/xml; charset=utf-8"
    return Req("soap", "POST", "/v2/pnb-numerique/soap", {"Content-Type": ctype}, raw, service, wrong,
               _loan_expectation(service, body) if op == service else {})


def _segment(draw: Any, plausible: list[str]) -> str:
    value = draw(texts(plausible))
    return quote(value.encode("utf-8", "surrogatepass")[:300], safe="") or "x"


@st.composite
def v1(draw: Any, target: Target) -> Req:
    fmt = draw(st.sampled_from(["json", "xml"]))
    member = draw(st.sampled_from([f"fz{draw(st.integers(0, 10**6))}", "m1"]) | texts())
    params: dict[str, Any] = {"member_id": member}
    for name in draw(st.lists(st.sampled_from(["return_url", "email", "notify", "expires_at", "start_at", "end_at",
                                               "page", "per_page", "x"]), max_size=4, unique=True)):
        params[name] = draw(VALUES)
    kind = draw(st.sampled_from(["create", "create", "list", "get", "delete", "renew", "renew", "courtesy"]))
    if kind == "renew" and draw(st.booleans()):
        params["expires_at"] = draw(st.sampled_from(RENEWED_ENDS))
    ean = draw(st.sampled_from([target.v1_ean, target.v1_ean, "9791000000015"])) if draw(st.booleans()) else \
        _segment(draw, EANS)
    if kind == "create":
        method, path = "POST", f"/v1/media/{ean}/loans.{fmt}"
    elif kind == "list":
        method, path = "GET", f"/v1/loans.{fmt}?" + urlencode(
            {k: str(v)[:50].encode("utf-8", "surrogatepass") for k, v in params.items()})
    elif kind in ("get", "delete", "renew"):
        method = {"get": "GET", "delete": "DELETE", "renew": "PUT"}[kind]
        path = f"/v1/loans/{_segment(draw, [*target.v1_loans, 'L1'])}" + draw(st.sampled_from([f".{fmt}", ""]))
    else:
        method, path = "GET", f"/v1/members/{_segment(draw, ['m1'])}/courtesy_loans.{fmt}"
    key = draw(st.sampled_from([target.v1_key] * 5 + ["", "nope", "\x7fkey", "k" * 5000]))
    headers = {"X-Api-Key": key} if key else {}
    if method in ("POST", "PUT"):
        if draw(st.booleans()):
            raw, ctype = _json_bytes(draw, params)
        else:
            raw = urlencode({k: str(v)[:3000].encode("utf-8", "surrogatepass") for k, v in params.items()}).encode()
            ctype = "application/x-www-form-urlencoded"
        headers["Content-Type"] = ctype
    else:
        raw = b""
    return Req("v1", method, path, headers, raw, f"{kind}.{fmt}", key != target.v1_key)


@st.composite
def warehouse(draw: Any, target: Target) -> Req:
    if draw(st.integers(0, 3)) == 0:
        token = draw(st.sampled_from([u.rsplit("/", 2)[-2] for u in target.loan_urls]) | st.text(max_size=30))
        method, path = draw(st.sampled_from(["DELETE", "POST"])), f"/warehouse/loans/{quote(token, safe='') or 'x'}"
        if method == "POST":
            path += "/return"
        return Req("warehouse", method, path, {}, b"", "return")
    url_path = draw(st.sampled_from(target.loan_urls))
    if draw(st.integers(0, 4)) == 0:  # tampered token or line
        url_path = url_path[:-12] + _segment(draw, ["abc"]) + "/loans"
    params: dict[str, Any] = {"borrower_id": draw(st.sampled_from([f"b{draw(st.integers(0, 10**6))}"]) | texts()),
                              "transaction_id": draw(st.sampled_from([f"t{draw(st.integers(0, 10**6))}"]) | texts())}
    if draw(st.integers(0, 2)) == 0:  # a loan that can be made
        params = {"borrower_id": f"b{draw(st.integers(0, 10**6))}", "transaction_id": f"t{draw(st.integers(0, 10**6))}"}
    for name in draw(st.lists(st.sampled_from(["expire_at", "duration", "medium", "localisation", "ip_address",
                                               "notify_url", "bill_drm_to", "x"]), max_size=4, unique=True)):
        params[name] = draw(VALUES)
    if draw(st.booleans()):
        raw, ctype = _json_bytes(draw, params)
    else:
        raw = urlencode({k: str(v)[:3000].encode("utf-8", "surrogatepass") for k, v in params.items()}).encode()
        ctype = "application/x-www-form-urlencoded"
    line = url_path.split("/")[3]  # /warehouse/licences/{orderLineId}/{token}/loans
    return Req("warehouse", "POST", url_path, {"Content-Type": ctype}, raw, "lend",
               expect={"line": line, "loan": f"W:{params['borrower_id']!r}:{params['transaction_id']!r}"})


@st.composite
def links(draw: Any, target: Target) -> Req:
    token = draw(st.sampled_from(["x", "a.b", "a" * 5000, "..%2F..%2Fetc%2Fpasswd", "%00", "%ED%A0%80"])
                 | st.text(max_size=60).map(lambda t: quote(t, safe="") or "x"))
    return Req("links", "GET", f"/fulfillment/{token}", {}, b"", "link")


# --- the HTML doors, the distributor's JSON, LSD and the catalogue (harvest) ---------------------------

FORM_FIELDS = ["email", "password", "password2", "code", "q", "csrf", "ean13", "title", "publisher", "availability",
               "price", "currency", "tax_rate", "model", "loans", "downloads", "onsite_streams", "offsite_streams",
               "licence_days", "max_loan_days", "ips", "role", "library", "day", "lang", "tz", "member", "next",
               "maxActiveLoans", "maxLoansPerDay", "defaultLoanDays", "x"]
METHODS = ["GET"] * 4 + ["POST"] * 6 + ["PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE"]  # mostly the doors' own
HUGE = [b"a=" + b"x" * 1_500_000, b"\xff" * 200_000, b"--b\r\n" * 50_000]


def _form_bytes(draw: Any, fields: dict[str, Any]) -> tuple[bytes, str]:
    """A form body as a browser (or not a browser) may send it: urlencoded, in an odd charset, multipart
    (sound or broken), JSON, a huge one."""
    how = draw(st.sampled_from(["urlencoded", "urlencoded", "urlencoded", "latin1", "bad_bytes", "multipart",
                                "broken_multipart", "json", "huge", "none"]))
    pairs = [(k.encode("utf-8", "surrogatepass"), str(v)[:3000].encode("utf-8", "surrogatepass"))
             for k, v in fields.items()]
    if how == "latin1":
        return urlencode([(k, v.decode("utf-8", "replace").encode("latin-1", "replace")) for k, v in pairs]).encode(), \
            "application/x-www-form-urlencoded; charset=iso-8859-1"
    if how == "bad_bytes":
        return b"&".join(k + b"=" + v for k, v in pairs) + b"&\xff\xfe=\xc3", "application/x-www-form-urlencoded"
    if how in ("multipart", "broken_multipart"):
        parts = b"".join(b"--fzb\r\nContent-Disposition: form-data; name=\"" + k + b"\"\r\n\r\n" + v + b"\r\n"
                         for k, v in pairs)
        epub = b"PK\x03\x04" + b"\x00" * draw(st.integers(0, 2000))
        parts += (b"--fzb\r\nContent-Disposition: form-data; name=\"epub\"; filename=\"b.epub\"\r\n"
                  b"Content-Type: application/epub+zip\r\n\r\n" + epub + b"\r\n")
        if how == "multipart":
            return parts + b"--fzb--\r\n", "multipart/form-data; boundary=fzb"
        return parts[: draw(st.integers(0, len(parts)))], draw(st.sampled_from(
            ["multipart/form-data; boundary=fzb", "multipart/form-data", "multipart/form-data; boundary=",
             "multipart/form-data; boundary=" + "b" * 300]))
    if how == "json":
        return _json_bytes(draw, fields)
    if how == "huge":
        return draw(st.sampled_from(HUGE)), draw(st.sampled_from(["application/x-www-form-urlencoded",
                                                                   "multipart/form-data; boundary=b"]))
    if how == "none":
        return b"", ""
    return urlencode(pairs).encode(), "application/x-www-form-urlencoded"


def _cookie_header(draw: Any, names: list[str], valid: str = "") -> str:
    kind = draw(st.sampled_from(["none", "garbage", "garbage", "valid", "valid", "many"] if valid else
                                ["none", "garbage", "many"]))
    if kind == "none":
        return ""
    if kind == "valid":
        return valid
    junk = draw(st.sampled_from(["", "x", "a" * 5000, "%00", "\u00e9", "..", "a;b", "=", "\"q\""])
                | st.text(st.characters(min_codepoint=0x21, max_codepoint=0xff, exclude_characters=";,"), max_size=60))
    if kind == "many":
        return "; ".join(f"{n}={junk}" for n in names * 20)[:8000]
    return f"{draw(st.sampled_from(names))}={junk}"


def _html_req(draw: Any, door: str, path: str, cookie_names: list[str], valid_cookie: str, valid_csrf: str,
              note: str, origin: str) -> Req:
    method = draw(st.sampled_from(METHODS))
    headers: dict[str, str] = {}
    cookie = _cookie_header(draw, cookie_names, valid_cookie)
    if cookie:
        headers["Cookie"] = cookie.encode("latin-1", "replace").decode("latin-1")
    fields: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(FORM_FIELDS), max_size=8, unique=True)):
        fields[name] = draw(VALUES)
    csrf = draw(st.sampled_from(["missing", "wrong", "valid", "valid"] if valid_csrf else ["missing", "wrong"]))
    if csrf == "valid":
        fields["csrf"] = valid_csrf
    elif csrf == "wrong":
        fields["csrf"] = draw(st.sampled_from(["x", "", "\ud800", "a" * 4000]))
    else:
        fields.pop("csrf", None)
    if draw(st.booleans()):
        headers["Origin"] = draw(st.sampled_from([origin, origin, "https://evil.example", "null", "\x7f"]))
    body = b""
    if method in ("POST", "PUT", "PATCH"):
        body, ctype = _form_bytes(draw, fields)
        if ctype:
            headers["Content-Type"] = ctype
    elif draw(st.integers(0, 3)) == 0:
        path += "?" + urlencode([(k.encode("utf-8", "surrogatepass"), str(v)[:500].encode("utf-8", "surrogatepass"))
                                 for k, v in fields.items()])
    # valid sessions never sign out (the rest of the run would be signed out)
    if valid_cookie and cookie == valid_cookie and "sign-out" in path:
        headers.pop("Cookie")
    return Req(door, method, path[:7000], headers, body, note, wrong_credentials=True)


CONSOLE_PATHS = ["", "", "sign-in", "sign-in/code", "sign-out", "forgot", "reset/{t}", "welcome/{t}", "lang/{t}",
                 "dashboard", "licences", "patrons", "patrons/{t}", "patrons/{t}/key", "patrons/{t}/password",
                 "patrons/{t}/loans/{t}/return", "settings", "settings/limits", "settings/ips", "settings/api-key",
                 "staff", "staff/invite", "staff/{t}/disable", "audit", "offers", "offers", "offers/new",
                 "offers/new", "offers/{ean}", "offers/{ean}", "offers/{ean}/sales", "offers/{ean}/epub",
                 "summary", "summary", "summary/subscription", "summary/subscription", "{t}", "{t}/{t}"]


def _fill(draw: Any, pattern: str, eans: list[str]) -> str:
    out = pattern
    while "{t}" in out:
        out = out.replace("{t}", _segment(draw, ["x", "admin@mediatheques-demo.example", "fr", "en"]), 1)
    return out.replace("{ean}", draw(st.sampled_from(eans)) if draw(st.booleans()) else _segment(draw, eans))


@st.composite
def console(draw: Any, target: Target) -> Req:
    """The console's pages, signed in (a distributor's session) or not: every method, bad forms and cookies,
    CSRF tokens missing, wrong or right, hostile offers and subscriptions, bad ids."""
    pattern = draw(st.sampled_from(CONSOLE_PATHS))
    path = "/console" + ("/" + _fill(draw, pattern, [*EANS, "9791000000053"]) if pattern else "")
    return _html_req(draw, "console", path, ["lh_session", "lh_pre", "lh_lang"], target.console_cookie,
                     target.console_csrf, pattern or "root", "")


PATRON_PATHS = ["/sign_in", "/sign_in", "/patron", "/patron/loans", "/patron/history", "/patron/sign-out",
                "/patron/lang/{t}", "/patron/loans/{t}/return", "/patron/loans/{t}/download", "/patron/loans/{t}/read",
                "/patron/static/{t}", "/patron/static/reader.js", "/patron/read/{t}/{t}/{t}", "/patron/{t}"]


@st.composite
def patron(draw: Any, target: Target) -> Req:
    """The patron space: hostile sign-ins (unknown patrons, from throw-away addresses), forged sessions,
    reader resources with bad signatures."""
    pattern = draw(st.sampled_from(PATRON_PATHS))
    path = _fill(draw, pattern, EANS)
    if pattern.startswith("/patron/read") and draw(st.booleans()):
        path += "?" + urlencode({"e": draw(st.sampled_from(["1", "99999999999", "x", ""])),
                                 "s": draw(st.sampled_from(["x", "a" * 300, ""]))})
    req = _html_req(draw, "patron", path, ["lh_patron", "lh_pre", "lh_lang", "lh_session"], "", "", pattern,
                    "")
    if pattern == "/sign_in" and req.method == "POST" and draw(st.booleans()):
        fields = {"library": draw(st.sampled_from([demo.COLL, demo.LIBRARY]) | texts()),
                  "member": f"fz{draw(st.integers(0, 10**6))}", "password": draw(texts()), "csrf": "x"}
        req.body, req.headers["Content-Type"] = urlencode(
            {k: v.encode("utf-8", "surrogatepass") for k, v in fields.items()}).encode(), \
            "application/x-www-form-urlencoded"
        req.headers["Cookie"] = "lh_pre=x"
    return req


@st.composite
def distributor(draw: Any, target: Target) -> Req:
    """GET/POST /distributor/sales/{ean13}: Basic or PNB-style credentials, right, wrong or malformed."""
    ean = draw(st.sampled_from(EANS)) if draw(st.booleans()) else _segment(draw, EANS)
    method = draw(st.sampled_from(["GET", "GET", "POST", "POST", "PUT", "DELETE", "OPTIONS", "HEAD"]))
    headers: dict[str, str] = {}
    wrong = True
    how = draw(st.sampled_from(["basic", "basic", "body", "none", "odd"]))
    if how == "basic":
        good = draw(st.booleans())
        user, password = (demo.DISTRIBUTOR, demo.DISTRIBUTOR_PASSWORD) if good else \
            (gln_of(f"3019{draw(st.integers(0, 10**8 - 1)):08d}"), "wrong1")
        wrong = not good
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
    elif how == "odd":
        headers["Authorization"] = draw(st.sampled_from(["Basic %%%", "Basic " + "A" * 9000, "Bearer x", "Basic",
                                                         "Basic " + base64.b64encode(b"\xff\xfe:\x00").decode(),
                                                         "Basic " + base64.b64encode(b"nocolon").decode()]))
    body = b""
    if method in ("POST", "PUT"):
        fields: dict[str, Any] = {}
        if how == "body" or draw(st.booleans()):
            creds, wrong = _credentials(draw, ("glnDistributor", "passwordDistributor"))
            fields.update(creds)
        for name in draw(st.lists(st.sampled_from(["ean13", "glnDistributor", "x"]), max_size=2, unique=True)):
            fields[name] = draw(VALUES)
        body, ctype = _json_bytes(draw, fields) if draw(st.integers(0, 4)) else _form_bytes(draw, fields)
        if ctype:
            headers["Content-Type"] = ctype
    return Req("distributor", method, f"/distributor/sales/{ean}", headers, body, method.lower(), wrong)


LSD_ROUTES = [("GET", "/lcp/status/{t}"), ("POST", "/lcp/status/{t}/register"), ("PUT", "/lcp/status/{t}/return"),
              ("PUT", "/lcp/status/{t}/renew"), ("GET", "/lcp/licences/{t}"), ("GET", "/lcp/publications/{t}"),
              ("GET", "/lcp/hint"), ("DELETE", "/lcp/status/{t}"), ("GET", "/lcp/status/{t}/renew")]


@st.composite
def lsd(draw: Any, target: Target) -> Req:
    """The LCP status door: unknown, malformed and huge licence ids, odd device ids and names, bad dates."""
    method, pattern = draw(st.sampled_from(LSD_ROUTES))
    path = pattern.replace("{t}", _segment(draw, ["x", "0" * 36, "a" * 300, "..", "%2e%2e"]))
    query: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(["id", "name", "end", "x"]), max_size=3, unique=True)):
        query[name] = draw(texts(["dev-1", "2027-01-01T00:00:00Z", "2020-01-01", "x" * 5000]))
    if query:
        path += "?" + urlencode({k: v.encode("utf-8", "surrogatepass")[:6000] for k, v in query.items()})
    body = b""
    headers: dict[str, str] = {}
    if method in ("POST", "PUT") and draw(st.booleans()):
        body, headers["Content-Type"] = _json_bytes(draw, query)
    return Req("lsd", method, path, headers, body, pattern.split("/")[-1] if "{t}/" in pattern else pattern)


@st.composite
def harvest(draw: Any, target: Target) -> Req:
    """The catalogue for library systems: /v1/resources(.json|.xml), one resource, OPDS; the library's key
    right, wrong, odd or by HTTP Basic; odd paging and dates."""
    kind = draw(st.sampled_from(["list.json", "list.xml", "one", "opds", "opds"]))
    params: dict[str, Any] = {}
    for name in draw(st.lists(st.sampled_from(["page", "per_page", "updated_since", "since", "q", "lang", "x"]),
                              max_size=4, unique=True)):
        params[name] = draw(texts(["1", "0", "-1", "100000", "2026-01-01T00:00:00Z", "99999999999999999999"]))
    query = "?" + urlencode({k: v.encode("utf-8", "surrogatepass")[:2000] for k, v in params.items()}) if params else ""
    if kind == "one":
        path = f"/v1/resources/{_segment(draw, EANS)}" + draw(st.sampled_from(["", ".json", ".xml"]))
    elif kind == "opds":
        path = "/v1/opds.json"
    else:
        path = f"/v1/resources.{kind.split('.')[1]}"
    headers: dict[str, str] = {}
    key = draw(st.sampled_from([target.v1_key] * 4 + ["", "nope", "k" * 5000, "basic"]))
    if key == "basic":
        headers["Authorization"] = "Basic " + base64.b64encode(f"{target.v1_key}:".encode()).decode()
    elif key:
        headers["X-Api-Key"] = key
    method = draw(st.sampled_from(["GET"] * 6 + ["POST", "DELETE", "HEAD", "OPTIONS"]))
    return Req("harvest", method, path + query, headers, b"", kind, key not in (target.v1_key, "basic"))


@st.composite
def any_door(draw: Any, target: Target) -> Req:
    return draw(st.one_of(pnb_json(target), pnb_json(target), pnb_rest(target), pnb_soap(target), v1(target),
                          warehouse(target), links(target), console(target), patron(target), distributor(target),
                          lsd(target), harvest(target)))


# --- calling and judging -----------------------------------------------------------------------------

@dataclass
class Outcome:
    req: Req
    status: int | None  # None: no answer (dropped connection, timeout)
    headers: dict[str, str]
    body: bytes
    seconds: float
    error: str = ""


def send(host: str, port: int, req: Req, timeout: float = 30.0) -> Outcome:
    """One request on its own connection, from one of many loopback addresses."""
    source = f"127.0.0.{next(_sources)}" if req.wrong_credentials else "127.0.0.1"
    started = time.perf_counter()
    conn = http.client.HTTPConnection(host, port, timeout=timeout, source_address=(source, 0))
    try:
        conn.request(req.method, req.path, body=req.body or None, headers={"Host": f"{host}:{port}", **req.headers})
        r = conn.getresponse()
        body = r.read()
        return Outcome(req, r.status, {k.lower(): v for k, v in r.getheaders()}, body, time.perf_counter() - started)
    except (OSError, http.client.HTTPException) as e:
        return Outcome(req, None, {}, b"", time.perf_counter() - started, f"{type(e).__name__}: {e}")
    finally:
        conn.close()


def client_fault(o: Outcome) -> bool:
    """SOAP 1.1 answers every Fault with HTTP 500 (WS-I BP R1126): a fault of the caller (Client,
    VersionMismatch, MustUnderstand) is the protocol's refusal, not a server error; a Server one is."""
    if o.req.door != "soap":
        return False
    try:
        node = etree.fromstring(o.body)[0][0]
    except Exception:
        return False
    code = node.findtext("faultcode") or ""
    return code.split(":")[-1] in ("Client", "VersionMismatch", "MustUnderstand")


def _gateway_answer(o: Outcome) -> bool:
    try:
        return set(json.loads(o.body)) == {"message"}
    except (ValueError, TypeError):
        return False


def problems(o: Outcome) -> list[str]:
    """What this answer breaks of the promises (empty: none)."""
    if o.status is None:
        return [f"no answer ({o.error})"]
    out = []
    if o.status >= 500 and not client_fault(o):
        out.append(f"HTTP {o.status}")
    if o.seconds > SLOW_SECONDS:
        out.append(f"answered in {o.seconds:.1f} s")
    text = o.body.decode("utf-8", "replace")
    out += [f"leaks {leak!r}" for leak in LEAKS if leak in text]
    ctype = o.headers.get("content-type", "")
    try:
        if o.req.door == "pnb":
            answer = json.loads(o.body)
            if not (answer.get("requestId") and answer.get("returnStatus") in Status.__members__):
                out.append(f"not a PNB answer: {text[:200]}")
        elif o.req.door == "soap":
            node = etree.fromstring(o.body)[0][0]
            name = etree.QName(node).localname
            rid = (node.findtext(f"{{{NS}}}requestId") if name != "Fault"
                   else node.findtext(f".//{{{NS}}}pnbFault/{{{NS}}}requestId"))
            if not rid:
                out.append(f"SOAP answer without requestId: {text[:200]}")
        elif o.req.door == "v1" and o.status not in (204,):
            if ctype.startswith("application/json"):
                json.loads(o.body)
            elif ctype.startswith("application/xml"):
                etree.fromstring(o.body)
            else:
                out.append(f"v1 answered {ctype!r}")
        elif o.req.door == "warehouse":
            if o.status == 201:
                assert ctype.startswith("text/plain")
            elif o.status != 204:
                assert isinstance(json.loads(o.body), list | dict)
        elif o.req.method == "HEAD" or o.status in (204, 301, 302, 303, 304):
            pass  # no body to judge
        elif o.status in (404, 405) and _gateway_answer(o):
            pass  # a method or path no route takes: API Gateway's own answer, before any door
        elif o.req.door in ("console", "patron"):
            allowed = ("text/html",) if o.req.door == "console" else ("text/html", "text/plain", "text/javascript")
            if not ctype.startswith(allowed):
                out.append(f"{o.req.door} answered {ctype!r}")
        elif o.req.door == "distributor":
            answer = json.loads(o.body)
            assert isinstance(answer, dict) and ("errors" in answer or "salesPoints" in answer), text[:200]
        elif o.req.door == "lsd":
            if o.req.path.startswith("/lcp/hint") and o.status == 200:
                assert ctype.startswith("text/html")
            else:
                assert "json" in ctype, ctype
                assert isinstance(json.loads(o.body), dict)
        elif o.req.door == "harvest":
            if "json" in ctype:
                json.loads(o.body)
            elif "xml" in ctype:
                etree.fromstring(o.body)
            else:
                out.append(f"harvest answered {ctype!r}")
    except Exception as e:
        out.append(f"unreadable {o.req.door} answer ({type(e).__name__}): {text[:200]}")
    return out


def succeeded_loan(o: Outcome) -> tuple[str, str] | None:
    """(line, loan) when the answer is a loan made on one of the fuzzer's lines (PNB or warehouse)."""
    if o.req.door == "warehouse" and o.req.expect:
        return (o.req.expect["line"], o.req.expect["loan"]) if o.status == 201 else None
    if not o.req.expect or o.status != 200:
        return None
    try:
        if o.req.door == "pnb":
            status = json.loads(o.body).get("returnStatus")
        else:
            status = etree.fromstring(o.body)[0][0].findtext(f"{{{NS}}}returnStatus")
    except Exception:
        return None
    return (o.req.expect["line"], o.req.expect["loan"]) if status == "OK" else None


@dataclass
class Figures:
    requests: int = 0
    by_door: Counter[str] = field(default_factory=Counter)
    by_note: Counter[str] = field(default_factory=Counter)  # operation or route kind, as the requests name it
    statuses: Counter[str] = field(default_factory=Counter)
    server_errors: int = 0
    dropped: int = 0
    slow: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    loans: set[tuple[str, str]] = field(default_factory=set)

    def add(self, o: Outcome) -> list[str]:
        found = problems(o)
        self.requests += 1
        self.by_door[o.req.door] += 1
        self.by_note[f"{o.req.door} {o.req.note}"] += 1
        self.statuses[f"{o.req.door} {o.status}"] += 1
        self.server_errors += o.status is not None and o.status >= 500 and not client_fault(o)
        self.dropped += o.status is None
        self.slow += o.seconds > SLOW_SECONDS
        self.seconds.append(o.seconds)
        loan = succeeded_loan(o)
        if loan:
            self.loans.add(loan)
        if found and len(self.failures) < 50:
            self.failures.append(f"{o.req.method} {o.req.path[:80]} ({o.req.note}): {'; '.join(found)}")
        return found


def nta(host: str, port: int, lines: list[str]) -> dict[str, int]:
    """Each line's remaining loans (NTA), read through the PNB door."""
    body = json.dumps({"glnColl": demo.COLL, "passwordColl": demo.COLL_PASSWORD, "orderLineId": lines}).encode()
    o = send(host, port, Req("pnb", "POST", "/v2/pnb-numerique/getLoanStatus",
                             {"Content-Type": "application/json"}, body))
    answer = json.loads(o.body)
    # the binding renders the counters in lower case (nta)
    return {x["orderLineId"]: int(x["nta"]) for x in answer["loanResponseLine"]}


def prepare(host: str, port: int) -> Target:
    """Lines for the fuzzer alone: two of the collectivity (PNB loans, warehouse URLs) and one of the
    second collectivity for v1 (another EAN, so no other test's licence is ever touched)."""
    stamp = f"{int(time.time() * 1000) % 10**9}"

    def order(coll: str, ean: str, dist: str, tag: str) -> list[str]:
        offers = {o.ean13: o for o in demo.offers()}
        line = {"ean13": ean, "glnDistributor": dist, "unitPrice": offers[ean].price_ttc,
                "unitPriceExcludingTax": offers[ean].price_ht, "currency": "EUR", "quantity": 1,
                "dmdDate": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 86400))}
        body = {"glnReseller": demo.RESELLER, "passwordReseller": demo.RESELLER_PASSWORD, "glnColl": coll,
                "orderId": f"FZ{tag}{stamp}"[:16], "orderIdColl": "FUZZ", "resellerCountry": "FR",
                "collCountry": "FR", "orderRequestLine": [line]}
        o = send(host, port, Req("pnb", "POST", "/v2/pnb-numerique/sendOrder", {"Content-Type": "application/json"},
                                 json.dumps(body).encode()))
        answer = json.loads(o.body)
        assert answer["returnStatus"] == "OK", answer
        return [x["orderLineId"] for x in answer["orderResponseLine"]]

    lines = order(demo.COLL, "9791000000015", demo.DISTRIBUTOR, "A") + order(demo.COLL, "9791000000015",
                                                                             demo.DISTRIBUTOR, "C")
    order(demo.COLL2, "9791000000053", demo.DISTRIBUTOR2, "B")
    body = json.dumps({"glnColl": demo.COLL, "passwordColl": demo.COLL_PASSWORD, "orderIdColl": "FUZZ"}).encode()
    o = send(host, port, Req("pnb", "POST", "/v2/pnb-numerique/getOrders", {"Content-Type": "application/json"}, body))
    urls = [x["loanUrl"] for order_ in json.loads(o.body).get("getOrderResponseLine", [])
            for x in order_.get("orderLine", []) if x.get("loanUrl") and x["orderLineId"] in lines]
    from urllib.parse import urlsplit

    paths = [urlsplit(u).path for u in urls if urlsplit(u).path.startswith("/warehouse/")]
    assert paths, f"no warehouse URL in getOrders: {o.body[:300]!r}"
    # A loan of each kind for the later services to aim at (returnLoan, extendLoan, v1 PUT and DELETE).
    loan = {"glnColl": demo.COLL, "passwordColl": demo.COLL_PASSWORD, "orderLineId": lines[-1],
            "loanId": f"FZR{stamp}", "ean13": "9791000000015", "accessMedium": "DOWNLOAD", "localization": "EX_SITU",
            "loanEndDate": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 14 * 86400))}
    o = send(host, port, Req("pnb", "POST", "/v2/pnb-numerique/loanBook", {"Content-Type": "application/json"},
                             json.dumps(loan).encode()))
    assert json.loads(o.body)["returnStatus"] == "OK", o.body[:300]
    o = send(host, port, Req("v1", "POST", "/v1/media/9791000000053/loans.json",
                             {"X-Api-Key": demo.COLL2_API_KEY, "Content-Type": "application/json"},
                             json.dumps({"member_id": f"fzr{stamp}"}).encode()))
    assert o.status == 201, o.body[:300]
    cookie, csrf = console_session(host, port)
    return Target(lines=lines, loan_urls=paths, loans=[(lines[-1], f"FZR{stamp}")],
                  v1_loans=[json.loads(o.body)["id"]], console_cookie=cookie, console_csrf=csrf)


def console_session(host: str, port: int) -> tuple[str, str]:
    """A signed-in console session of the second distributor's admin (password, then the TOTP code of now:
    the browser tests use the next step's), for the console's fuzzing: its cookie and CSRF token."""
    import re

    import pyotp

    email, _, _, _, secret = demo.STAFF[4]
    o = send(host, port, Req("console", "GET", "/console/sign-in", {}, b""))
    pre = re.search(r"lh_pre=([^;]+)", o.headers.get("set-cookie", ""))
    token = re.search(rb'name="csrf" value="([^"]+)"', o.body)
    assert pre and token, o.headers
    form = {"csrf": token.group(1).decode(), "email": email, "password": demo.CONSOLE_PASSWORD}
    o = send(host, port, Req("console", "POST", "/console/sign-in", {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"lh_pre={pre.group(1)}"},
        urlencode(form).encode()))
    session = re.search(r"(lh_session=[^;]+)", o.headers.get("set-cookie", ""))
    assert o.status == 303 and session, (o.status, o.body[:300])
    o = send(host, port, Req("console", "GET", "/console/sign-in/code", {"Cookie": session.group(1)}, b""))
    token = re.search(rb'name="csrf" value="([^"]+)"', o.body)  # the pending session's own
    assert token, o.body[:300]
    form = {"csrf": token.group(1).decode(), "code": pyotp.TOTP(secret).now()}
    o = send(host, port, Req("console", "POST", "/console/sign-in/code", {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": f"lh_pre={pre.group(1)}; {session.group(1)}"},
        urlencode(form).encode()))
    session = re.search(r"(lh_session=[^;]+)", o.headers.get("set-cookie", ""))
    assert o.status == 303 and session, (o.status, o.body[:300])
    o = send(host, port, Req("console", "GET", "/console/summary", {"Cookie": session.group(1)}, b""))
    csrf = re.search(rb'name="csrf" value="([^"]+)"', o.body)
    assert o.status == 200 and csrf, (o.status, o.body[:300])
    return session.group(1), csrf.group(1).decode()
