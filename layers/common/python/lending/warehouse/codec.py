"""HTTP in and out for the warehouse door: parameters from a form, JSON or multipart body (and the
query string), answers as the spec has them (201 text/plain URL + Location, 4xx JSON array of names)."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import parse_qsl

from . import errors as e

MAX_BODY = 64 * 1024  # a loan request is a few hundred bytes


class BadBody(Exception):
    """The body cannot be read as parameters at all."""


def _headers(event: dict[str, Any]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}


def _body(event: dict[str, Any]) -> bytes:
    body = event.get("body") or ""
    raw = base64.b64decode(body) if event.get("isBase64Encoded") else str(body).encode()
    if len(raw) > MAX_BODY:
        raise BadBody("body too large")
    return raw


def _scalar(value: Any) -> str | None:
    """JSON values are taken as text; numbers too (duration: 14). Objects, lists, booleans, null: not."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def params(event: dict[str, Any]) -> dict[str, str]:
    """Every parameter as text; the body wins over the query string; a repeated form key keeps its
    first value. Raises BadBody when the body is not what its Content-Type says."""
    out: dict[str, str] = {}
    for k, v in parse_qsl(event.get("rawQueryString") or "", keep_blank_values=True):
        out.setdefault(k, v)
    raw = _body(event)
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
    else:  # application/x-www-form-urlencoded, or no type at all
        try:
            pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
        except UnicodeDecodeError:
            raise BadBody("not UTF-8") from None
        for k, v in pairs:
            found.setdefault(k, v)
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


def created(url: str, return_url: str) -> dict[str, Any]:
    """201: the time-limited URL as the body and in Location; where to return it early, as a Link."""
    headers = {"Content-Type": "text/plain; charset=utf-8", "Location": url,
               "Link": f'<{return_url}>; rel="return"', "Cache-Control": "no-store"}
    return {"statusCode": 201, "headers": headers, "body": url}


def refused(status: int, names: set[str] | list[str]) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    return {"statusCode": status, "headers": headers, "body": json.dumps(e.ordered(names))}


def no_content() -> dict[str, Any]:
    return {"statusCode": 204, "headers": {"Cache-Control": "no-store"}, "body": ""}
