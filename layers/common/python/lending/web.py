"""The one door framework of every HTTP function: what a door reads from an API Gateway (HTTP API,
payload 2.0) event (`Request`: body, base64, headers, query, path, base URL, content type, Basic
credentials, cookies), how it answers (`Answer`), and how a door maps its errors and faults (`Door`).
Each door configures one `Door` with its error table (exception type -> the door's own answer) and its
fault answer; `door.handler(serve)` is the Lambda handler of each of its functions.

Why not Powertools' event handler: it costs a cold start that every door pays and that the budget has
no room for. Cold import of a door function (tools/benches/a_cold_start.py's probe: a fresh interpreter
imports app.py and builds the DynamoDB client; CPU time, median of 9, as a ratio to `import boto3` + one
DynamoDB client = 0.23-0.25 s), over pnb_loan_book, v1_create_loan, warehouse_lend, console and lcp:
    + `from aws_lambda_powertools.event_handler import APIGatewayHttpResolver`  +35..47 ms (+0.15..0.20)
    + `...utilities.data_classes import APIGatewayProxyEventV2` (the event class)  +10..14 ms (+0.04..0.06)
    this module instead of the old per-door wrappers: the same modules imported, -2..+15 ms (noise)
(the resolver's package imports every resolver, AppSync's asyncio included, and every event class);
the routing it adds is API Gateway's own work here (one route, or a few, per function). Those ratios
were from the source tree; from the layer as built (bytecode shipped), once each door loaded only its
own operation's use cases, the doors stand at 1.22-1.30 (was 1.20-1.48): the resolver's +0.15..0.20
would still take every one past 1.3 (docs/cost.md, cold start).
Light on purpose: imported by every function at cold start."""

from __future__ import annotations

import base64
import codecs
import json
import os
import re
import uuid
from collections.abc import Callable, Mapping
from functools import cached_property
from typing import Any, Generic, TypeVar
from urllib.parse import parse_qsl

from .observability import logger, observed
from .text import first_bad_text, safe_text, text_problem

MAX_BODY = 64 * 1024  # a loan request is a few hundred bytes

# XML text and attribute values for the doors that answer XML (v1, the catalogue's harvest): what
# xml.sax.saxutils' escape and quoteattr make (tests/unit/test_xml_escape.py), without importing the
# xml.sax package, ~1 ms of those functions' cold start.
_XML_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_XML_ATTRIBUTE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"})


def xml_text(value: str) -> str:
    return value.translate(_XML_TEXT)


def xml_attribute(value: str) -> str:
    """The value quoted: in double quotes, or single ones when it holds a double quote and no single one."""
    data = value.translate(_XML_ATTRIBUTE)
    if '"' not in data:
        return f'"{data}"'
    if "'" not in data:
        return f"'{data}'"
    return '"{}"'.format(data.replace('"', "&quot;"))

Event = dict[str, Any]
Handler = Callable[[Event, Any], Event]


