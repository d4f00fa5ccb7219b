"""One PNB request contract: `lending.pnb.requests` (the schemas both doors validate with) is the source;
pnb.xsd, which the SOAP door validates first and publishes in its WSDL, is held to it here. Every element of
every request type is walked with xmlschema and compared with its field in the contract: name, optionality,
occurrences, default, and the value's rule (built-in type, pattern, lengths, bounds, enumeration). A drift
fails with one line per difference.

How a contract rule is written in XSD (the mapping, in one place):
- text(pattern, min_length, max_length) -> xs:string restricted by that pattern (the XSD's are whole-value:
  `^X$` is `X`, an open end `^X` is `X.*`); without a pattern, minLength (1 unless 0) and maxLength;
- gln() -> [0-9]{13} (the GS1 check digit is the service's: its own message, on both doors);
- https_url() -> https?://.* and maxLength; iso_date() -> pnb:IsoDateTime (SOAP wants the zone: a naive
  time, read in Paris time by the JSON binding for PMB, is refused by the XSD);
- integer(ge, le) -> xs:int with minInclusive/maxInclusive; boolean() -> xs:boolean; choice() -> enumeration;
- listof(item, min, max) -> the item's element with minOccurs/maxOccurs; record() -> a type whose elements
  are all optional; lines(schema) -> a type held to `schema` in turn;
- a field in `optional` or `defaults` -> minOccurs="0"; a default -> the element's default;
- the caller's credentials (checked by services.auth) -> pnb:Gln and pnb:Password, required
  (endLoan's are optional, as in the spec: a missing one is still AUTHENTICATION_ERROR)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
import xmlschema
from xmlschema.validators import XsdAtomicBuiltin, XsdElement, XsdGroup

from lending.pnb import operations
from lending.pnb import requests as rq
from lending.pnb.soap.schema import XSD_PATH
from lending.validation import Schema


@dataclass(frozen=True)
class Rule:
    """A value's rule as XSD facets: what the two descriptions are compared on."""

    base: str  # the built-in type (string, int, boolean, dateTime) or "complex"
    pattern: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    ge: int | None = None
    le: int | None = None
    values: tuple[str, ...] = ()
    type_name: str | None = None  # for dates: the XSD's IsoDateTime


@dataclass(frozen=True)
class Element:
    required: bool
    max_occurs: int | None  # None: unbounded
    default: str | None
    rule: Rule


def _whole(pattern: str) -> str:
    """A contract's (search) pattern as the XSD's whole-value one."""
    body = pattern.removeprefix("^")
    return body[:-1] if body.endswith("$") else body + ".*"


def contract_rule(rule: Any) -> tuple[Rule, Schema | dict[str, Any] | None, tuple[int, int | None] | None]:
    """(the rule, the nested contract for a structure, (min, max) items for a list) of a contract rule."""
    kind = rule.kind
    if kind == "gln":
        return Rule("string", pattern="[0-9]{13}"), None, None
    if kind == "url":
        return Rule("string", pattern=_whole(rule.pattern), max_length=rule.max_length), None, None
    if kind == "date":
        return Rule("dateTime", type_name="IsoDateTime"), None, None
    if kind == "lines":
        return Rule("complex"), rule.schema, None
    if kind == "list":
        inner, nested, _ = contract_rule(rule.item)
        return inner, nested, (rule.min_length, rule.max_length)
    if kind == "text":
        pattern = rule.pattern
        return Rule("string", pattern=_whole(pattern) if pattern else None,
                    min_length=None if pattern or not rule.min_length else rule.min_length,
                    max_length=rule.max_length), None, None
    if kind == "int":
        return Rule("int", ge=rule.ge, le=rule.le), None, None
    if kind == "bool":
        return Rule("boolean"), None, None
    if kind == "choice":
        return Rule("string", values=tuple(rule.values)), None, None
    if kind == "record":  # every field optional
        return Rule("complex"), dict(rule.fields), None
    raise AssertionError(f"no XSD form known for the contract rule {kind}")


def _default(value: Any) -> str | None:
    if value is None:
        return None
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def contract_elements(fields: Schema | dict[str, Any], credentials: tuple[str, ...] = (),
                      optional_credentials: bool = False) -> dict[str, tuple[Element, Any]]:
    """Every field of a contract (its credentials first) as the XSD element it should be."""
    out: dict[str, tuple[Element, Any]] = {}
    for name in credentials:
        rule = contract_rule(rq.CREDENTIAL["gln" if name == credentials[0] else "password"])[0]
        out[name] = (Element(not optional_credentials, 1, None, rule), None)
    if isinstance(fields, Schema):
        schemas, optional, defaults = fields.fields, fields.optional, fields.defaults
    else:  # a record: all optional
        schemas, optional, defaults = fields, tuple(fields), {}
    for name, schema in schemas.items():
        rule, nested, items = contract_rule(schema)
        required = name not in optional and name not in defaults
        if items is not None:
            required = required and items[0] > 0
            max_occurs = items[1]
        else:
            max_occurs = 1
        out[name] = (Element(required, max_occurs, _default(defaults.get(name)), rule), nested)
    return out


def xsd_rule(xsd_type: Any) -> Rule:
    if xsd_type.is_complex():
        return Rule("complex")
    builtin = xsd_type
    while not isinstance(builtin, XsdAtomicBuiltin):
        builtin = builtin.base_type
    facets = xsd_type.facets if builtin is not xsd_type else {}

    def facet(name: str) -> Any:
        f = facets.get(f"{{http://www.w3.org/2001/XMLSchema}}{name}")
        return None if f is None else f.value

    patterns = xsd_type.patterns.regexps if builtin is not xsd_type and xsd_type.patterns else []
    local = builtin.local_name
    if local == "dateTime":  # the form is IsoDateTime's own, named: iso_date() maps to it by name
        return Rule(local, type_name=xsd_type.local_name)
    return Rule(local, pattern=patterns[0] if patterns else None, min_length=facet("minLength") or None,
                max_length=facet("maxLength"), ge=facet("minInclusive"), le=facet("maxInclusive"),
                values=tuple(xsd_type.enumeration or ()))


