"""The OPDS 2 feed schema (tests/schemas/opds2, vendored) as a validator: every `$ref` resolves to the
local copies by their `$id`; formats (uri, uri-reference, uri-template, date-time) are checked."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft7Validator, FormatChecker
from referencing import Registry, Resource

ROOT = Path(__file__).parent / "schemas" / "opds2"


@cache
def feed_validator() -> Draft7Validator:
    docs = [json.loads(p.read_text()) for p in sorted(ROOT.rglob("*.schema.json"))]
    registry: Registry[Any] = Registry().with_resources((d["$id"], Resource.from_contents(d)) for d in docs)
    feed = next(d for d in docs if d["$id"] == "https://drafts.opds.io/schema/feed.schema.json")
    return Draft7Validator(feed, registry=registry, format_checker=FormatChecker())


def errors(document: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in feed_validator().iter_errors(document)]
