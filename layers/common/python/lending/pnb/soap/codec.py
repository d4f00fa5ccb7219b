"""PNB messages between XML and the dicts the core speaks, driven by the XSD model (schema.py).

`decode` gives exactly the body the JSON door would receive (arrays as lists, integers as int, booleans
as bool, a presence flag as the JSON door's "", the rest as text); `encode` writes an answer dict in the
XSD's element order (a presence flag as `true`); `explain` turns the first XSD violation into an
INVALID_ARGUMENTS message that names the field, from xmlschema's structured error (never libxml2's text)."""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from lxml import etree

from .envelope import short
from .schema import NS, ComplexType, XsdField, explainer

SECRETS = frozenset({"passwordReseller", "passwordColl", "passwordDistributor"})
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


class Violation(NamedTuple):
    """The first XSD violation of a request: the field it names (its path) and INVALID_ARGUMENTS' message."""

    field: str
    message: str


def _violation(field: str, rest: str) -> Violation:
    return Violation(field, f"The parameter {field} {rest}")


def explain(payload: etree._Element, ctype: ComplexType) -> Violation:
    """The first XSD violation of a request libxml2 refused: the field, named by its path
    (`orderRequestLine.1.ean13`), and its message. Built from xmlschema's structured error: the element at
    fault (`elem`); for a content error the child met (`invalid_child`, None when one is missing) and the
    particles `expected`; for a value the facet or type that refused it (`validator`). The wording
    is the one this door has always answered (libxml2's), written here from those fields. A password's
    value is never echoed."""
    from xmlschema.validators import exceptions as x

    error = next(explainer().iter_errors(payload), None)
    if error is None or not isinstance(error.elem, etree._Element):  # the two validators disagree: rare
        return _violation(etree.QName(payload).localname, "is invalid")
    at, at_type, at_field = _locate(payload, error.elem, ctype)
    if isinstance(error, x.XMLSchemaChildrenValidationError):
        met = error.invalid_child
        fields = at_type.by_name if at_type is not None else {}
        if met is None:  # the content ended early: the first required element still wanted is missing
            before = _ours(error.elem)
            wanted = _wanted(at_type, before)
            expected = [etree.QName(p.name).localname for p in error.expected or () if p.name]
            missing = next((w for w in wanted + expected if w in fields and fields[w].required),
                           (expected or wanted or ["request"])[0])
            return _violation(f"{at + '.' if at else ''}{missing}", "is mandatory")
        where, _, _ = _locate(payload, met, ctype)
        name = etree.QName(met).localname if etree.QName(met).namespace == NS else None
        return _unexpected(met, name, where, at, at_type)
    where = at or etree.QName(error.elem).localname
    if at_field is not None and at_field.name in SECRETS:
        return _violation(where, "is invalid: alphanumeric, at most 25 characters")
    return _violation(where, f"is invalid: {_reason(error, at_field)}")


def _q(value: Any) -> str:
    """A value or a pattern quoted in a message, cut at 48 characters (a 5000-digit GLN stays short)."""
    text = str(value)
    return f"'{text[:48]}...'" if len(text) > 48 else f"'{text}'"


def _reason(error: Any, f: XsdField | None) -> str:
    """Why a value (or an element's form) was refused, from the validator that refused it."""
    from xmlschema.validators import XsdAttributeGroup, XsdElement, XsdGroup, facets

    v, elem = error.validator, error.elem
    value = elem.text or ""
    if f is not None and not f.type_name.startswith("xs:") and _builtin(f) not in (None, "string"):
        value = " ".join(value.split())  # a derived date or number is shown collapsed, as it was compared
    if isinstance(v, XsdAttributeGroup):  # an attribute: the request's elements carry none
        names = [etree.QName(k).localname for k in error.obj or ()]
        return f"The attribute '{short(names[0] if names else '', 48)}' is not allowed."
    if isinstance(v, XsdGroup) or (f is not None and f.type is not None):  # text inside a structure
        return "Character content other than whitespace is not allowed because the content type is 'element-only'."
    if isinstance(v, XsdElement):
        if any(isinstance(c.tag, str) for c in elem):
            return "Element content is not allowed, because the type definition is simple."
        v = next(iter(_facets(f, facets.XsdMaxLengthFacet)), None)  # text where the type wants none (Empty)
    if isinstance(v, facets.XsdFacet | facets.XsdPatternFacets | facets.XsdEnumerationFacets) and \
            not _builtin_accepts(f, value):
        v = None  # not even a value of its built-in type: said so first (as libxml2 does)
    if isinstance(v, facets.XsdPatternFacets):
        return f"[facet 'pattern'] The value {_q(value)} is not accepted by the pattern {_q(v.regexps[0])}."
    if isinstance(v, facets.XsdEnumerationFacets):
        values = ", ".join(f"'{e!s}'" for e in v.enumeration)
        return f"[facet 'enumeration'] The value {_q(value)} is not an element of the set {{{values}}}."
    if isinstance(v, facets.XsdMaxLengthFacet):
        return (f"[facet 'maxLength'] The value has a length of '{len(value)}'; this exceeds the allowed "
                f"maximum length of '{v.value}'.")
    if isinstance(v, facets.XsdMinLengthFacet):
        return (f"[facet 'minLength'] The value has a length of '{len(value)}'; this underruns the allowed "
                f"minimum length of '{v.value}'.")
    if isinstance(v, facets.XsdMinInclusiveFacet):
        return f"[facet 'minInclusive'] The value {_q(value)} is less than the minimum value allowed ({_q(v.value)})."
    if isinstance(v, facets.XsdMaxInclusiveFacet):
        return (f"[facet 'maxInclusive'] The value {_q(value)} is greater than the maximum value allowed "
                f"({_q(v.value)}).")
    # Anything else refused the lexical value itself (xs:int's range, a boolean, a date's form).
    type_name = f.type_name if f is not None and f.type_name else "xs:string"
    return f"{_q(value)} is not a valid value of the atomic type {_q(type_name)}."


