"""What every HTTP door reads from an API Gateway (HTTP API, payload 2.0) event. Light on purpose:
imported by every function at cold start."""

from __future__ import annotations

import base64
import codecs
import functools
import json
import os
import re
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from .text import first_bad_text, safe_text, text_problem

MAX_BODY = 64 * 1024  # a loan request is a few hundred bytes


def base_url(event: dict[str, Any]) -> str:
    """The hub's own address as the caller reached it (links in answers point back at it);
    PUBLIC_BASE_URL when the deployment sets one (a custom domain)."""
    configured = os.environ.get("PUBLIC_BASE_URL")
    if configured:
        return configured.rstrip("/")
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    host = headers.get("host") or event.get("requestContext", {}).get("domainName", "localhost")
    proto = headers.get("x-forwarded-proto", "https")
    return f"{proto}://{host}"


Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def request_id(event: dict[str, Any]) -> str:
    """The id API Gateway gave the request (its access log's), else a new one."""
    value = (event.get("requestContext") or {}).get("requestId") if isinstance(event, dict) else None
    return str(value) if value else uuid.uuid4().hex


def guarded(fault: Callable[[dict[str, Any], str], dict[str, Any]]) -> Callable[[Handler], Handler]:
    """The last net of a door: an exception nothing else caught is logged once, with the request's id, and
    answered by `fault(event, request_id)` in the door's own shape (never API Gateway's bare 500)."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        def door(event: dict[str, Any], context: Any) -> dict[str, Any]:
            try:
                return handler(event, context)
            except Exception:
                from .observability import logger

                rid = request_id(event)
                logger.exception("door failed", extra={"requestId": rid, "route": event.get("routeKey")})
                return fault(event, rid)

        return door

    return wrap


def source_ip(event: dict[str, Any]) -> str | None:
    """The caller's address as API Gateway saw it (not a header the caller can write)."""
    value = event.get("requestContext", {}).get("http", {}).get("sourceIp")
    return str(value) if value else None


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


def charset(event: dict[str, Any]) -> str:
    """The body's declared charset (Content-Type's `charset=`), UTF-8 when none is declared."""
    for part in _headers(event).get("content-type", "").split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"') or "utf-8"
    return "utf-8"


def body_text(event: dict[str, Any], max_body: int) -> str:
    """The body as text, decoded in its declared charset: BadText `body` when it cannot be (an unknown
    charset, or bytes that are not of it), BadBody when it is too large."""
    raw = _body(event, max_body)
    name = charset(event)
    try:
        codecs.lookup(name)
    except LookupError:
        raise BadText("body", f"unknown charset {name[:40]!r}") from None
    try:
        return raw.decode(name)
    except (UnicodeDecodeError, ValueError):
        raise BadText("body", f"not valid {name[:40]}") from None


def _headers(event: dict[str, Any]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}


def _body(event: dict[str, Any], max_body: int) -> bytes:
    body = event.get("body") or ""
    try:
        # surrogatepass: an event's text with a lone surrogate is still bytes, refused when decoded
        raw = base64.b64decode(body) if event.get("isBase64Encoded") else str(body).encode("utf-8", "surrogatepass")
    except ValueError:
        raise BadBody("not base64") from None
    if len(raw) > max_body:
        raise BadBody("body too large")
    return raw


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