class Request:
    """One API Gateway event, read once and lazily (nothing here raises before a door asks for the body)."""

    def __init__(self, event: Event) -> None:
        self.event = event if isinstance(event, dict) else {}

    @staticmethod
    def of(event: Request | Event) -> Request:
        return event if isinstance(event, Request) else Request(event)

    @cached_property
    def headers(self) -> dict[str, str]:
        """Header names in lower case (HTTP API already sends them so; the local stack and tests may not)."""
        return {str(k).lower(): str(v) for k, v in (self.event.get("headers") or {}).items()}

    @cached_property
    def context(self) -> dict[str, Any]:
        value = self.event.get("requestContext")
        return value if isinstance(value, dict) else {}

    @cached_property
    def method(self) -> str:
        return str((self.context.get("http") or {}).get("method") or "GET").upper()

    @cached_property
    def stage_prefix(self) -> str:
        """`/prod` when a named stage is in the path (the API's default URL with a stage); "" for `$default`
        (and behind a custom domain, whose mapping takes the stage out of the path)."""
        stage = str(self.context.get("stage") or "$default")
        raw = str(self.event.get("rawPath") or "")
        prefix = "/" + stage
        return prefix if stage != "$default" and (raw == prefix or raw.startswith(prefix + "/")) else ""

    @cached_property
    def path(self) -> str:
        """The path as the hub's routes name it (the stage, if any, taken out)."""
        return str(self.event.get("rawPath") or "")[len(self.stage_prefix):] or "/"

    @property
    def route(self) -> str:
        return str(self.event.get("routeKey") or "")

    @cached_property
    def path_params(self) -> dict[str, str]:
        return {str(k): str(v) for k, v in (self.event.get("pathParameters") or {}).items()}

    @property
    def query_string(self) -> str:
        return str(self.event.get("rawQueryString") or "")

    @cached_property
    def query(self) -> dict[str, str]:
        """The query's parameters, the first value of a repeated one."""
        out: dict[str, str] = {}
        for k, v in parse_qsl(self.query_string, keep_blank_values=True):
            out.setdefault(k, v)
        return out

    @cached_property
    def cookies(self) -> dict[str, str]:
        """Payload 2.0 moves the Cookie header into `cookies`, one entry per cookie; the first of a name wins."""
        out: dict[str, str] = {}
        for c in list(self.event.get("cookies") or []) or self.headers.get("cookie", "").split(";"):
            name, _, value = str(c).strip().partition("=")
            if name:
                out.setdefault(name, value)
        return out

    @cached_property
    def base_url(self) -> str:
        """The hub's own address as the caller reached it (links in answers point back at it);
        PUBLIC_BASE_URL when the deployment sets one (a custom domain)."""
        configured = os.environ.get("PUBLIC_BASE_URL")
        if configured:
            return configured.rstrip("/")
        host = self.headers.get("host") or self.context.get("domainName") or "localhost"
        return f"{self.headers.get('x-forwarded-proto', 'https')}://{host}{self.stage_prefix}"

    @cached_property
    def source_ip(self) -> str | None:
        """The caller's address as API Gateway saw it (not a header the caller can write)."""
        value = (self.context.get("http") or {}).get("sourceIp")
        return str(value) if value else None

    @cached_property
    def request_id(self) -> str:
        """The id API Gateway gave the request (its access log's), else a new one."""
        value = self.context.get("requestId")
        return str(value) if value else uuid.uuid4().hex

    @cached_property
    def content_type(self) -> str:
        """The media type alone, in lower case ("" when none is declared)."""
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @cached_property
    def charset(self) -> str:
        """The body's declared charset (Content-Type's `charset=`), UTF-8 when none is declared."""
        for part in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = part.strip().partition("=")
            if name.strip().lower() == "charset":
                return value.strip().strip('"') or "utf-8"
        return "utf-8"

    def body(self, max_body: int = MAX_BODY) -> bytes:
        """The body's bytes (base64 decoded when the gateway encoded it): BadBody when it is not base64
        or is over `max_body`."""
        body = self.event.get("body") or ""
        if len(body) > 2 * max_body + 4:  # bounded before any decoding work (base64 is 4/3 of the bytes)
            raise BadBody("body too large")
        try:
            # surrogatepass: an event's text with a lone surrogate is still bytes, refused when decoded
            raw = (base64.b64decode(body, validate=True) if self.event.get("isBase64Encoded")
                   else str(body).encode("utf-8", "surrogatepass"))
        except ValueError:
            raise BadBody("not base64") from None
        if len(raw) > max_body:
            raise BadBody("body too large")
        return raw

    def text(self, max_body: int = MAX_BODY) -> str:
        """The body as text, decoded in its declared charset: BadText `body` when it cannot be (an unknown
        charset, or bytes that are not of it), BadBody when it is too large."""
        raw = self.body(max_body)
        name = self.charset
        try:
            codecs.lookup(name)
        except LookupError:
            raise BadText("body", f"unknown charset {name[:40]!r}") from None
        try:
            return raw.decode(name)
        except (UnicodeDecodeError, ValueError):
            raise BadText("body", f"not valid {name[:40]}") from None

    @cached_property
    def _basic(self) -> str | None:
        """The decoded token of an `Authorization: Basic` header: None without one, "" when it cannot be
        decoded."""
        scheme, _, token = self.headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            return base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return ""

    @property
    def basic(self) -> tuple[str, str] | None:
        """(login, password) of an `Authorization: Basic` header; None without one. A Basic header that
        cannot be decoded, or has no `:`, is ("", ""): credentials were given, and they are wrong."""
        if self._basic is None:
            return None
        login, sep, password = self._basic.partition(":")
        return (login, password) if sep else ("", "")

    @property
    def basic_user(self) -> str | None:
        """Basic's user name alone, `:` or not (a key given as the user name: `https://<key>:@hub`)."""
        return None if self._basic is None else self._basic.partition(":")[0]


