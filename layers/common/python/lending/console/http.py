"""What the console reads from an API Gateway (HTTP API, payload 2.0) event and how it answers: form
bodies, cookies (the event's `cookies`, answered through `cookies` as Set-Cookie headers), the
client's address and language, and the security headers of every page."""

from __future__ import annotations

import secrets
from urllib.parse import parse_qsl, quote, unquote

from .. import web
from ..domain.values import Record
from ..web import BadBody, parameters

PREFIX = "/console"
MAX_FORM = 16 * 1024
HSTS = "max-age=63072000; includeSubDomains"
MAX_UPLOAD = 6 * 1024 * 1024  # an EPUB of the distributor console, base64 decoded (files.MAX_EPUB + the form)

PRE = "lh_pre"  # double-submit CSRF token of the forms shown before sign-in (console and patron space)
LANG = "lh_lang"


class Request(Record):
    method: str
    path: list[str]  # the segments after /console, decoded
    query: dict[str, str]
    form: dict[str, str]
    cookies: dict[str, str]
    headers: dict[str, str]
    address: str
    base: str  # the hub's address as the caller reached it
    files: dict[str, bytes]  # multipart file fields (EPUB upload)

    def __init__(self, method: str, path: list[str], query: dict[str, str], form: dict[str, str],
                 cookies: dict[str, str], headers: dict[str, str], address: str, base: str,
                 files: dict[str, bytes] | None = None) -> None:
        self._init(method, path, query, form, cookies, headers, address, base, {} if files is None else files)

    @property
    def secure(self) -> bool:
        return self.base.startswith("https://")

    def cookie_name(self, name: str) -> str:
        """`__Host-` cookies (Secure, Path=/, no Domain) when deployed; plain names on the http local stack."""
        return f"__Host-{name}" if self.secure else name

    def cookie(self, name: str) -> str | None:
        return self.cookies.get(self.cookie_name(name))

    def same_origin(self) -> bool:
        """A state-changing request must come from the console's own pages (when the browser says where
        from; CSRF tokens hold the line for the others)."""
        origin = self.headers.get("origin")
        return origin is None or origin == "null" or origin.rstrip("/") == self.base


def request_of(http: web.Request, prefix: str = PREFIX) -> Request:
    """The request; `path` holds the segments after `prefix` (the patron space's door passes "")."""
    rest = http.path[len(prefix):] if prefix and http.path.startswith(prefix) else http.path
    segments = [unquote(s) for s in rest.split("/") if s]
    method = http.method
    form: dict[str, str] = {}
    files: dict[str, bytes] = {}
    if method == "POST" and http.content_type == "multipart/form-data":
        form, files = _multipart(http)
    elif method == "POST":
        try:
            form = parameters(http, MAX_FORM, query=False)
        except BadBody:
            form = {}
    query = dict(parse_qsl(http.query_string, keep_blank_values=True))  # the last of a repeated one
    return Request(method, segments, query, form, dict(http.cookies), http.headers,
                   http.source_ip or "unknown", http.base_url, files)


def _multipart(http: web.Request) -> tuple[dict[str, str], dict[str, bytes]]:
    """A multipart form: text fields, and the bytes of file fields. Anything unreadable: an empty form
    (which then fails its CSRF check like any forged post)."""
    from email.parser import BytesParser
    from email.policy import HTTP

    try:
        raw = http.body(MAX_UPLOAD)
    except BadBody:
        return {}, {}
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {http.headers['content-type']}\r\n\r\n".encode()
                                                  + raw)
    if not message.is_multipart():
        return {}, {}
    form: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if not isinstance(name, str) or not isinstance(payload, bytes):
            continue
        if part.get_filename() is not None:
            files.setdefault(name, payload)
        else:
            form.setdefault(name, payload.decode("utf-8", "replace"))
    return form, files


class Response(Record):
    status: int
    body: str
    headers: dict[str, str]
    cookies: list[str]
    csp: str | None  # a page's own Content-Security-Policy (the reader's); the console's otherwise

    def __init__(self, status: int = 200, body: str = "", headers: dict[str, str] | None = None,
                 cookies: list[str] | None = None, csp: str | None = None) -> None:
        self._init(status, body, {} if headers is None else headers, [] if cookies is None else cookies, csp)

    def set_cookie(self, req: Request, name: str, value: str, max_age: int | None = None) -> None:
        parts = [f"{req.cookie_name(name)}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
        if max_age is not None:
            parts.append(f"Max-Age={max_age}")
        if req.secure:
            parts.append("Secure")
        self.cookies.append("; ".join(parts))

    def clear_cookie(self, req: Request, name: str) -> None:
        self.set_cookie(req, name, "", max_age=0)

    def to_answer(self, nonce: str) -> web.Answer:
        headers = {
            "Content-Type": "text/html; charset=utf-8",
            "Cache-Control": "no-store",
            "Content-Security-Policy": self.csp or (
                f"default-src 'none'; style-src 'nonce-{nonce}'; img-src 'self' data:; "
                "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
            "X-Content-Type-Options": "nosniff",
            # Invitation and reset links carry their token in the path: never sent to another site. (With
            # no-referrer, browsers send `Origin: null` on the console's own forms.)
            "Referrer-Policy": "same-origin",
            "X-Frame-Options": "DENY",
            # HTTPS only, for two years, subdomains too (browsers ignore it on the http local stack)
            "Strict-Transport-Security": HSTS,
            **self.headers,
        }
        return web.Answer(self.status, self.body, headers, self.cookies)


def redirect(location: str, status: int = 303) -> Response:
    return Response(status, "", {"Location": location})


def url(*segments: str, **query: str) -> str:
    """A console path: each segment escaped (member ids may hold any printable character)."""
    path = PREFIX + "".join("/" + quote(s, safe="") for s in segments)
    if query:
        from urllib.parse import urlencode

        path += "?" + urlencode(query)
    return path


def new_nonce() -> str:
    return secrets.token_urlsafe(16)
