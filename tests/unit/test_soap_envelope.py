"""Reading SOAP envelopes safely: hostile XML is refused before anything reads it, and leaks nothing;
Faults are written in the caller's SOAP version."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from lxml import etree

from lending.pnb.soap import envelope
from lending.pnb.soap.envelope import SOAP11, SOAP12, NotSoap
from lending.pnb.soap.schema import NS

OP = f'<p:getLoanStatus xmlns:p="{NS}"><p:glnColl>3012345000031</p:glnColl></p:getLoanStatus>'


def env(body: str = OP, version: str = SOAP11, prolog: str = "", header: str = "") -> bytes:
    return (f'{prolog}<s:Envelope xmlns:s="{version}">{header}<s:Body>{body}</s:Body></s:Envelope>').encode()


def refused(raw: bytes) -> NotSoap:
    with pytest.raises(NotSoap) as e:
        envelope.read(raw)
    return e.value


def test_a_plain_envelope_gives_its_version_and_operation() -> None:
    for version in (SOAP11, SOAP12):
        got_version, op = envelope.read(env(version=version))
        assert got_version == version and etree.QName(op).localname == "getLoanStatus"
    # Whitespace, comments and a harmless header are fine.
    header = "<s:Header><x:Trace xmlns:x='urn:x'/></s:Header>"
    _, op = envelope.read(env(f"\n  <!-- hi -->\n  {OP}\n", header=header))
    assert etree.QName(op).localname == "getLoanStatus"


def test_xxe_on_a_local_file_is_refused_and_leaks_nothing(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER")
    prolog = f'<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY xxe SYSTEM "file://{secret}">]>'
    body = f'<p:getLoanStatus xmlns:p="{NS}"><p:glnColl>&xxe;</p:glnColl></p:getLoanStatus>'
    e = refused(env(body, prolog=prolog))
    assert "Document type declarations are not allowed" in e.message and "TOP-SECRET" not in e.message


def test_parameter_entities_and_external_dtds_are_refused(tmp_path: Path) -> None:
    (tmp_path / "evil.dtd").write_text('<!ENTITY leak "TOP-SECRET-MARKER">')
    for prolog in (f'<!DOCTYPE x [<!ENTITY % ext SYSTEM "file://{tmp_path}/evil.dtd"> %ext;]>',
                   f'<!DOCTYPE x SYSTEM "file://{tmp_path}/evil.dtd">'):
        e = refused(env(OP.replace("3012345000031", "&leak;"), prolog=prolog))
        assert "TOP-SECRET" not in e.message
    # No DTD: an entity reference is simply undefined, never resolved.
    assert "not well-formed" in refused(env(OP.replace("3012345000031", "&leak;"))).message


def test_billion_laughs_is_refused_at_once() -> None:
    entities = '<!ENTITY lol0 "lol">' + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    started = time.perf_counter()
    e = refused(env(OP.replace("3012345000031", "&lol9;"), prolog=f"<!DOCTYPE s:Envelope [{entities}]>"))
    assert time.perf_counter() - started < 0.5
    # libxml2 stops the amplification itself, or the DTD is refused: either way nothing is expanded.
    assert "Document type declarations" in e.message or "not well-formed" in e.message
    assert "lol" not in e.message


def test_oversized_deep_or_malformed_bodies_are_faults_not_crashes() -> None:
    assert "too large" in refused(env(f"<x>{'a' * envelope.MAX_BODY}</x>")).message
    deep = "<a>" * 5000 + "</a>" * 5000  # beyond libxml2's nesting limit without huge_tree
    assert "not well-formed" in refused(env(deep)).message
    assert "empty" in refused(b"  ").message
    assert "not well-formed" in refused(b"{\"glnColl\": 1}").message
    assert "not well-formed" in refused(b"<a><b></a>").message


def test_wrong_namespaces_and_shapes() -> None:
    assert refused(b"<Envelope><Body/></Envelope>").code == "VersionMismatch"
    wrong_env = refused(env(version="http://example.com/not-soap"))
    assert wrong_env.code == "VersionMismatch" and "namespace" in wrong_env.message
    assert "not a SOAP envelope" in refused(f"<p:getLoanStatus xmlns:p='{NS}'/>".encode()).message
    assert "no Body" in refused(f"<s:Envelope xmlns:s='{SOAP11}'/>".encode()).message
    assert "exactly one" in refused(env("")).message
    assert "exactly one" in refused(env(OP + OP)).message
    foreign = refused(env(OP.replace(NS, "urn:someone-else")))
    assert "Unknown operation {urn:someone-else}getLoanStatus" in foreign.message
    assert "Unknown operation" in refused(env(f'<p:stealBooks xmlns:p="{NS}"/>')).message
    # SOAP 1.2 errors are answered in SOAP 1.2.
    assert refused(env("", version=SOAP12)).version == SOAP12


def test_a_mandatory_header_we_do_not_understand_is_a_fault() -> None:
    header = '<s:Header><x:Pay xmlns:x="urn:x" s:mustUnderstand="1"/></s:Header>'
    assert refused(env(header=header)).code == "MustUnderstand"


def test_faults_in_each_version() -> None:
    detail = envelope.fault_detail("rid", "INVALID_ARGUMENTS", "bad")
    status, raw = envelope.fault(SOAP11, "sender", "bad", detail)
    doc = etree.fromstring(raw)
    assert status == 500
    assert doc.findtext(f"{{{SOAP11}}}Body/{{{SOAP11}}}Fault/faultcode") == "soap:Client"
    assert doc.findtext(f".//{{{NS}}}requestId") == "rid"
    detail = envelope.fault_detail("rid", "INVALID_ARGUMENTS", "bad")
    status, raw = envelope.fault(SOAP12, "sender", "bad", detail)
    doc = etree.fromstring(raw)
    assert status == 400
    assert doc.findtext(f".//{{{SOAP12}}}Code/{{{SOAP12}}}Value") == "soap:Sender"
    assert doc.findtext(f".//{{{SOAP12}}}Reason/{{{SOAP12}}}Text") == "bad"
    assert envelope.fault(SOAP12, "receiver", "ours")[0] == 500
