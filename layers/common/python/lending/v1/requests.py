"""v1 request parameters: where they come from (query string, form fields or a JSON body), their
schemas (pydantic-core, see lending.validation) and the error codes of the spec's style: every
problem is reported at once, `missing_<name>` or `invalid_<name>`."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from pydantic_core import PydanticCustomError, ValidationError
from pydantic_core import core_schema as cs

from ..domain.dates import parse_iso
from ..validation import Invalid, Request, Schema, integer, text
from .errors import V1Error

MAX_BODY = 100_000
MEMBER_ID = re.compile(r"^[A-Za-z0-9._@+:-]{1,100}$")
EMAIL = r"^[^@\s\"<>,;]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"
_NO_ZONE = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$")


def _date(value: Any) -> datetime:
    """ISO 8601 extended; without a zone (as the spec's own examples) it is UTC."""
    parsed = parse_iso(value)
    if parsed is None and isinstance(value, str) and _NO_ZONE.match(value):
        try:
            parsed = datetime.fromisoformat(value).replace(tzinfo=UTC)
        except ValueError:
            parsed = None
    if parsed is None:
        raise PydanticCustomError("iso_date", "must be an ISO 8601 date")
    return parsed


def _flag(value: Any) -> bool:
    if value in (True, 1, "1", "true"):
        return True
    if value in (False, 0, "0", "false"):
        return False
    raise PydanticCustomError("flag", "must be 0 or 1")


def _member(value: Any) -> str:
    value = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(value, str) or not MEMBER_ID.match(value.strip()):
        raise PydanticCustomError("member_id", "letters, digits and . _ @ + : - (at most 100)")
    return value.strip()


DATE = cs.no_info_plain_validator_function(_date)
FLAG = cs.no_info_plain_validator_function(_flag)
MEMBER = cs.no_info_plain_validator_function(_member)
URL = text(r"^https?://[^\s]+$", max_length=2048)

CREATE_LOAN = Schema({"member_id": MEMBER, "expires_at": DATE, "notify": FLAG, "email": text(EMAIL, 254),
                      "return_url": URL},
                     optional=("expires_at", "email", "return_url"), defaults={"notify": False})
LIST_LOANS = Schema({"member_id": MEMBER, "start_at": DATE, "end_at": DATE, "page": integer(ge=1, le=10_000),
                     "per_page": integer(ge=1, le=100)},
                    optional=("member_id", "start_at", "end_at"), defaults={"page": 1, "per_page": 50})


def validate(schema: Schema, data: dict[str, Any], *more: str) -> Request:
    """The validated request, or V1Error with the code of every problem (schema fields in order, then
    `more`, the caller's own cross-field codes)."""
    codes: list[str] = []
    req = Request()
    try:
        req = schema.validate(data)
    except Invalid:
        try:
            schema.validator.validate_python(data)
        except ValidationError as e:
            bad = {str(err["loc"][0]): err["type"] == "missing" for err in e.errors() if err["loc"]}
            codes = [f"{'missing' if bad[n] else 'invalid'}_{n}" for n in schema.names if n in bad]
        codes = codes or ["invalid_body"]
    codes += [c for c in more if c not in codes]
    if codes:
        raise V1Error(*codes)
    return req


def member_id(value: str) -> str:
    if not MEMBER_ID.match(value):
        raise V1Error("invalid_member_id")
    return value


def params(event: dict[str, Any]) -> dict[str, Any]:
    """Query string, then the body's fields over it (JSON object or form-encoded). Blank values are
    absent values (`member_id=` is a missing member id)."""
    out: dict[str, Any] = dict(parse_qsl(event.get("rawQueryString") or "", keep_blank_values=True))
    raw = event.get("body") or ""
    if raw and event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(raw).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            raise V1Error("invalid_body") from None
    if raw:
        if len(raw) > MAX_BODY:
            raise V1Error("invalid_body")
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        kind = headers.get("content-type", "")
        if "json" in kind or (not kind and raw.lstrip().startswith("{")):
            try:
                body = json.loads(raw)
            except ValueError:
                raise V1Error("invalid_body") from None
            if not isinstance(body, dict):
                raise V1Error("invalid_body")
            out.update(body)
        elif "form" in kind or not kind:
            out.update(parse_qsl(raw, keep_blank_values=True))
        else:
            raise V1Error("invalid_body")
    return {k: v for k, v in out.items() if v is not None and v != ""}
