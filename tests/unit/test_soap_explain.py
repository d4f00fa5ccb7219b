"""The SOAP door's explanation of an XSD refusal: each kind of violation, as xmlschema reports it
(element at fault, child met or missing, facet or type that refused the value), becomes the field it
names and INVALID_ARGUMENTS' message, worded as this door has always answered. libxml2 only says yes or
no: no message of its is read (the explanation is asked of an element libxml2 never saw)."""

from __future__ import annotations

import pytest
from lxml import etree

from lending.pnb.soap import codec
from lending.pnb.soap.schema import MODEL, NS

LOAN = ("<loanBook><glnColl>3012345000031</glnColl><passwordColl>collDemo2026</passwordColl>"
        "<orderLineId>111111111111111111111111</orderLineId><loanId>L1</loanId><ean13>9791000000015</ean13>"
        "<accessMedium>DOWNLOAD</accessMedium><localization>EX_SITU</localization>"
        "<loanEndDate>2026-02-02T00:00:00Z</loanEndDate>{tail}</loanBook>")
LINE = ("<orderRequestLine><ean13>9791000000015</ean13><glnDistributor>3010999000018</glnDistributor>"
        "<unitPrice>{price}</unitPrice><unitPriceExcludingTax>1</unitPriceExcludingTax>{tax}"
        "<currency>EUR</currency><dmdDate>2026-01-01T00:00:00Z</dmdDate></orderRequestLine>")
ORDER = ("<sendOrder><glnReseller>3012345000017</glnReseller><passwordReseller>p</passwordReseller>"
         "<glnColl>3012345000031</glnColl><orderId>O1</orderId><orderIdColl>C1</orderIdColl>"
         "<resellerCountry>FR</resellerCountry><collCountry>FR</collCountry>{lines}</sendOrder>")
ORDERS = ("<getOrders><glnColl>3012345000031</glnColl><passwordColl>pw1</passwordColl>"
          "<orderIdColl>C1</orderIdColl>{tail}</getOrders>")
IPS = "<declareIp><glnColl>3012345000031</glnColl><passwordColl>pw1</passwordColl>{ips}</declareIp>"


def loan(tail: str = "", **replace: str) -> str:
    xml = LOAN.format(tail=tail)
    for old, new in replace.items():
        xml = xml.replace(old, new)
    return xml


def order(*lines: str) -> str:
    return ORDER.format(lines="".join(lines))


def line(price: str = "1", tax: str = "") -> str:
    return LINE.format(price=price, tax=tax)


def explain(xml: str) -> codec.Violation:
    el = etree.fromstring(f'<root xmlns="{NS}">{xml}</root>')[0]
    assert not MODEL.validator.validate(el), "the case must break pnb.xsd"
    fresh = etree.fromstring(etree.tostring(el))  # libxml2 never validated this one: nothing of its is read
    return codec.explain(fresh, MODEL.elements[etree.QName(fresh).localname])


