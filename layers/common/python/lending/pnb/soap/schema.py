"""pnb.xsd loaded once per container: the compiled validator (libxml2, in C) and, read from the same
file, each complex type's fields in order with their kind (text, integer, boolean, presence flag, nested),
how often they may occur and which choice they share. The codec walks this model, so the XSD is the one
description of the SOAP messages."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from ...domain.values import Record, Value

NS = "urn:lending-hub:pnb-numerique:v2"
XS = "http://www.w3.org/2001/XMLSchema"
XSD_PATH = Path(__file__).with_name("pnb.xsd")

# The twelve services in the spec's order (the WSDL lists them so), then the later ones library systems call.
SERVICES = ("sendOrder", "cancelOrder", "checkAvailability", "getOffers", "getOffersForDistributor",
            "getOrders", "declareIp", "loanBook", "consultBook", "getLoanStatus", "getEndedLoans", "endLoan",
            "returnLoan", "extendLoan", "getUserAgent")
FAULT = "pnbFault"

_INTEGERS = {"int", "integer", "long", "short", "nonNegativeInteger", "positiveInteger", "unsignedInt"}


class XsdField(Value):
    name: str
    kind: str  # "str", "int", "bool", "flag" (present or absent), or "complex"
    repeated: bool
    required: bool
    type: ComplexType | None  # the nested type when kind is "complex"
    max_occurs: int | None  # None: unbounded
    choice: tuple[str, ...]  # the elements of its xs:choice, itself included: one of them, not two
    default: str | None  # the XSD's default: the value of the element given empty (<quantity/>)
    type_name: str  # its type as the XSD names it: "Cents", "IsoDateTime", "xs:boolean"

    def __init__(self, name: str, kind: str, repeated: bool, required: bool, type: ComplexType | None = None,
                 max_occurs: int | None = 1, choice: tuple[str, ...] = (), default: str | None = None,
                 type_name: str = "") -> None:
        self._init(name, kind, repeated, required, type, max_occurs, choice, default, type_name)


class ComplexType(Record):
    name: str
    unordered: bool  # an xs:all: its fields in any order
    fields: list[XsdField]
    by_name: dict[str, XsdField]

    def __init__(self, name: str, unordered: bool = False, fields: list[XsdField] | None = None,
                 by_name: dict[str, XsdField] | None = None) -> None:
        self._init(name, unordered, [] if fields is None else fields, {} if by_name is None else by_name)


class Model(Value):
    validator: etree.XMLSchema
    elements: dict[str, ComplexType]  # top-level element name -> its type
    source: bytes  # pnb.xsd as shipped (served at ?xsd, inlined in the WSDL)

    def __init__(self, validator: etree.XMLSchema, elements: dict[str, ComplexType], source: bytes) -> None:
        self._init(validator, elements, source)


def _local(qname: str) -> tuple[str, str]:
    """('xs', 'int') or ('pnb', 'Gln') from a QName as written in the file."""
    prefix, _, name = qname.rpartition(":")
    return prefix, name


def _type_name(qname: str) -> str:
    prefix, name = _local(qname)
    return f"xs:{name}" if prefix == "xs" else name


def load(path: Path = XSD_PATH) -> Model:
    source = path.read_bytes()
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True)
    root = etree.fromstring(source, parser)
    validator = etree.XMLSchema(root)
    simple_base = {s.get("name"): _local(s.find(f"{{{XS}}}restriction").get("base"))
                   for s in root.iterfind(f"{{{XS}}}simpleType")}
    # A boolean whose only value is `true` is a presence flag (pnb:Present): the spec's empty element.
    flags = {s.get("name") for s in root.iterfind(f"{{{XS}}}simpleType")
             if _local(s.find(f"{{{XS}}}restriction").get("base")) == ("xs", "boolean")
             and [p.get("value") for p in s.iterfind(f"{{{XS}}}restriction/{{{XS}}}pattern")] == ["true"]}
    complex_nodes = {c.get("name"): c for c in root.iterfind(f"{{{XS}}}complexType")}
    types = {name: ComplexType(name, node.find(f"{{{XS}}}all") is not None) for name, node in complex_nodes.items()}

    def kind_of(qname: str) -> tuple[str, ComplexType | None]:
        prefix, name = _local(qname)
        if prefix != "xs" and name in flags:
            return "flag", None
        while prefix != "xs" and name in simple_base:  # follow restrictions down to a built-in type
            prefix, name = simple_base[name]
        if prefix != "xs":
            return "complex", types[name]
        return ("int" if name in _INTEGERS else "bool" if name == "boolean" else "str"), None

    for name, node in complex_nodes.items():
        ctype = types[name]
        for el in node.iter(f"{{{XS}}}element"):  # a sequence, possibly holding a choice
            kind, nested = kind_of(el.get("type"))
            max_occurs = None if el.get("maxOccurs") == "unbounded" else int(el.get("maxOccurs", "1"))
            parent = el.getparent()
            in_choice = parent.tag == f"{{{XS}}}choice"
            # Only a choice's members are read (walking every sequence's siblings was most of the init).
            members = tuple(x.get("name") for x in parent.iterfind(f"{{{XS}}}element")) if in_choice else ()
            f = XsdField(el.get("name"), kind, max_occurs is None or max_occurs > 1,
                      el.get("minOccurs", "1") != "0" and not in_choice, nested, max_occurs,
                      members, el.get("default"), _type_name(el.get("type")))
            ctype.fields.append(f)
            ctype.by_name[f.name] = f
    elements = {el.get("name"): types[_local(el.get("type"))[1]] for el in root.iterfind(f"{{{XS}}}element")}
    return Model(validator, elements, source)


MODEL = load()


@cache
def explainer() -> Any:
    """The same file read by `xmlschema`, only to explain a request libxml2 refused: its errors are
    structured (the element at fault, the facet or type that refused it, the child expected), so the door
    names the field without reading libxml2's English. Built on the first refusal, not at init:
    importing and building it costs ~0.4 s, which would break the cold-start budget; validating with it
    costs ~250 us per loanBook against libxml2's ~4 us (figures in docs/pnb-soap.md), so it never says yes/no."""
    import xmlschema

    return xmlschema.XMLSchema(str(XSD_PATH))
