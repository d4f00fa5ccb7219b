"""v1 answers in JSON or in the spec's XML (elements named as the JSON keys, lists as a wrapper of
singular elements: <downloads><download>...</download></downloads>, null as an empty element)."""

from __future__ import annotations

from typing import Any

from ..text import safe_text
from ..web import dumps, xml_attribute, xml_text


def key_type(ean13: str) -> str:
    """EAN-13s of the Bookland prefixes are ISBN-13s."""
    return "isbn" if ean13.startswith(("978", "979")) else "ean"


SINGULAR = {"downloads": "download", "shippings": "shipping", "errors": "error", "messages": "message",
            "loans": "loan", "holds": "hold"}
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "application/xml; charset=utf-8"}


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _text(value: Any) -> str:
    return xml_text(_plain(value))


def element(name: str, value: Any) -> str:
    if value is None or value == [] or value == {}:
        return f"<{name}/>"
    if isinstance(value, list):
        child = SINGULAR.get(name, "item")
        return f"<{name}>{''.join(element(child, v) for v in value)}</{name}>"
    if isinstance(value, dict):
        return f"<{name}>{''.join(element(k, v) for k, v in value.items())}</{name}>"
    return f"<{name}>{_text(value)}</{name}>"


def xml(root: str, body: dict[str, Any], listing: str | None = None) -> str:
    """`body` as the children of <root>; with `listing`, body[listing] holds the items of a list root and
    the other keys become the root's attributes (<loans page="1" next_page="2"><loan>...</loan></loans>)."""
    head = '<?xml version="1.0" encoding="UTF-8"?>\n'
    if listing is None:
        return head + element(root, body)
    attrs = "".join(f" {k}={xml_attribute(_plain(v))}" for k, v in body.items() if k != listing and v is not None)
    child = SINGULAR.get(listing, "item")
    return head + f"<{root}{attrs}>{''.join(element(child, v) for v in body[listing])}</{root}>"


def render(fmt: str, root: str, body: dict[str, Any], listing: str | None = None) -> tuple[str, str]:
    """(content type, text) of an answer."""
    if fmt == "xml":
        return CONTENT_TYPES["xml"], safe_text(xml(root, body, listing))
    return CONTENT_TYPES["json"], dumps(body)
