"""v1 request parameters: where they come from (query string, form fields or a JSON body), what each
must be, and the error codes of the spec's style: every problem at once, `missing_<name>` or
`invalid_<name>`.

Five plain fields need no schema library: they are parsed here, in plain Python, as PNB's contract is
(lending.validation), which keeps a schema engine out of the v1 functions' cold start."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ..domain.dates import in_range, parse_iso
from ..domain.limits import LCP_HINT_MAX as HINT_MAX
from ..domain.limits import LCP_PASSPHRASE_MAX as PASSPHRASE_MAX
from ..domain.values import Value
from ..text import secure_scheme
from ..web import BadBody, BadText, Request, parameters
from .errors import CODES, V1Error

MAX_BODY = 100_000
MEMBER_ID = re.compile(r"^[A-Za-z0-9._@+:-]{1,100}$")
# as text: `re` compiles each at its first use (and caches it), not at every cold start
EMAIL = r"^[^@\s\"<>,;]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$"
URL = r"^https?://\S+$"
_NO_ZONE = r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?$"


class Params(dict[str, Any]):
    """Validated parameters: `req.name` reads one (None when absent without a default)."""

    def __getattr__(self, name: str) -> Any:
        return self.get(name)


def _text(value: Any, max_length: int) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)  # ids sent as JSON numbers are taken as text
    if not isinstance(value, str) or not 0 < len(value.strip()) <= max_length:
        raise ValueError(value)
    return value.strip()


def member(value: Any) -> str:
    text = _text(value, 100)
    if not MEMBER_ID.match(text):
        raise ValueError(text)
    return text


def email(value: Any) -> str:
    text = _text(value, 254)
    if not re.match(EMAIL, text):
        raise ValueError(text)
    return text


def url(value: Any) -> str:
    text = _text(value, 2048)
    if not re.match(URL, text) or not secure_scheme(text):  # https only (loopback http on the local stack)
        raise ValueError(text)
    return text


def date(value: Any) -> datetime:
    """ISO 8601 extended; without a zone (as the spec's own examples) it is UTC."""
    parsed = parse_iso(value)
    if parsed is None and isinstance(value, str) and re.match(_NO_ZONE, value):
        parsed = in_range(datetime.fromisoformat(value).replace(tzinfo=UTC))  # ValueError: not a real date
    if parsed is None:
        raise ValueError(value)
    return parsed


def passphrase(value: Any) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= PASSPHRASE_MAX:  # the LCP rules, as every door's
        raise ValueError("passphrase")
    return value


def hint(value: Any) -> str:
    if not isinstance(value, str) or len(value) > HINT_MAX:
        raise ValueError("hint")
    return value


def medium(value: Any) -> str:
    """How the patron will read the book they wait for, in the warehouse lending URL's words (seed 003)."""
    text = _text(value, 20).lower()
    if text not in ("download", "streaming"):
        raise ValueError(text)
    return text


def localisation(value: Any) -> str:
    """Where a streamed book is read from (seed 003's words): in the library, or outside it."""
    text = _text(value, 20).lower()
    if text not in ("on-site", "off-site"):
        raise ValueError(text)
    return text


def flag(value: Any) -> bool:
    if value in (True, 1, "1", "true"):
        return True
    if value in (False, 0, "0", "false"):
        return False
    raise ValueError(value)


def whole(low: int, high: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
            raise ValueError(value)
        number = int(value)
        if not low <= number <= high:
            raise ValueError(value)
        return number

    return parse


class Param(Value):
    parse: Callable[[Any], Any]  # raises ValueError (or TypeError) when the value will not do
    required: bool
    default: Any

    def __init__(self, parse: Callable[[Any], Any], required: bool = False, default: Any = None) -> None:
        self._init(parse, required, default)


ParamSpecs = dict[str, Param]

RENEW_LOAN: ParamSpecs = {"expires_at": Param(date, required=True)}
CREATE_LOAN: ParamSpecs = {"member_id": Param(member, required=True), "expires_at": Param(date),
                           "notify": Param(flag, default=False), "email": Param(email), "return_url": Param(url),
                           # Readium LCP: the patron's passphrase (never stored) and its hint; LCP loans when given
                           "passphrase": Param(passphrase), "passphrase_hint": Param(hint)}
LIST_LOANS: ParamSpecs = {"member_id": Param(member), "start_at": Param(date), "end_at": Param(date),
                          "page": Param(whole(1, 10_000), default=1), "per_page": Param(whole(1, 100), default=50)}
PLACE_HOLD: ParamSpecs = {"member_id": Param(member, required=True), "notify": Param(flag, default=False),
                          "email": Param(email), "callback_url": Param(url),
                          # the pool waited for: a download place (default), or an on-site or off-site stream
                          "medium": Param(medium, default="download"), "localisation": Param(localisation)}
LIST_HOLDS: ParamSpecs = {"member_id": Param(member), "page": Param(whole(1, 10_000), default=1),
                          "per_page": Param(whole(1, 100), default=50)}


def validate(fields: ParamSpecs, data: dict[str, Any], *more: str) -> Params:
    """The parsed parameters, or V1Error with the code of every problem (fields in order, then `more`,
    the caller's own cross-field codes)."""
    out = Params()
    codes: list[str] = []
    for name, field in fields.items():
        if name not in data:
            if field.required:
                codes.append(f"missing_{name}")
            out[name] = field.default
            continue
        try:
            out[name] = field.parse(data[name])
        except (ValueError, TypeError):
            codes.append(f"invalid_{name}")
    codes += [c for c in more if c not in codes]
    if codes:
        raise V1Error(*codes)
    return out


def member_id(value: str) -> str:
    """A member id from the path."""
    try:
        return member(value)
    except ValueError:
        raise V1Error("invalid_member_id") from None


def params(event: Request | dict[str, Any]) -> dict[str, Any]:
    """Query string, then the body's fields over it (JSON object, form-encoded or multipart). Blank
    values are absent values (`member_id=` is a missing member id)."""
    try:
        out = parameters(event, MAX_BODY)
    except BadText as t:  # named: its own invalid_<name> when it has one
        code = f"invalid_{t.field}"
        raise V1Error(code if code in CODES else "invalid_text", message=str(t)) from None
    except BadBody:
        raise V1Error("invalid_body") from None
    return {k: v for k, v in out.items() if v != ""}