def parameters(event: dict[str, Any], max_body: int = MAX_BODY) -> dict[str, str]:
    """Every parameter of a form-style door (library API v1, warehouse lending URL) as text: the query
    string, then the body over it (JSON object, form-encoded or multipart); a repeated form key keeps
    its first value. Raises BadBody when the body is not what its Content-Type says, BadText (naming the
    parameter) when a value is not valid text."""
    out: dict[str, str] = {}
    for k, v in parse_qsl(event.get("rawQueryString") or "", keep_blank_values=True):
        out.setdefault(k, v)
    check_text(out)
    raw = _body(event, max_body)
    if not raw.strip():
        return out
    ctype = _headers(event).get("content-type", "").split(";")[0].strip().lower()
    found: dict[str, str] = {}
    if ctype == "application/json" or ctype.endswith("+json") or (not ctype and raw.lstrip()[:1] == b"{"):
        text = body_text(event, max_body)
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
        found = _multipart(raw, _headers(event).get("content-type", ""))
        check_text(found)
    elif ctype in ("", "application/x-www-form-urlencoded"):
        for k, v in parse_qsl(body_text(event, max_body), keep_blank_values=True, strict_parsing=False):
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
_KEY = re.compile(r"^([^.\[\]\x00-\x1f\x7f]+)((?:\[[^\[\]\x00-\x1f\x7f]*\]|\.[^.\[\]\x00-\x1f\x7f]+)*)$")
_JSON_SCALAR = re.compile(rb"^(?:null|true|false|-?[0-9][0-9.eE+-]*)$")  # a JSON body, but not an object
_STEP = re.compile(r"\[([^\[\]]*)\]|\.([^.\[\]]+)")
_INTEGER = re.compile(r"^-?[0-9]{1,12}$")


class _Indexed(dict[int, Any]):
    """A list while it is being built: indices may come in any order, with gaps."""


def _steps(key: str) -> list[str | int | None]:
    """`a[0].b` -> ["a", 0, "b"]; `a[]` -> ["a", None] (append); `a[b]` (PHP) -> ["a", "b"]."""
    m = _KEY.match(key)
    if m is None:
        if len(key) <= 40 and not any(c in key for c in "\"'{}:,="):
            raise BadBody(f"parameter name {key!r} cannot be read")
        # Not a name but a body read as one (JSON sent as a form): never echoed, it may hold a password.
        raise BadBody(f"a parameter name of {len(key)} characters cannot be read (a JSON body sent as a form?)")
    out: list[str | int | None] = [m.group(1)]
    for bracket, dotted in _STEP.findall(m.group(2)):
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
        value: Any = int(text) if leaf in integers and _INTEGER.match(text) else text
        _put(root, steps, value, key)
    return dict(_plain(root))


def spring_parameters(event: dict[str, Any], max_body: int = MAX_BODY,
                      integers: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Every parameter of a request in Dilicom's REST binding: the query string, then the body over it.
    The body's shape decides, not its Content-Type (PMB sends a form body under application/json):
    an object in JSON, multipart form data, or form-encoded pairs. Raises BadBody when it cannot be read."""
    # surrogateescape: a percent-escape that is not UTF-8 becomes a lone surrogate, which check_text names
    pairs = parse_qsl(event.get("rawQueryString") or "", keep_blank_values=True, errors="surrogateescape")
    raw = _body(event, max_body)
    data: dict[str, Any] | None = None
    ctype = _headers(event).get("content-type", "")
    if raw.strip():
        if raw.lstrip()[:1] in (b"{", b"[", b'"') or _JSON_SCALAR.match(raw.strip()):
            text = body_text(event, max_body)
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
            pairs += parse_qsl(body_text(event, max_body), keep_blank_values=True, errors="surrogateescape")
    for key, value in pairs:  # the text check before the notation is read: it names the parameter as sent
        if text_problem(key):  # a name that is not text is a request nobody can read (as a malformed name)
            raise BadBody("a parameter name cannot be read")
        check_text({key: value})
    out = nest(pairs, integers)
    if data is not None:
        out.update(data)
    return out


def basic_credentials(event: dict[str, Any]) -> tuple[str, str] | None:
    """(login, password) of an `Authorization: Basic` header; None without one. A Basic header that
    cannot be decoded is ("", ""): credentials were given, and they are wrong."""
    header = _headers(event).get("authorization", "").strip()
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        login, sep, password = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
    except (ValueError, UnicodeDecodeError):
        return "", ""
    return (login, password) if sep else ("", "")
