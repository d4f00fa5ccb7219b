"""Library API v1 test helpers: its XML answers read back into the JSON shape, so that one assertion
checks both formats; the demo keys; a time past every demo licence's start."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

from lending.local import demo

KEY = {"x-api-key": demo.COLL_API_KEY}
KEY2 = {"x-api-key": demo.COLL2_API_KEY}
LISTS = {"downloads", "shippings", "errors", "messages"}
INTS = {"courtesy_loans", "page", "per_page", "next_page"}


def _value(el: ET.Element) -> Any:
    if el.tag in LISTS:
        return [c.text for c in el]
    if el.text is None and len(el) == 0:
        return None
    return int(el.text) if el.tag in INTS and el.text and el.text.isdigit() else el.text


def from_xml(text: str) -> dict[str, Any]:
    """A v1 XML answer as the JSON one reads: <loans page=..> lists, <loan>/<member> objects."""
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>'), text[:80]
    root = ET.fromstring(text.encode())
    if root.tag == "loans" and root.find("errors") is None:
        out: dict[str, Any] = {"loans": [{c.tag: _value(c) for c in loan} for loan in root]}
        for k in ("page", "per_page", "next_page"):
            out[k] = int(root.attrib[k]) if k in root.attrib else None
        assert all(loan.tag == "loan" for loan in root)
        return out
    return {c.tag: _value(c) for c in root}


def answer(fmt: str, payload: Any) -> dict[str, Any]:
    return from_xml(payload) if fmt == "xml" else payload


def month_start(days_ahead: int = 40) -> datetime:
    """09:00 UTC on the first day of the month after `days_ahead` days from now (every demo licence
    ordered today still runs then)."""
    later = datetime.now(UTC) + timedelta(days=days_ahead)
    first = (later.replace(day=1) + timedelta(days=32)).replace(day=1)
    return first.replace(hour=9, minute=0, second=0, microsecond=0)
