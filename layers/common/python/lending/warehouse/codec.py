"""HTTP out for the warehouse door (parameters come in through lending.web.parameters): answers as
the spec has them (201 text/plain URL + Location, 4xx JSON array of names)."""

from __future__ import annotations

import json

from ..web import Answer
from . import errors as e


def created(url: str, return_url: str) -> Answer:
    """201: the time-limited URL as the body and in Location; where to return it early, as a Link."""
    headers = {"Content-Type": "text/plain; charset=utf-8", "Location": url,
               "Link": f'<{return_url}>; rel="return"', "Cache-Control": "no-store"}
    return Answer(201, url, headers)


def refused(status: int, names: set[str] | list[str]) -> Answer:
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    return Answer(status, json.dumps(e.ordered(names)), headers)


def no_content() -> Answer:
    return Answer(204, "", {"Cache-Control": "no-store"})