def xsd_elements(content: XsdGroup, optional: bool = False) -> dict[str, tuple[Element, Any]]:
    """Every element of a complex type's content, with the type of a nested structure."""
    out: dict[str, tuple[Element, Any]] = {}
    group_optional = optional or content.min_occurs == 0 or (content.model == "choice" and len(content) > 1)
    for particle in content:
        if isinstance(particle, XsdGroup):
            out.update(xsd_elements(particle, group_optional))
            continue
        assert isinstance(particle, XsdElement)
        element = Element(particle.min_occurs > 0 and not group_optional, particle.max_occurs, particle.default,
                          xsd_rule(particle.type))
        out[particle.local_name] = (element, particle.type if particle.type.is_complex() else None)
    return out


def drift(where: str, contract: dict[str, tuple[Element, Any]],
          xsd: dict[str, tuple[Element, Any]]) -> list[str]:
    """Every difference, one readable line each: `loanBook.orderLineId: pattern contract '[0-9]{24}' xsd ...`."""
    out = [f"{where}.{n}: in the contract, not in pnb.xsd" for n in contract.keys() - xsd.keys()]
    out += [f"{where}.{n}: in pnb.xsd, not in the contract" for n in xsd.keys() - contract.keys()]
    for name in sorted(contract.keys() & xsd.keys()):
        (mine, nested), (theirs, xsd_type) = contract[name], xsd[name]
        for attr in ("required", "max_occurs", "default"):
            if getattr(mine, attr) != getattr(theirs, attr):
                out.append(f"{where}.{name}: {attr} contract {getattr(mine, attr)!r} xsd {getattr(theirs, attr)!r}")
        for attr in Rule.__dataclass_fields__:
            a, b = getattr(mine.rule, attr), getattr(theirs.rule, attr)
            if a != b:
                out.append(f"{where}.{name}: {attr} contract {a!r} xsd {b!r}")
        if nested is not None and xsd_type is not None:
            out += drift(f"{where}.{name}", contract_elements(nested), xsd_elements(xsd_type.content))
    return out


@pytest.fixture(scope="module")
def xsd() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD_PATH))


@pytest.mark.parametrize("service", sorted(operations.OPERATIONS))
def test_every_request_element_of_pnb_xsd_is_the_contracts_field(service: str, xsd: xmlschema.XMLSchema) -> None:
    op = operations.OPERATIONS[service]
    mine = contract_elements(op.schema, op.credentials, service in rq.SPEC_OPTIONAL_CREDENTIALS)
    theirs = xsd_elements(xsd.elements[service].type.content)
    differences = drift(service, mine, theirs)
    assert not differences, "pnb.xsd and lending.pnb.requests differ:\n" + "\n".join(differences)
    assert list(theirs)[:2] == list(op.credentials), "the credentials come first, GLN then password"


def test_the_comparison_reports_a_drift_readably(xsd: xmlschema.XMLSchema) -> None:
    """The check is not vacuous: a contract one rule away from pnb.xsd is told, field by field."""
    op = operations.OPERATIONS["loanBook"]
    fields = dict(op.schema.fields)
    fields["orderLineId"] = rq.text(r"^[0-9]{1,24}$")
    fields["extra"] = rq.text()
    changed = Schema(fields, optional=op.schema.optional, defaults={"loanId": "L"})
    got = drift("loanBook", contract_elements(changed, op.credentials),
                xsd_elements(xsd.elements["loanBook"].type.content))
    assert sorted(got) == sorted([
        "loanBook.extra: in the contract, not in pnb.xsd",
        "loanBook.loanId: required contract False xsd True",
        "loanBook.loanId: default contract 'L' xsd None",
        "loanBook.orderLineId: pattern contract '[0-9]{1,24}' xsd '[0-9]{24}'",
    ]), got


def test_the_lcp_limits_are_the_same_on_every_door() -> None:
    """Readium LCP's passphrase and hint limits are services.lcp's: PNB's DRMinfo (and so pnb.xsd), v1's
    passphrase / passphrase_hint and their error texts, the warehouse's (lcp.Passphrase.of)."""
    from lending.services.lcp import HINT_MAX, PASSPHRASE_MAX, Passphrase
    from lending.v1 import requests as v1
    from lending.v1.errors import CODES

    drm = contract_elements(contract_rule(rq.DRM_INFO)[1])  # type: ignore[arg-type]
    assert drm["readerPass"][0].rule.max_length == PASSPHRASE_MAX and drm["readerHint"][0].rule.max_length == HINT_MAX
    assert v1.passphrase("p" * PASSPHRASE_MAX) and v1.hint("h" * HINT_MAX) is not None
    for parse, too_long in ((v1.passphrase, "p" * (PASSPHRASE_MAX + 1)), (v1.hint, "h" * (HINT_MAX + 1))):
        with pytest.raises(ValueError):
            parse(too_long)
    assert f"1 to {PASSPHRASE_MAX} characters" in CODES["invalid_passphrase"][1]
    assert f"at most {HINT_MAX} characters" in CODES["invalid_passphrase_hint"][1]
    assert Passphrase.of("p" * PASSPHRASE_MAX) is not None and Passphrase.of("p" * (PASSPHRASE_MAX + 1)) is None
