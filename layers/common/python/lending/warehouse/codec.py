"""HTTP out for the warehouse door (parameters come in through lending.web.parameters): answers as
the spec has them (201 text/plain URL + Location, 4xx JSON array of names)."""

from __future__ import annotations

import json
from typing import Any

from . import errors as e


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
