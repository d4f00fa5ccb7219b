"""The v1 door: one wrapper for every v1 function. It picks the format from the path's suffix,
authenticates the X-Api-Key header, decodes the parameters, calls the action, and maps refusals to
the spec's status codes and `{"errors": [...]}` answers. No rule about loans lives here."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..domain.accounts import Account
from ..domain.codes import Refused
from ..observability import count, logger, observed
from ..services import api_keys, clock
from ..services.context import Ctx, warm_up
from ..web import guarded, request_id
from .errors import CODES, V1Error, of_refusal
from .render import render
from .requests import params

SUFFIXES = (".json", ".xml")


@dataclass
class V1Answer:
    status: int
    body: dict[str, Any]
    listing: str | None = None  # the key of body that holds a list answer's items
    headers: dict[str, str] = field(default_factory=dict)
    raw: tuple[str, str] | None = None  # (content type, body): a file answered as it is (an LCP licence)


@dataclass
class Call:
    ctx: Ctx
    library: Account
    path: dict[str, str]  # path parameters, their format suffix removed
    params: dict[str, Any]


Action = Callable[[Call], V1Answer]


def base_url(event: dict[str, Any]) -> str:
    """The hub's address as the caller reached it (links point back at it), unless one is configured."""
    configured = os.environ.get("PUBLIC_BASE_URL")
    if configured:
        return configured.rstrip("/")
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    host = headers.get("host") or event.get("requestContext", {}).get("domainName", "localhost")
    return f"{headers.get('x-forwarded-proto', 'https')}://{host}"


def split_format(event: dict[str, Any]) -> tuple[str, dict[str, str]]:
    """`xml` when the path ends in .xml, else `json`; the path parameters, the one that ends the path
    without its format suffix (`/v1/loans/{id}.xml`). A suffix inside the path is part of its value:
    member `bob.json` of `/v1/members/bob.json/courtesy_loans` is not member `bob`."""
    path = str(event.get("rawPath") or "")
    fmt = "xml" if path.endswith(".xml") else "json"
    out = {}
    for name, value in (event.get("pathParameters") or {}).items():
        if path.endswith("/" + value):
            for suffix in SUFFIXES:
                if value.endswith(suffix):
                    value = value[: -len(suffix)]
        out[name] = value
    return fmt, out


def errors_answer(error: V1Error) -> V1Answer:
    return V1Answer(error.status, {"errors": error.codes, "messages": error.messages})


def _fault(event: dict[str, Any], request_id: str) -> dict[str, Any]:
    error = V1Error("internal_error")
    fmt, _ = split_format(event)
    content_type, text = render(fmt, "errors", {"errors": error.codes, "messages": error.messages})
    return {"statusCode": 500, "body": text, "headers": {"Content-Type": content_type, "X-Request-Id": request_id}}


def handler(action: Action, root: str) -> Callable[[dict[str, Any], Any], dict[str, Any]]:
    """The Lambda handler of one v1 route; `root` names the XML root element of its answers."""
    warm_up()  # clients built once per container, at init

    @observed
    @guarded(_fault)
    def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        fmt, path = split_format(event)
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        try:
            library = api_keys.library(headers.get("x-api-key"))
            if library is None:
                raise V1Error("invalid_api_key")
            call = Call(Ctx(now=clock.now(), base_url=base_url(event)), library, path, params(event))
            answer = action(call)
        except V1Error as e:
            answer = errors_answer(e)
        except Refused as r:
            answer = errors_answer(of_refusal(r))
        except Exception:
            logger.exception("v1 request failed", extra={"route": event.get("routeKey"),
                                                         "requestId": request_id(event)})
            answer = errors_answer(V1Error("internal_error"))
        count(f"v1.{action.__name__}.{answer.status}")
        if answer.status >= 400:
            logger.info("v1 refused", extra={"route": event.get("routeKey"), "status": answer.status,
                                             "errors": answer.body.get("errors")})
        if answer.raw is not None:
            return {"statusCode": answer.status, "body": answer.raw[1],
                    "headers": {"Content-Type": answer.raw[0], "Cache-Control": "private, no-store", **answer.headers}}
        content_type, text = render(fmt, answer.listing or root, answer.body, answer.listing)
        extra = {"Retry-After": "1"} if answer.status == CODES["try_again"][0] else {}
        return {"statusCode": answer.status, "body": text,
                "headers": {"Content-Type": content_type, **extra, **answer.headers}}

    return lambda_handler