class Answer:
    """An HTTP answer; `bytes` bodies go out base64 encoded, text as it is. Written by hand, not as a
    dataclass: every HTTP function loads it at init (domain/values.py says why; this layer sits below it)."""

    def __init__(self, status: int, body: str | bytes = "", headers: dict[str, str] | None = None,
                 cookies: list[str] | None = None) -> None:
        self.status = status
        self.body = body
        self.headers = {} if headers is None else headers
        self.cookies = [] if cookies is None else cookies  # Set-Cookie values (payload 2.0's `cookies`)

    def _values(self) -> tuple[object, ...]:
        return self.status, self.body, self.headers, self.cookies

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Answer) or other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()

    __hash__ = None  # type: ignore[assignment]  # mutable, as a dataclass with eq

    def __repr__(self) -> str:
        return (f"{type(self).__qualname__}(status={self.status!r}, body={self.body!r}, headers={self.headers!r}, "
                f"cookies={self.cookies!r})")

    def event(self) -> Event:
        out: Event = {"statusCode": self.status, "headers": self.headers}
        if isinstance(self.body, bytes):
            out["body"], out["isBase64Encoded"] = base64.b64encode(self.body).decode("ascii"), True
        else:
            out["body"] = self.body
        if self.cookies:
            out["cookies"] = self.cookies
        return out


def json_answer(status: int, value: Any, headers: Mapping[str, str] | None = None,
                content_type: str = "application/json") -> Answer:
    return Answer(status, dumps(value), {"Content-Type": content_type, **(headers or {})})


T = TypeVar("T")
E = TypeVar("E", bound=BaseException)
Encoder = Callable[[Request, Any], Answer]  # (request, what the door's serve gave) -> the answer


def _as_answer(req: Request, out: Any) -> Answer | Event:
    if isinstance(out, Answer | dict):
        return out
    raise TypeError(f"a door answered {type(out).__name__}, not an Answer")


class Door(Generic[T]):
    """One protocol's way in and out. `errors` maps exception types (the door's refusal table among
    them: `Refused` -> its wire answer) to what `serve` would have returned; `encode` turns that into
    an Answer (Answer and event dicts go out as they are); an exception nothing maps is logged once
    with the request's id and answered by `fault(request, request_id)` in the door's own shape, never
    API Gateway's bare 500."""

    def __init__(self, name: str, fault: Callable[[Request, str], Answer],
                 errors: Mapping[type[BaseException], Callable[[Request, Any], T]] | None = None,
                 encode: Callable[[Request, T], Answer | Event] | None = None) -> None:
        self.name, self.fault, self.errors = name, fault, dict(errors or {})
        self.encode: Callable[[Request, Any], Answer | Event] = encode or _as_answer
        self._caught = tuple(self.errors)

    def _mapped(self, req: Request, error: BaseException) -> Any:
        for kind in type(error).__mro__:  # the most specific entry wins (BadText before BadBody)
            if kind in self.errors:
                return self.errors[kind](req, error)
        raise error

    def answer(self, serve: Callable[[Request], T], event: Event) -> Event:
        """The door's answer to one event: `serve(request)` decodes, calls the use case and returns the
        door's answer, or raises what `errors` maps."""
        req = Request(event)
        try:
            try:
                out: Any = serve(req)
            except self._caught as e:
                out = self._mapped(req, e)
            answer = self.encode(req, out)
        except Exception:
            logger.exception(f"{self.name} request failed", extra={"requestId": req.request_id,
                                                                    "route": req.route})
            answer = self.fault(req, req.request_id)
        return answer.event() if isinstance(answer, Answer) else answer

    def handler(self, serve: Callable[[Request], T]) -> Handler:
        """The Lambda handler of one function of this door (what `functions/*/app.py` exports)."""

        @observed
        def lambda_handler(event: Event, context: Any) -> Event:
            return self.answer(serve, event)

        # Which door built it: tests/unit/test_door_framework.py checks every HTTP function's handler.
        lambda_handler.door = self  # type: ignore[attr-defined]
        return lambda_handler


def base_url(event: Request | Event) -> str:
    return Request.of(event).base_url


def source_ip(event: Request | Event) -> str | None:
    return Request.of(event).source_ip


def request_id(event: Request | Event) -> str:
    return Request.of(event).request_id


class BadBody(Exception):
    """The body cannot be read as parameters at all."""


