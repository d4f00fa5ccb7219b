"""The v1 door (one lending.web Door per function): it picks the format from the path's suffix,
authenticates the X-Api-Key header, decodes the parameters, calls the action, and maps refusals to
the spec's status codes and `{"errors": [...]}` answers. No rule about loans lives here."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ..domain.accounts import Account
from ..domain.codes import Refused
from ..domain.values import Record
from ..observability import count, logger
from ..services import api_keys, clock
from ..services.context import Ctx, warm_up
from ..web import Answer, Door, Handler, Request
from .errors import CODES, V1Error, of_refusal
from .render import render
from .requests import params

SUFFIXES = (".json", ".xml")


class V1Answer(Record):
    status: int
    body: dict[str, Any]
    listing: str | None  # the key of body that holds a list answer's items
    headers: dict[str, str]
    raw: tuple[str, str] | None  # (content type, body): a file answered as it is (an LCP licence)

    def __init__(self, status: int, body: dict[str, Any], listing: str | None = None,
                 headers: dict[str, str] | None = None, raw: tuple[str, str] | None = None) -> None:
        self._init(status, body, listing, {} if headers is None else headers, raw)


class Call(Record):
    ctx: Ctx
    library: Account
    path: dict[str, str]  # path parameters, their format suffix removed
    params: dict[str, Any]

    def __init__(self, ctx: Ctx, library: Account, path: dict[str, str], params: dict[str, Any]) -> None:
        self._init(ctx, library, path, params)


Action = Callable[[Call], V1Answer]


def split_format(event: Request | dict[str, Any]) -> tuple[str, dict[str, str]]:
    """`xml` when the path ends in .xml, else `json`; the path parameters, the one that ends the path
    without its format suffix (`/v1/loans/{id}.xml`). A suffix inside the path is part of its value:
    member `bob.json` of `/v1/members/bob.json/courtesy_loans` is not member `bob`."""
    req = Request.of(event)
    path = req.path
    fmt = "xml" if path.endswith(".xml") else "json"
    out = {}
    for name, value in req.path_params.items():
        if path.endswith("/" + value):
            for suffix in SUFFIXES:
                if value.endswith(suffix):
                    value = value[: -len(suffix)]
        out[name] = value
    return fmt, out


def errors_answer(error: V1Error) -> V1Answer:
    return V1Answer(error.status, {"errors": error.codes, "messages": error.messages})


def _fault(req: Request, request_id: str) -> Answer:
    error = V1Error("internal_error")
    fmt, _ = split_format(req)
    content_type, text = render(fmt, "errors", {"errors": error.codes, "messages": error.messages})
    return Answer(500, text, {"Content-Type": content_type, "X-Request-Id": request_id})


# The v1 door's error table: its own errors, and the core's refusals through v1/errors.py's TABLE.
ERRORS: dict[type[BaseException], Callable[[Request, Any], V1Answer]] = {
    V1Error: lambda req, e: errors_answer(e),
    Refused: lambda req, r: errors_answer(of_refusal(r)),
}


def encode(req: Request, answer: V1Answer, root: str, metric: str) -> Answer:
    """A v1 answer in the path's format; `root` names the XML root element of the route's answers."""
    count(f"{metric}.{answer.status}")
    if answer.status >= 400:
        logger.info("v1 refused", extra={"route": req.route, "status": answer.status,
                                         "errors": answer.body.get("errors")})
    if answer.raw is not None:
        return Answer(answer.status, answer.raw[1],
                      {"Content-Type": answer.raw[0], "Cache-Control": "private, no-store", **answer.headers})
    fmt, _ = split_format(req)
    content_type, text = render(fmt, answer.listing or root, answer.body, answer.listing)
    extra = {"Retry-After": "1"} if answer.status == CODES["try_again"][0] else {}
    return Answer(answer.status, text, {"Content-Type": content_type, **extra, **answer.headers})


def call_of(req: Request, library: Account | None) -> Call:
    """The library the X-Api-Key names (or invalid_api_key), the path and the parameters."""
    if library is None:
        raise V1Error("invalid_api_key")
    _, path = split_format(req)
    return Call(Ctx(now=clock.now(), base_url=req.base_url), library, path, params(req))


def handler(action: Action, root: str) -> Handler:
    """The Lambda handler of one v1 route; `root` names the XML root element of its answers."""
    warm_up()  # clients built once per container, at init
    door = Door("v1", _fault, ERRORS, functools.partial(encode, root=root, metric=f"v1.{action.__name__}"))
    return door.handler(lambda req: action(call_of(req, api_keys.library(req.headers.get("x-api-key")))))