def _facets(f: XsdField | None, kind: type) -> list[Any]:
    xsd_type = explainer().types.get(f.type_name) if f is not None else None
    return [x for x in (getattr(xsd_type, "facets", None) or {}).values() if isinstance(x, kind)]


def _builtin_type(f: XsdField | None) -> Any:
    """The built-in type under a field's type (xs:int under Cents), None for a structure."""
    from xmlschema.validators import XsdAtomicBuiltin

    xsd_type = explainer().types.get(f.type_name) if f is not None else None
    while xsd_type is not None and not isinstance(xsd_type, XsdAtomicBuiltin):
        xsd_type = getattr(xsd_type, "base_type", None)
    return xsd_type


def _builtin(f: XsdField | None) -> str | None:
    xsd_type = _builtin_type(f)
    return None if xsd_type is None else etree.QName(xsd_type.name).localname


def _builtin_accepts(f: XsdField | None, value: str) -> bool:
    xsd_type = _builtin_type(f)
    return xsd_type is None or bool(xsd_type.is_valid(value))


def _ours(nodes: Any) -> list[str]:
    return [etree.QName(c).localname for c in nodes if isinstance(c.tag, str) and etree.QName(c).namespace == NS]


def _wanted(ctype: ComplexType | None, before: list[str]) -> list[str]:
    """The elements the XSD lets come next after `before` (ours, in order), up to the first required one
    (one member of an xs:choice given, its others are no longer wanted); as the door has always listed
    them: not the one just given again, nothing in an xs:all."""
    if ctype is None or ctype.unordered:
        return []
    index = {f.name: i for i, f in enumerate(ctype.fields)}
    last = max((index[n] for n in before if n in index), default=-1)
    wanted: list[str] = []
    for f in ctype.fields[last + 1:]:
        if f.choice and any(n in before for n in f.choice):
            continue
        wanted.append(f.name)
        if f.required:
            break
    return wanted


def _unexpected(node: etree._Element, name: str | None, where: str, parent: str,
                parent_type: ComplexType | None) -> Violation:
    """The XSD met `node` (named `where`; `name` when it is in our namespace) where it may not be. A
    required element wanted there and given nowhere after it is missing: that one is named, as mandatory.
    Otherwise the element met is the wrong one and is named: a second one of a single field (or of its
    xs:choice), one too many of a list, one of ours out of its place, or one we do not know."""
    before, after = _ours(node.itersiblings(preceding=True))[::-1], _ours(node.itersiblings())
    wanted = _wanted(parent_type, before)
    hint = f" (expected {' or '.join(wanted)})" if wanted else ""
    known = parent_type.by_name if parent_type is not None else {}
    f = known.get(name) if name is not None else None
    if f is None:
        unknown = ": unknown parameter" if name is not None and parent_type is not None else ""
        return _violation(where, f"is not expected here{unknown}{hint}")
    if f.name in before:
        if not f.repeated:
            return _violation(where, "is not expected here: duplicated")
        if f.max_occurs is not None and before.count(f.name) >= f.max_occurs:
            return _violation(where, f"is not expected here: at most {f.max_occurs}")
    alternative = next((x for x in before if x in f.choice and x != f.name), None)
    if alternative is not None:
        return _violation(where, f"is not expected here: {alternative} is already given "
                                 f"(only one of {' or '.join(f.choice)})")
    absent = [w for w in wanted if w in known and known[w].required and w != f.name and w not in after]
    if absent:
        return _violation(f"{parent + '.' if parent else ''}{absent[0]}", "is mandatory")
    later = next((w for w in wanted if w in after), None)
    return _violation(where, "is not expected here: out of order" + (
        f" ({later} comes first)" if later is not None else hint))


def _locate(payload: etree._Element, node: etree._Element,
            ctype: ComplexType) -> tuple[str, ComplexType | None, XsdField | None]:
    """`node` (the request element or one below it) as its field path ('' for the request element
    itself: `orderRequestLine.1.unitPrice`), the type of its content when it is a structure, and its field."""
    chain: list[etree._Element] = []
    current_node: etree._Element | None = node
    while current_node is not None and current_node is not payload:
        chain.append(current_node)
        current_node = current_node.getparent()
    names: list[str] = []
    current: ComplexType | None = ctype
    f: XsdField | None = None
    for el in reversed(chain):
        qname = etree.QName(el)
        ours = qname.namespace == NS
        f = current.by_name.get(qname.localname) if current is not None and ours else None
        if f is not None and f.repeated:
            same = [c for c in el.itersiblings(preceding=True) if c.tag == el.tag]
            names.append(f"{qname.localname}.{len(same)}")
        else:  # a foreign element is named with its namespace, to show why it is not ours
            names.append(qname.localname if ours else f"{{{short(qname.namespace)}}}{qname.localname}")
        current = f.type if f is not None else None
    return ".".join(names), current, f
