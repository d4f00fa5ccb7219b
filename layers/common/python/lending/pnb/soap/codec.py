"""PNB messages between XML and the dicts the core speaks, driven by the XSD model (schema.py).

`decode` gives exactly the body the JSON door would receive (arrays as lists, integers as int, booleans
as bool, a presence flag as the JSON door's "", the rest as text); `encode` writes an answer dict in the
XSD's element order (a presence flag as `true`); `explain` turns the first XSD violation into an
INVALID_ARGUMENTS message that names the field."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from .envelope import short
from .schema import NS, ComplexType

SECRETS = frozenset({"passwordReseller", "passwordColl", "passwordDistributor"})
_ELEMENT = re.compile(r"^Element '(?:\{([^}]*)\})?([^']+)'[^:]*: (.*)$", re.S)
_EXPECTED = re.compile(r"Expected is (?:one of )?\( ([^)]*) \)")
_NAMESPACE = re.compile(r"\{(?:urn|https?):[^}]*\}")
_LONG_VALUE = re.compile(r"'([^']{48})[^']+'")
_STEP = re.compile(r"^(?:[^:\[\]]*:)?([^\[\]]+)(?:\[(\d+)\])?$")
_NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # characters XML 1.0 cannot carry


class Malformed(ValueError):
    """A scalar the XSD let through that is still no value of its type: INVALID_ARGUMENTS naming it."""

    def __init__(self, field: str) -> None:
        super().__init__(f"The parameter {field} is invalid: not a value of its type")
        self.field = field


def decode(element: etree._Element, ctype: ComplexType, path: str = "") -> dict[str, Any]:
    """A validated element as the JSON door's body: only call it after the XSD said yes. An element
    given empty takes the XSD's default (`<quantity/>` is 1); Malformed names one that is still no value."""
    out: dict[str, Any] = {}
    for child in element:
        if not isinstance(child.tag, str):
            continue
        f = ctype.by_name[etree.QName(child).localname]
        where = f"{path}{f.name}" + (f".{len(out.get(f.name, []))}" if f.repeated else "")
        if f.type is not None:
            value: Any = decode(child, f.type, where + ".")
        else:
            text = child.text or ""
            if not text.strip() and f.default is not None:
                text = f.default
            value = _scalar(text, f.kind, where)
        if f.repeated:
            out.setdefault(f.name, []).append(value)
        else:
            out[f.name] = value
    return out


def _scalar(text: str, kind: str, where: str) -> Any:
    if kind == "int":
        try:
            return int(text)
        except ValueError:
            raise Malformed(where) from None
    if kind == "bool":
        value = text.strip()
        if value not in ("true", "1", "false", "0"):
            raise Malformed(where)
        return value in ("true", "1")
    if kind == "flag":  # present (its only value is true): the JSON door's empty string
        return ""
    return text


def encode(name: str, values: dict[str, Any], ctype: ComplexType) -> etree._Element:
    element = etree.Element(f"{{{NS}}}{name}")
    _fill(element, values, ctype)
    return element


def _fill(element: etree._Element, values: dict[str, Any], ctype: ComplexType) -> None:
    unknown = values.keys() - ctype.by_name.keys()
    if unknown:  # the core answered a field the XSD does not describe: say so rather than break the schema
        from ...observability import logger

        logger.warning("soap answer field not in pnb.xsd",
                       extra={"type": ctype.name, "fields": sorted(unknown)})
    for f in ctype.fields:
        value = values.get(f.name)
        if value is None:
            continue
        for item in value if f.repeated and isinstance(value, list) else [value]:
            child = etree.SubElement(element, f"{{{NS}}}{f.name}")
            if f.type is not None:
                # A bare value where the XSD has a one-field structure fills that field (onixFileUrl).
                _fill(child, item if isinstance(item, dict) else {f.type.fields[0].name: item}, f.type)
            else:
                child.text = "true" if f.kind == "flag" else _text(item)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("\ufffd", str(value))


