"""SOAP 1.1 and 1.2 envelopes: read one safely, write an answer or a Fault in the caller's version.

Reading is hardened: a bounded body, a parser that expands no entity, loads no DTD and touches no
network, libxml2's default limits on depth and node size (no huge_tree), and any document type
declaration refused outright (SOAP forbids them), so XXE and billion-laughs payloads never get past it."""

from __future__ import annotations

from lxml import etree

from .schema import FAULT, NS, SERVICES

SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
CONTENT_TYPES = {SOAP11: "text/xml; charset=utf-8", SOAP12: "application/soap+xml; charset=utf-8"}
MAX_BODY = 1_000_000  # bytes; the largest legitimate request (99 order lines) is about 60 kB

# Fault codes by version: the sender's fault or ours.
_CODES = {SOAP11: {"sender": "Client", "receiver": "Server"},
          SOAP12: {"sender": "Sender", "receiver": "Receiver"}}


class NotSoap(Exception):
    """A body the door cannot read as one PNB operation: answered with a SOAP Fault."""

    def __init__(self, message: str, version: str | None = None, code: str = "sender") -> None:
        super().__init__(message)
        # None: the envelope could not tell its version; the door goes by the request's Content-Type.
        self.message, self.version, self.code = message, version, code


def short(text: str | None, limit: int = 100) -> str:
    """Caller's text echoed in a message, bounded."""
    text = text or ""
    return text if len(text) <= limit else text[:limit] + "..."


def _parser() -> etree.XMLParser:
    # One per call: lxml parsers must not be shared between threads (the local stack is threaded).
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True, collect_ids=False)


def read(raw: bytes) -> tuple[str, etree._Element]:
    """The envelope's version and the operation element in its Body, or NotSoap."""
    if len(raw) > MAX_BODY:
        raise NotSoap(f"The request body is too large (at most {MAX_BODY} bytes)")
    if not raw.strip():
        raise NotSoap("The request body is empty: a SOAP envelope is expected")
    try:
        root = etree.fromstring(raw, _parser())
    except etree.XMLSyntaxError as e:
        line, column = e.position
        raise NotSoap(f"The request body is not well-formed XML (line {line}, column {column})") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise NotSoap("Document type declarations are not allowed in a SOAP message")
    qname = etree.QName(root)
    if qname.localname != "Envelope":
        raise NotSoap("The request body is not a SOAP envelope")
    if qname.namespace not in (SOAP11, SOAP12):
        raise NotSoap(f"Unsupported SOAP envelope namespace {short(qname.namespace)!r}",
                      code="VersionMismatch")
    version = qname.namespace
    header = root.find(f"{{{version}}}Header")
    if header is not None:
        for block in header:
            if block.get(f"{{{version}}}mustUnderstand") in ("1", "true"):
                raise NotSoap(f"Header {short(etree.QName(block).localname)} is not understood", version,
                              "MustUnderstand")
    body = root.find(f"{{{version}}}Body")
    if body is None:
        raise NotSoap("The SOAP envelope has no Body", version)
    payload = [child for child in body if isinstance(child.tag, str)]
    if len(payload) != 1:
        raise NotSoap("The SOAP Body must hold exactly one operation element", version)
    op = etree.QName(payload[0])
    if op.namespace != NS or op.localname not in SERVICES:
        name = short(f"{{{op.namespace or ''}}}{op.localname}")
        raise NotSoap(f"Unknown operation {name}: the operations are the "
                      f"elements of namespace {NS} named after a PNB service", version)
    return version, payload[0]


def _envelope(version: str, content: etree._Element) -> bytes:
    env = etree.Element(f"{{{version}}}Envelope", nsmap={"soap": version, "pnb": NS})
    etree.SubElement(env, f"{{{version}}}Body").append(content)
    return etree.tostring(env, xml_declaration=True, encoding="UTF-8")


def answer(version: str, payload: etree._Element) -> bytes:
    return _envelope(version, payload)


def version_of(content_type: str | None) -> str:
    """The SOAP version a request's Content-Type names: application/soap+xml is 1.2, anything else 1.1."""
    return SOAP12 if "application/soap+xml" in (content_type or "").lower() else SOAP11


def fault(version: str, code: str, message: str, detail: etree._Element | None = None) -> tuple[int, bytes]:
    """(HTTP status, Fault envelope). SOAP 1.1 over HTTP answers every Fault with 500 (WS-I BP R1126);
    SOAP 1.2 answers a Sender fault with 400."""
    value = _CODES[version].get(code, code)
    node = etree.Element(f"{{{version}}}Fault")
    if version == SOAP11:
        etree.SubElement(node, "faultcode").text = f"soap:{value}"
        etree.SubElement(node, "faultstring").text = message
        if detail is not None:
            etree.SubElement(node, "detail").append(detail)
        return 500, _envelope(version, node)
    code_node = etree.SubElement(node, f"{{{version}}}Code")
    etree.SubElement(code_node, f"{{{version}}}Value").text = f"soap:{value}"
    reason = etree.SubElement(node, f"{{{version}}}Reason")
    text = etree.SubElement(reason, f"{{{version}}}Text")
    text.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    text.text = message
    if detail is not None:
        etree.SubElement(node, f"{{{version}}}Detail").append(detail)
    return (400 if value == "Sender" else 500), _envelope(version, node)


def fault_detail(request_id: str, status: str, message: str) -> etree._Element:
    """The PNB answer inside a Fault's detail, so that even a Fault carries its requestId."""
    node = etree.Element(f"{{{NS}}}{FAULT}")
    etree.SubElement(node, f"{{{NS}}}requestId").text = request_id
    etree.SubElement(node, f"{{{NS}}}returnStatus").text = status
    etree.SubElement(node, f"{{{NS}}}returnMessage").text = message
    return node