PATTERN_13 = "[facet 'pattern'] The value '301234500003' is not accepted by the pattern '[0-9]{13}'."
CASES = [
    # a value: pattern, enumeration, lengths, bounds, the built-in type, the type before its facets
    ("pattern", loan(**{"3012345000031": "301234500003"}), "glnColl", f"is invalid: {PATTERN_13}"),
    ("enumeration", loan(**{"DOWNLOAD": "FAX"}), "accessMedium",
     "is invalid: [facet 'enumeration'] The value 'FAX' is not an element of the set {'DOWNLOAD', 'STREAMING'}."),
    ("maxLength", loan("<DRMinfo><readerHint>" + "h" * 201 + "</readerHint></DRMinfo>"), "DRMinfo.readerHint",
     "is invalid: [facet 'maxLength'] The value has a length of '201'; this exceeds the allowed maximum "
     "length of '200'."),
    ("minLength", IPS.format(ips="<ips></ips>"), "ips.0",
     "is invalid: [facet 'minLength'] The value has a length of '0'; this underruns the allowed minimum "
     "length of '1'."),
    ("minInclusive", order(line(price="-5")), "orderRequestLine.0.unitPrice",
     "is invalid: [facet 'minInclusive'] The value '-5' is less than the minimum value allowed ('0')."),
    ("maxInclusive", order(line(), line(tax="<taxRate>100000</taxRate>")), "orderRequestLine.1.taxRate",
     "is invalid: [facet 'maxInclusive'] The value '100000' is greater than the maximum value allowed "
     "('99999')."),
    ("type", order(line(price="abc")), "orderRequestLine.0.unitPrice",
     "is invalid: 'abc' is not a valid value of the atomic type 'Cents'."),
    ("int range", order(line(price="99999999999")), "orderRequestLine.0.unitPrice",
     "is invalid: '99999999999' is not a valid value of the atomic type 'Cents'."),
    ("boolean", ORDERS.format(tail="<returnLinesWithError>yes</returnLinesWithError>"), "returnLinesWithError",
     "is invalid: 'yes' is not a valid value of the atomic type 'xs:boolean'."),
    ("type before pattern", loan(**{"2026-02-02T00:00:00Z": " tomorrow "}), "loanEndDate",
     "is invalid: 'tomorrow' is not a valid value of the atomic type 'IsoDateTime'."),
    ("long value cut", loan(**{"3012345000031": "9" * 5000}), "glnColl",
     f"is invalid: [facet 'pattern'] The value '{'9' * 48}...' is not accepted by the pattern '[0-9]{{13}}'."),
    ("secret never echoed", loan(**{"collDemo2026": "not-alnum!!"}), "passwordColl",
     "is invalid: alphanumeric, at most 25 characters"),
    # an element's form
    ("element in a value", loan(**{"<ean13>9791000000015</ean13>": "<ean13><a>1</a></ean13>"}), "ean13",
     "is invalid: Element content is not allowed, because the type definition is simple."),
    ("text in a structure", loan("<DRMinfo>text</DRMinfo>"), "DRMinfo",
     "is invalid: Character content other than whitespace is not allowed because the content type is "
     "'element-only'."),
    ("attribute", loan(**{"<loanId>": '<loanId a="1">'}), "loanId", "is invalid: The attribute 'a' is not allowed."),
    # the content: missing, given twice, too many, out of place, unknown, foreign, both of a choice
    ("missing at the end", loan(**{"<loanEndDate>2026-02-02T00:00:00Z</loanEndDate>": ""}), "loanEndDate",
     "is mandatory"),
    ("missing inside", loan(**{"<loanId>L1</loanId>": ""}), "loanId", "is mandatory"),
    ("missing in a line", order(line().replace("<currency>EUR</currency>", "")), "orderRequestLine.0.currency",
     "is mandatory"),
    ("no line", order(), "orderRequestLine", "is mandatory"),
    ("duplicated", loan(**{"<loanId>L1</loanId>": "<loanId>L1</loanId>" * 2}), "loanId",
     "is not expected here: duplicated"),
    ("duplicated in xs:all", loan("<DRMinfo><readerId>a</readerId><readerId>b</readerId></DRMinfo>"),
     "DRMinfo.readerId", "is not expected here: duplicated"),
    ("too many", order(*[line()] * 100), "orderRequestLine.99", "is not expected here: at most 99"),
    ("comments and instructions are no children", loan(**{"<loanId>L1</loanId>": "<!-- c --><loanId>L1</loanId>"
                                                             "<?pi x?><!-- c --><loanId>L1</loanId>"}),
     "loanId", "is not expected here: duplicated"),
    ("out of order", loan(**{"<loanId>L1</loanId><ean13>9791000000015</ean13>":
                             "<ean13>9791000000015</ean13><loanId>L1</loanId>"}), "ean13",
     "is not expected here: out of order (loanId comes first)"),
    ("unknown", loan(**{"<loanId>": "<foo>1</foo><loanId>"}), "foo",
     "is not expected here: unknown parameter (expected loanId)"),
    ("foreign", loan(**{"<loanId>L1</loanId>": '<loanId xmlns="urn:other">L1</loanId>'}), "{urn:other}loanId",
     "is not expected here (expected loanId)"),
    ("both of a choice", "<checkAvailability><glnReseller>3012345000017</glnReseller><passwordReseller>p"
     "</passwordReseller><glnContractor>3012345000062</glnContractor><glnContrator>3012345000062</glnContrator>"
     "</checkAvailability>", "glnContrator",
     "is not expected here: glnContractor is already given (only one of glnContractor or glnContrator)"),
]


@pytest.mark.parametrize(("kind", "xml", "field", "rest"), CASES, ids=[c[0] for c in CASES])
def test_each_kind_of_xsd_violation_names_its_field_and_why(kind: str, xml: str, field: str, rest: str) -> None:
    assert explain(xml) == (field, f"The parameter {field} {rest}")


def test_no_libxml2_message_is_parsed() -> None:
    """The codec reads no regex over validator messages (only the XML 1.0 character class it writes)."""
    import inspect

    source = inspect.getsource(codec)
    assert source.count("re.compile(") == 1 and "_NOT_XML = re.compile(" in source
    assert "error_log" not in source and "error_log" not in inspect.getsource(codec.explain)


def test_xmlschema_stays_out_of_the_cold_start() -> None:
    """Importing the door (what a Lambda container does at init) loads no xmlschema: ~0.4 s, paid only
    by a container's first refused request."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import lending

    code = ("import sys; import lending.pnb.soap.door; "
            "assert 'xmlschema' not in sys.modules, 'xmlschema imported at init'")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(Path(lending.__file__).parents[1])})
    assert done.returncode == 0, done.stderr[-2000:]