def explain(payload: etree._Element, entry: Any, ctype: ComplexType) -> str:
    """INVALID_ARGUMENTS' message for the first XSD violation, naming the field by its path
    (`orderRequestLine.1.ean13`). A password's value is never echoed."""
    message = str(entry.message)
    m = _ELEMENT.match(message)
    namespace, name, detail = (m.group(1), m.group(2), m.group(3)) if m else (None, "request", message)
    at, at_type, node = _path(payload, entry.path, ctype)  # for a missing child: its parent
    expected = _EXPECTED.search(detail)
    wanted = [_NAMESPACE.sub("", x).strip() for x in expected.group(1).split(",")] if expected else []
    if "Missing child element" in detail and wanted:
        # libxml2 lists every element that may come next: the missing one is the first required.
        fields = at_type.by_name if at_type is not None else {}
        missing = next((w for w in wanted if w in fields and fields[w].required), wanted[-1])
        return f"The parameter {at + '.' if at else ''}{missing} is mandatory"
    where = at or name
    if "This element is not expected" in detail:
        parent, parent_type, _ = _path(payload, (entry.path or "").rpartition("/")[0], ctype)
        return _unexpected(node, name if namespace == NS else None, where, parent, parent_type, wanted)
    if name in SECRETS:
        return f"The parameter {where} is invalid: alphanumeric, at most 25 characters"
    reason = _LONG_VALUE.sub(r"'\1...'", _NAMESPACE.sub("", detail)).strip()
    return f"The parameter {where} is invalid: {reason}"


def _unexpected(node: etree._Element | None, name: str | None, where: str, parent: str,
                parent_type: ComplexType | None, wanted: list[str]) -> str:
    """libxml2 met `node` (named `where`; `name` when it is in our namespace) where it wanted one of
    `wanted`. A wanted required element given nowhere after it is missing: that one is named, as
    mandatory. Otherwise the element met is the wrong one and is named: a second one of a single field
    (or of its xs:choice), one too many of a list, one of ours out of its place, or one we do not know."""
    hint = f" (expected {' or '.join(wanted)})" if wanted else ""
    known = parent_type.by_name if parent_type is not None else {}
    f = known.get(name) if name is not None else None
    if f is None or node is None:
        unknown = ": unknown parameter" if name is not None and parent_type is not None else ""
        return f"The parameter {where} is not expected here{unknown}{hint}"

    def ours(nodes: Any) -> list[str]:
        return [etree.QName(c).localname for c in nodes
                if isinstance(c.tag, str) and etree.QName(c).namespace == NS]

    before, after = ours(node.itersiblings(preceding=True)), ours(node.itersiblings())
    if f.name in before:
        if not f.repeated:
            return f"The parameter {where} is not expected here: duplicated"
        if f.max_occurs is not None and before.count(f.name) >= f.max_occurs:
            return f"The parameter {where} is not expected here: at most {f.max_occurs}"
    alternative = next((x for x in before if x in f.choice and x != f.name), None)
    if alternative is not None:
        return (f"The parameter {where} is not expected here: {alternative} is already given "
                f"(only one of {' or '.join(f.choice)})")
    absent = [w for w in wanted if w in known and known[w].required and w != f.name and w not in after]
    if absent:
        return f"The parameter {parent + '.' if parent else ''}{absent[0]} is mandatory"
    later = next((w for w in wanted if w in after), None)
    return f"The parameter {where} is not expected here: out of order" + (
        f" ({later} comes first)" if later is not None else hint)


def _path(payload: etree._Element, path: str | None,
          ctype: ComplexType) -> tuple[str, ComplexType | None, etree._Element | None]:
    """libxml2's path of the failing node (`/*/*[3]/*[1]` or `/pnb:op/pnb:x`) as field names ('' for the
    operation element itself), that node's type when it has one, and the node."""
    if not path:
        return "", None, None
    node, names = payload, list[str]()
    current: ComplexType | None = ctype
    for step in path.split("/")[2:]:  # '', the operation element, then the steps below it
        m = _STEP.match(step)
        if m is None:
            return "", None, None
        tag, index = m.group(1), int(m.group(2) or 1) - 1
        children = [c for c in node
                    if isinstance(c.tag, str) and (tag == "*" or etree.QName(c).localname == tag)]
        if index >= len(children):
            return "", None, None
        node = children[index]
        qname = etree.QName(node)
        ours = qname.namespace == NS
        f = current.by_name.get(qname.localname) if current is not None and ours else None
        if f is not None and f.repeated:
            same = [c for c in node.itersiblings(preceding=True) if c.tag == node.tag]
            names.append(f"{qname.localname}.{len(same)}")
        else:  # a foreign element is named with its namespace, to show why it is not ours
            names.append(qname.localname if ours else f"{{{short(qname.namespace)}}}{qname.localname}")
        current = f.type if f is not None else None
    return ".".join(names), current, node
