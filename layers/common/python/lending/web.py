"""What every HTTP door reads from an API Gateway (HTTP API, payload 2.0) event. Light on purpose:
imported by every function at cold start."""

from __future__ import annotations

import base64
import json
import os
from typing import Any
from urllib.parse import parse_qsl

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


class BadBody(Exception):
    """The body cannot be read as parameters at all."""


def _headers(event: dict[str, Any]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}


def _body(event: dict[str, Any], max_body: int) -> bytes:
    body = event.get("body") or ""
    try:
        raw = base64.b64decode(body) if event.get("isBase64Encoded") else str(body).encode()
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
    its first value. Raises BadBody when the body is not what its Content-Type says."""
    out: dict[str, str] = {}
    for k, v in parse_qsl(event.get("rawQueryString") or "", keep_blank_values=True):
        out.setdefault(k, v)
    raw = _body(event, max_body)
    if not raw.strip():
        return out
    ctype = _headers(event).get("content-type", "").split(";")[0].strip().lower()
    found: dict[str, str] = {}
    if ctype == "application/json" or ctype.endswith("+json") or (not ctype and raw.lstrip()[:1] == b"{"):
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
            raise BadBody("not JSON") from None
        if not isinstance(data, dict):
            raise BadBody("not a JSON object")
        for k, v in data.items():
            if v is None:
                continue  # null: as if absent
            text = _scalar(v)
            # A value of the wrong type is kept as an impossible one, so its own check names it.
            found[str(k)] = text if text is not None else "\x00"
    elif ctype == "multipart/form-data":
        found = _multipart(raw, _headers(event).get("content-type", ""))
    elif ctype in ("", "application/x-www-form-urlencoded"):
        try:
            pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise BadBody("not UTF-8") from None
        for k, v in pairs:
            found.setdefault(k, v)
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
