"""The catalogue door: the library's key (the v1 header X-Api-Key, or HTTP Basic with the key as user
name: what OPDS apps send, and what a requests-based harvester sends when given the base URL
`https://<key>:@hub`), the format from the path's suffix, v1's error answers (`{"errors": [...]}`),
paging headers. No rule lives here."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from ..domain.codes import Refused
from ..domain.values import Record
from ..observability import count
from ..services import api_keys, clock
from ..services.context import Ctx, warm_up
from ..v1.door import split_format
from ..v1.errors import V1Error, of_refusal
from ..v1.requests import params
from ..web import Answer as HttpAnswer
from ..web import Door, Handler, Request, xml_attribute, xml_text

JSON = "application/json; charset=utf-8"
XML = "application/xml; charset=utf-8"
REALM = 'Basic realm="Lending hub catalogue", charset="UTF-8"'
SINGULAR = {"resources": "resource", "media": "medium", "contributors": "contributor", "languages": "language",
            "tags": "tag", "classifications": "classification", "errors": "error", "messages": "message"}


class Answer(Record):
    status: int
    body: dict[str, Any]
    root: str  # the XML root element
    listing: str | None  # the key of body holding a list answer's items (XML: children of root)
    headers: dict[str, str]
    content_type: str | None  # a JSON answer's own media type (OPDS)

    def __init__(self, status: int, body: dict[str, Any], root: str = "resource", listing: str | None = None,
                 headers: dict[str, str] | None = None, content_type: str | None = None) -> None:
        self._init(status, body, root, listing, {} if headers is None else headers, content_type)


class Call(Record):
    ctx: Ctx
    library: Any
    path: dict[str, str]
    params: dict[str, Any]
    fmt: str

    def __init__(self, ctx: Ctx, library: Any, path: dict[str, str], params: dict[str, Any], fmt: str) -> None:
        self._init(ctx, library, path, params, fmt)


Action = Callable[[Call], Answer]


def api_key(req: Request) -> str | None:
    if req.headers.get("x-api-key"):
        return req.headers["x-api-key"]
    return req.basic_user or None  # the key as Basic's user name (the password is empty)


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def element(name: str, value: Any) -> str:
    if value is None or value == [] or value == {}:
        return f"<{name}/>"
    if isinstance(value, list):
        child = SINGULAR.get(name, "item")
        return f"<{name}>{''.join(element(child, v) for v in value)}</{name}>"
    if isinstance(value, dict):
        return f"<{name}>{''.join(element(k, v) for k, v in value.items())}</{name}>"
    return f"<{name}>{xml_text(_plain(value))}</{name}>"


def xml(answer: Answer) -> str:
    head = '<?xml version="1.0" encoding="UTF-8"?>\n'
    if answer.listing is None:
        return head + element(answer.root, answer.body)
    attrs = "".join(f" {k}={xml_attribute(_plain(v))}" for k, v in answer.body.items()
                    if k != answer.listing and v is not None and not isinstance(v, dict | list))
    child = SINGULAR.get(answer.listing, "item")
    items = "".join(element(child, v) for v in answer.body[answer.listing])
    return head + f"<{answer.root}{attrs}>{items}</{answer.root}>"


def paging_headers(total_items: int, total_pages: int, per_page: int, current: int) -> dict[str, str]:
    """What Cantook-family harvesters page by (rero-ebooks reads X-Current-Page and X-Total-Pages)."""
    return {"X-Total-Items": str(total_items), "X-Total-Pages": str(total_pages), "X-Per-Page": str(per_page),
            "X-Current-Page": str(current)}


def _error(req: Request, error: V1Error, root: str) -> Answer:
    answer = Answer(error.status, {"errors": error.codes, "messages": error.messages}, root=root)
    if error.status == 401:
        answer.headers["WWW-Authenticate"] = REALM
    return answer


def encode(req: Request, answer: Answer, metric: str) -> HttpAnswer:
    count(f"{metric}.{answer.status}")
    fmt, _ = split_format(req)
    if fmt == "xml":
        content_type, text = XML, xml(answer)
    else:
        content_type, text = answer.content_type or JSON, json.dumps(answer.body, ensure_ascii=False)
    return HttpAnswer(answer.status, text,
                      {"Content-Type": content_type, "Cache-Control": "private, no-store", **answer.headers})


def call_of(req: Request) -> Call:
    library = api_keys.library(api_key(req))
    if library is None:
        raise V1Error("invalid_api_key")
    fmt, path = split_format(req)
    return Call(Ctx(now=clock.now(), base_url=req.base_url), library, path, params(req), fmt)


def handler(action: Action, root: str) -> Handler:
    """The Lambda handler of one catalogue route; `root` names the XML root of its error answers."""
    warm_up()  # clients built once per container, at init
    errors: dict[type[BaseException], Callable[[Request, Any], Answer]] = {
        V1Error: lambda req, e: _error(req, e, root),
        Refused: lambda req, r: _error(req, of_refusal(r), root),  # v1's table
    }
    metric = f"harvest.{action.__name__}"

    def fault(req: Request, request_id: str) -> HttpAnswer:
        return encode(req, _error(req, V1Error("internal_error"), root), metric)

    door = Door("harvest", fault, errors, functools.partial(encode, metric=metric))
    return door.handler(lambda req: action(call_of(req)))
