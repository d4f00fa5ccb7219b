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


@st.composite
def any_door(draw: Any, target: Target) -> Req:
    return draw(st.one_of(pnb_json(target), pnb_json(target), pnb_rest(target), pnb_soap(target), v1(target),
                          warehouse(target), links(target)))


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
    return Target(lines=lines, loan_urls=paths, loans=[(lines[-1], f"FZR{stamp}")],
                  v1_loans=[json.loads(o.body)["id"]])
