"""The WSDL 1.1 (document/literal wrapped) served at GET /v2/pnb-numerique/soap?wsdl: pnb.xsd inline,
one operation per service, a SOAP 1.1 port (first: what stock clients bind to) and a SOAP 1.2 port,
both at the address the caller reached."""

from __future__ import annotations

from functools import lru_cache
from xml.sax.saxutils import quoteattr

from .schema import FAULT, MODEL, NS, SERVICES

WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP11_BINDING = "http://schemas.xmlsoap.org/wsdl/soap/"
SOAP12_BINDING = "http://schemas.xmlsoap.org/wsdl/soap12/"
HTTP_TRANSPORT = "http://schemas.xmlsoap.org/soap/http"
PATH = "/v2/pnb-numerique/soap"


def _inline_schema() -> str:
    """pnb.xsd without its XML declaration, to sit inside wsdl:types."""
    text = MODEL.source.decode("utf-8")
    return text[text.index("<xs:schema"):]


def _binding(name: str, prefix: str) -> str:
    ops = "".join(f"""
    <wsdl:operation name="{s}">
      <{prefix}:operation soapAction="{s}" style="document"/>
      <wsdl:input><{prefix}:body use="literal"/></wsdl:input>
      <wsdl:output><{prefix}:body use="literal"/></wsdl:output>
      <wsdl:fault name="{FAULT}"><{prefix}:fault name="{FAULT}" use="literal"/></wsdl:fault>
    </wsdl:operation>""" for s in SERVICES)
    return f"""
  <wsdl:binding name="{name}" type="pnb:PnbNumeriquePortType">
    <{prefix}:binding style="document" transport="{HTTP_TRANSPORT}"/>{ops}
  </wsdl:binding>"""


@lru_cache(maxsize=8)
def document(base_url: str) -> bytes:
    address = quoteattr(base_url.rstrip("/") + PATH)
    messages = "".join(f"""
  <wsdl:message name="{s}Request"><wsdl:part name="parameters" element="pnb:{s}"/></wsdl:message>
  <wsdl:message name="{s}Response"><wsdl:part name="parameters" element="pnb:{s}Response"/></wsdl:message>"""
                       for s in SERVICES)
    operations = "".join(f"""
    <wsdl:operation name="{s}">
      <wsdl:input message="pnb:{s}Request"/>
      <wsdl:output message="pnb:{s}Response"/>
      <wsdl:fault name="{FAULT}" message="pnb:{FAULT}"/>
    </wsdl:operation>""" for s in SERVICES)
    soap11 = _binding("PnbNumeriqueSoapBinding", "soap")
    soap12 = _binding("PnbNumeriqueSoap12Binding", "soap12")
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions name="PnbNumerique" targetNamespace="{NS}" xmlns:pnb="{NS}" xmlns:wsdl="{WSDL}"
                  xmlns:soap="{SOAP11_BINDING}" xmlns:soap12="{SOAP12_BINDING}">
  <wsdl:documentation>PNB hub API v2 over SOAP: the twelve services and the later returnLoan, extendLoan and
    getUserAgent, the same fields and return codes as POST /v2/pnb-numerique/{{service}} (JSON). Every answer
    carries a requestId.</wsdl:documentation>
  <wsdl:types>
  {_inline_schema()}
  </wsdl:types>{messages}
  <wsdl:message name="{FAULT}"><wsdl:part name="detail" element="pnb:{FAULT}"/></wsdl:message>
  <wsdl:portType name="PnbNumeriquePortType">{operations}
  </wsdl:portType>{soap11}{soap12}
  <wsdl:service name="PnbNumeriqueService">
    <wsdl:port name="PnbNumeriqueSoap" binding="pnb:PnbNumeriqueSoapBinding">
      <soap:address location={address}/>
    </wsdl:port>
    <wsdl:port name="PnbNumeriqueSoap12" binding="pnb:PnbNumeriqueSoap12Binding">
      <soap12:address location={address}/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
"""
    return text.encode("utf-8")