class BadText(BadBody):
    """A parameter is not text any field accepts: `field` names it (`orderRequestLine.0.ean13`, or
    `body` when the body itself cannot be decoded in its declared charset)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"The parameter {field} is invalid: {reason}")
        self.field, self.reason = field, reason


def check_text(value: Any) -> None:
    """Every string of a decoded request (keys included, at any depth) is valid Unicode without control
    characters (lending/text.py), or BadText names the first that is not. The one text check of every
    door (PNB JSON and SOAP, v1, warehouse), run before anything else reads the values."""
    bad = first_bad_text(value)
    if bad is not None:
        raise BadText(bad[0] or "body", bad[1])


def dumps(value: Any) -> str:
    """JSON of an answer, always encodable in UTF-8."""
    return safe_text(json.dumps(value, ensure_ascii=False))


def _scalar(value: Any) -> str | None:
    """JSON values are taken as text: numbers (duration: 14) and booleans (notify: true) too; objects and
    lists are not."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def parameters(event: Request | Event, max_body: int = MAX_BODY, query: bool = True) -> dict[str, str]:
    """Every parameter of a form-style door (library API v1, warehouse lending URL) as text: the query
    string, then the body over it (JSON object, form-encoded or multipart); a repeated form key keeps
    its first value. Raises BadBody when the body is not what its Content-Type says, BadText (naming the
    parameter) when a value is not valid text. `query=False`: the body's alone (a form post)."""
    req = Request.of(event)
    out = dict(req.query) if query else {}
    check_text(out)
    raw = req.body(max_body)
    if not raw.strip():
        return out
    ctype = req.content_type
    found: dict[str, str] = {}
    if ctype == "application/json" or ctype.endswith("+json") or (not ctype and raw.lstrip()[:1] == b"{"):
        text = req.text(max_body)
        try:
            data = json.loads(text)
        except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
            raise BadBody("not JSON") from None
        if not isinstance(data, dict):
            raise BadBody("not a JSON object")
        check_text(data)
        for k, v in data.items():
            if v is None:
                continue  # null: as if absent
            value = _scalar(v)
            # A value of the wrong type is kept as an impossible one, so its own check names it.
            found[str(k)] = value if value is not None else "\x00"
    elif ctype == "multipart/form-data":
        found = _multipart(raw, req.headers.get("content-type", ""))
        check_text(found)
    elif ctype in ("", "application/x-www-form-urlencoded"):
        for k, v in parse_qsl(req.text(max_body), keep_blank_values=True, strict_parsing=False):
            found.setdefault(k, v)
        check_text(found)
    else:
        raise BadBody(f"unsupported content type {ctype}")
    out.update(found)
    return out


def _multipart(raw: bytes, ctype: str) -> dict[str, str]:
    """multipart/form-data (what `curl -F` sends); the email parser is imported only when needed."""
    from email.parser import BytesParser
    from email.policy import HTTP

    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {ctype}\r\n\r\n".encode() + raw)
    if not message.is_multipart():
        raise BadBody("not multipart")
    out: dict[str, str] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            try:
                out.setdefault(name, payload.decode("utf-8"))
            except UnicodeDecodeError:
                raise BadBody("not UTF-8") from None
    return out


# --- Spring binding notation (Dilicom's REST binding) and HTTP Basic ---

MAX_INDEX = 255  # Spring's own autoGrowCollectionLimit: orderLineId[100000]= is a request nobody can read
MAX_DEPTH = 6
# as text: `re` compiles a pattern at its first use (and caches it), not at every cold start
_KEY = r"^([^.\[\]\x00-\x1f\x7f]+)((?:\[[^\[\]\x00-\x1f\x7f]*\]|\.[^.\[\]\x00-\x1f\x7f]+)*)$"
_JSON_SCALAR = rb"^(?:null|true|false|-?[0-9][0-9.eE+-]*)$"  # a JSON body, but not an object
_STEP = r"\[([^\[\]]*)\]|\.([^.\[\]]+)"
_INTEGER = r"^-?[0-9]{1,12}$"


class _Indexed(dict[int, Any]):
    """A list while it is being built: indices may come in any order, with gaps."""


def _steps(key: str) -> list[str | int | None]:
    """`a[0].b` -> ["a", 0, "b"]; `a[]` -> ["a", None] (append); `a[b]` (PHP) -> ["a", "b"]."""
    m = re.match(_KEY, key)
    if m is None:
        if len(key) <= 40 and not any(c in key for c in "\"'{}:,="):
            raise BadBody(f"parameter name {key!r} cannot be read")
        # Not a name but a body read as one (JSON sent as a form): never echoed, it may hold a password.
        raise BadBody(f"a parameter name of {len(key)} characters cannot be read (a JSON body sent as a form?)")
    out: list[str | int | None] = [m.group(1)]
    for bracket, dotted in re.findall(_STEP, m.group(2)):
        if dotted:
            out.append(dotted)
        elif bracket == "":
            out.append(None)
        elif bracket.isdigit() and bracket.isascii():
            if int(bracket) > MAX_INDEX:
                raise BadBody(f"index {bracket} of {m.group(1)} is over {MAX_INDEX}")
            out.append(int(bracket))
        else:
            out.append(bracket)
    if len(out) > MAX_DEPTH:
        raise BadBody(f"parameter name {key[:64]!r} is nested too deep")
    return out


