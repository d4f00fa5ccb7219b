"""Hostile XML against the SOAP door of the running stack, over HTTP: XXE (file and network), billion
laughs, oversized bodies, wrong namespaces, missing fields. Each is refused, quickly, leaking nothing,
and every answer (Fault or not) names its request with a requestId."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree

from lending.local import demo
from lending.pnb.soap.envelope import MAX_BODY, SOAP11, SOAP12
from lending.pnb.soap.schema import NS

pytestmark = pytest.mark.e2e
XML = {"Content-Type": "text/xml; charset=utf-8"}
STATUS = (f'<p:getLoanStatus xmlns:p="{NS}"><p:glnColl>{demo.COLL}</p:glnColl>'
          f'<p:passwordColl>{demo.COLL_PASSWORD}</p:passwordColl>'
          '<p:orderLineId>{line}</p:orderLineId></p:getLoanStatus>')


def envelope(body: str, prolog: str = "", version: str = SOAP11) -> str:
    return f'{prolog}<s:Envelope xmlns:s="{version}"><s:Body>{body}</s:Body></s:Envelope>'


def post(stack: Any, raw: str | bytes) -> tuple[int, str, etree._Element]:
    started = time.perf_counter()
    r = requests.post(f"{stack.url}/v2/pnb-numerique/soap", data=raw, headers=XML, timeout=30)
    assert time.perf_counter() - started < 5, "a hostile body must be refused quickly"
    return r.status_code, r.text, etree.fromstring(r.content)[0][0]


def fault(stack: Any, raw: str | bytes) -> tuple[str, str]:
    """POST, expect a SOAP 1.1 Client Fault carrying a requestId; (faultstring, whole answer)."""
    status, text, node = post(stack, raw)
    assert status == 500 and etree.QName(node).localname == "Fault", text
    assert node.findtext("faultcode") in ("soap:Client", "soap:VersionMismatch")
    assert node.findtext(f"detail/{{{NS}}}pnbFault/{{{NS}}}requestId")
    assert node.findtext(f"detail/{{{NS}}}pnbFault/{{{NS}}}returnStatus") == "INVALID_ARGUMENTS"
    return node.findtext("faultstring") or "", text


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A loopback port that would record any connection the parser tried to make."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    sock.setblocking(False)
    yield sock
    sock.close()


def nobody_called(sock: socket.socket) -> bool:
    try:
        sock.accept()  # non-blocking: a connection attempt would already be queued, the request is over
    except BlockingIOError:
        return True
    return False


def test_xxe_reading_a_file_is_refused_and_leaks_nothing(stack: Any, tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("TOP-SECRET-MARKER")
    body = STATUS.format(line="&xxe;")
    message, text = fault(stack, envelope(body, f'<!DOCTYPE s:Envelope [<!ENTITY xxe SYSTEM "file://{secret}">]>'))
    assert "Document type declarations are not allowed" in message and "TOP-SECRET" not in text
    message, text = fault(stack, envelope(body, f'<!DOCTYPE s:Envelope SYSTEM "file://{secret}">'))
    assert "TOP-SECRET" not in text


def test_xxe_over_the_network_never_connects(stack: Any, listener: socket.socket) -> None:
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/evil"
    for prolog in (f'<!DOCTYPE s:Envelope [<!ENTITY xxe SYSTEM "{url}">]>',
                   f'<!DOCTYPE s:Envelope [<!ENTITY % dtd SYSTEM "{url}"> %dtd;]>',
                   f'<!DOCTYPE s:Envelope SYSTEM "{url}">'):
        fault(stack, envelope(STATUS.format(line="&xxe;"), prolog))
    # A schema location hint in the request is not followed either (the schema is our compiled one).
    xsi = "http://www.w3.org/2001/XMLSchema-instance"
    hinted = STATUS.format(line="1" * 24).replace(
        f'<p:getLoanStatus xmlns:p="{NS}">',
        f'<p:getLoanStatus xmlns:p="{NS}" xmlns:xsi="{xsi}" xsi:schemaLocation="{NS} {url}.xsd">')
    assert answer_of(stack, hinted)["returnStatus"] == "WARNING"  # answered: the line is unknown
    assert nobody_called(listener)
    with socket.create_connection(listener.getsockname(), timeout=5):  # control: a real attempt is seen
        pass
    assert not nobody_called(listener)


def test_billion_laughs_is_refused_at_once(stack: Any) -> None:
    for levels in (3, 10):  # small enough to parse (then the DTD is refused), and the real thing
        entities = '<!ENTITY l0 "lol">' + "".join(
            f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, levels))
        _, text = fault(stack, envelope(STATUS.format(line=f"&l{levels - 1};"),
                                              f"<!DOCTYPE s:Envelope [{entities}]>"))
        assert "lollol" not in text


def test_oversized_bodies_are_refused_before_parsing(stack: Any) -> None:
    padding = f"<x>{'a' * MAX_BODY}</x></p:getLoanStatus>"
    big = envelope(STATUS.format(line="1" * 24).replace("</p:getLoanStatus>", padding))
    message, _ = fault(stack, big)
    assert "too large" in message
    deep = envelope("<a>" * 3000 + "</a>" * 3000)
    assert "not well-formed" in fault(stack, deep)[0]


def test_what_is_not_a_pnb_soap_call_is_a_fault(stack: Any) -> None:
    assert "not well-formed" in fault(stack, '{"glnColl": "3012345000031"}')[0]
    assert "not a SOAP envelope" in fault(stack, STATUS.format(line="1" * 24))[0]
    assert "Unsupported SOAP envelope namespace" in fault(stack, envelope(
        STATUS.format(line="1" * 24), version="http://example.com/not-soap"))[0]
    assert "Unknown operation {urn:other}getLoanStatus" in fault(stack, envelope(
        STATUS.format(line="1" * 24).replace(NS, "urn:other")))[0]
    assert "exactly one" in fault(stack, envelope(""))[0]
    status, _, node = post(stack, envelope("", version=SOAP12))
    assert status == 400 and node.findtext(f"{{{SOAP12}}}Code/{{{SOAP12}}}Value") == "soap:Sender"


def answer_of(stack: Any, body: str) -> dict[str, str]:
    status, text, node = post(stack, envelope(body))
    assert status == 200, text
    assert etree.QName(node).localname == "getLoanStatusResponse"
    return {etree.QName(c).localname: c.text or "" for c in node}


def test_wrong_field_namespace_and_missing_fields_answer_invalid_arguments(stack: Any) -> None:
    foreign = STATUS.format(line="1" * 24).replace("<p:orderLineId>", '<orderLineId xmlns="urn:other">') \
        .replace("</p:orderLineId>", "</orderLineId>")
    got = answer_of(stack, foreign)
    assert got["requestId"] and got["returnStatus"] == "INVALID_ARGUMENTS"
    assert got["returnMessage"] == ("The parameter {urn:other}orderLineId is not expected here "
                                    "(expected glnContractor or orderLineId)")
    password = f"<p:passwordColl>{demo.COLL_PASSWORD}</p:passwordColl>"
    no_password = STATUS.format(line="1" * 24).replace(password, "")
    # A missing credential is a failed authentication, as over JSON (CONTRACT 3).
    got = answer_of(stack, no_password)
    assert (got["returnStatus"], got["returnMessage"]) == ("AUTHENTICATION_ERROR", "Bad credentials")
    got = answer_of(stack, f'<p:getLoanStatus xmlns:p="{NS}"/>')
    assert (got["returnStatus"], got["returnMessage"]) == ("AUTHENTICATION_ERROR", "Bad credentials")
    assert got["requestId"]
    no_lines = STATUS.format(line="1" * 24).replace(f"<p:orderLineId>{'1' * 24}</p:orderLineId>", "")
    got = answer_of(stack, no_lines)
    assert got["returnStatus"] == "INVALID_ARGUMENTS"
    assert got["returnMessage"] == "The parameter orderLineId is mandatory"
    more = "<p:orderLineId>1</p:orderLineId>" * 100 + "</p:getLoanStatus>"
    too_many = STATUS.format(line="1" * 24).replace("</p:getLoanStatus>", more)
    got = answer_of(stack, too_many)
    assert got["returnStatus"] == "INVALID_ARGUMENTS" and got["returnMessage"].startswith(
        "The parameter orderLineId.100 is not expected here")
    # Text where a number belongs, and an unknown extra field, are XSD violations too.
    admin = "<p:admin>true</p:admin></p:getLoanStatus>"
    extra = STATUS.format(line="1" * 24).replace("</p:getLoanStatus>", admin)
    assert answer_of(stack, extra)["returnMessage"].startswith("The parameter admin is not expected here")