def _put(node: dict[Any, Any], steps: list[str | int | None], value: Any, key: str) -> None:
    for i, step in enumerate(steps):
        last = i == len(steps) - 1
        if step is None:  # append
            if not isinstance(node, _Indexed):
                raise BadBody(f"parameter {key[:64]!r} mixes a list and a structure")
            step = max(node, default=-1) + 1
        if isinstance(step, int) != isinstance(node, _Indexed):
            raise BadBody(f"parameter {key[:64]!r} mixes a list and a structure")
        if last:
            old = node.get(step)
            if old is None:
                node[step] = value
            elif isinstance(old, _Indexed):  # a repeated key: one more value
                old[max(old, default=-1) + 1] = value
            elif isinstance(old, dict):
                raise BadBody(f"parameter {key[:64]!r} is both a value and a structure")
            else:
                node[step] = _Indexed({0: old, 1: value})
            return
        following = steps[i + 1]
        child = node.get(step)
        if child is None:
            child = _Indexed() if following is None or isinstance(following, int) else {}
            node[step] = child
        elif not isinstance(child, dict):
            if isinstance(following, int) or following is None:  # `a=x` then `a[1]=y`: one list
                child = _Indexed({0: child})
                node[step] = child
            else:
                raise BadBody(f"parameter {key[:64]!r} is both a value and a structure")
        node = child


def _plain(value: Any) -> Any:
    if isinstance(value, _Indexed):
        return [_plain(value[k]) for k in sorted(value)]  # gaps closed: PHP arrays may skip indices
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def nest(pairs: list[tuple[str, str]], integers: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Form pairs in Spring binding notation as one structure: `orderRequestLine[0].ean13`, `orderLineId[0]`,
    repeated keys, `DRMinfo.readerId`, PHP's `a[]` and `a[key]`. A leaf named in `integers` whose text is a
    whole number becomes an int (form text carries no types; a JSON body keeps its own)."""
    root: dict[Any, Any] = {}
    for key, text in pairs:
        steps = _steps(key)
        leaf = next((s for s in reversed(steps) if isinstance(s, str)), None)
        value: Any = int(text) if leaf in integers and re.match(_INTEGER, text) else text
        _put(root, steps, value, key)
    return dict(_plain(root))


def spring_parameters(event: Request | Event, max_body: int = MAX_BODY,
                      integers: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Every parameter of a request in Dilicom's REST binding: the query string, then the body over it.
    The body's shape decides, not its Content-Type (PMB sends a form body under application/json):
    an object in JSON, multipart form data, or form-encoded pairs. Raises BadBody when it cannot be read."""
    req = Request.of(event)
    # surrogateescape: a percent-escape that is not UTF-8 becomes a lone surrogate, which check_text names
    pairs = parse_qsl(req.query_string, keep_blank_values=True, errors="surrogateescape")
    raw = req.body(max_body)
    data: dict[str, Any] | None = None
    ctype = req.headers.get("content-type", "")
    if raw.strip():
        if raw.lstrip()[:1] in (b"{", b"[", b'"') or re.match(_JSON_SCALAR, raw.strip()):
            text = req.text(max_body)
            try:
                parsed = json.loads(text)
            except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
                raise BadBody("not JSON") from None
            if not isinstance(parsed, dict):
                raise BadBody("not a JSON object")
            check_text(parsed)
            data = parsed
        elif ctype.split(";")[0].strip().lower() == "multipart/form-data":
            pairs += list(_multipart(raw, ctype).items())
        else:
            pairs += parse_qsl(req.text(max_body), keep_blank_values=True, errors="surrogateescape")
    for key, value in pairs:  # the text check before the notation is read: it names the parameter as sent
        if text_problem(key):  # a name that is not text is a request nobody can read (as a malformed name)
            raise BadBody("a parameter name cannot be read")
        check_text({key: value})
    out = nest(pairs, integers)
    if data is not None:
        out.update(data)
    return out


def basic_credentials(event: Request | Event) -> tuple[str, str] | None:
    """(login, password) of an `Authorization: Basic` header (Request.basic)."""
    return Request.of(event).basic
