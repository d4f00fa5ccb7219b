"""The HTTP and upstream-PNB (SOAP, zeep) connectors against small local servers started here: an ONIX
file server with validators, and a PNB-compatible SOAP test double (its own WSDL, getOffersForDistributor
answering onixFileUrl/httpLinks to files it serves)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from lxml import etree

from lending.catalogue import connectors, sync
from lending.local import demo
from lending.store import catalogue as store
from lending.store import offers as offer_store
from tests.unit.test_onix import message, product

pytestmark = pytest.mark.usefixtures("aws")

GLN = demo.DISTRIBUTOR
TNS = "http://upstream.test/pnb"
WSDL = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/"
    xmlns:tns="{tns}" xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="{tns}" name="Pnb">
  <types>
    <xsd:schema targetNamespace="{tns}" elementFormDefault="qualified">
      <xsd:element name="getOffersForDistributor"><xsd:complexType><xsd:sequence>
        <xsd:element name="glnReseller" type="xsd:string"/>
        <xsd:element name="passwordReseller" type="xsd:string"/>
        <xsd:element name="glnContractor" type="xsd:string" minOccurs="0"/>
        <xsd:element name="glnDistributor" type="xsd:string"/>
        <xsd:element name="sinceDate" type="xsd:string" minOccurs="0"/>
        <xsd:element name="lastConnection" type="xsd:string" minOccurs="0"/>
      </xsd:sequence></xsd:complexType></xsd:element>
      <xsd:element name="getOffersForDistributorResponse"><xsd:complexType><xsd:sequence>
        <xsd:element name="requestId" type="xsd:string" minOccurs="0"/>
        <xsd:element name="onixFileUrl" minOccurs="0" maxOccurs="unbounded"><xsd:complexType><xsd:sequence>
          <xsd:element name="httpLinks" type="xsd:string" minOccurs="0"/>
        </xsd:sequence></xsd:complexType></xsd:element>
        <xsd:element name="noNotice" type="xsd:string" minOccurs="0"/>
        <xsd:element name="returnStatus" type="xsd:string"/>
        <xsd:element name="returnMessage" type="xsd:string" minOccurs="0"/>
      </xsd:sequence></xsd:complexType></xsd:element>
    </xsd:schema>
  </types>
  <message name="getOffersForDistributorRequest">
    <part name="parameters" element="tns:getOffersForDistributor"/></message>
  <message name="getOffersForDistributorResponse">
    <part name="parameters" element="tns:getOffersForDistributorResponse"/></message>
  <portType name="PnbPort"><operation name="getOffersForDistributor">
    <input message="tns:getOffersForDistributorRequest"/>
    <output message="tns:getOffersForDistributorResponse"/>
  </operation></portType>
  <binding name="PnbBinding" type="tns:PnbPort">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    <operation name="getOffersForDistributor"><soap:operation soapAction="getOffersForDistributor"/>
      <input><soap:body use="literal"/></input><output><soap:body use="literal"/></output></operation>
  </binding>
  <service name="PnbService"><port name="PnbPort" binding="tns:PnbBinding">
    <soap:address location="{base}/soap"/></port></service>
</definitions>"""


class Upstream:
    """Serves ONIX files (with an ETag) and a PNB SOAP door; records what it was asked."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.calls: list[dict[str, str]] = []
        self.links: list[str] = []
        self.status = "OK"
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(
                self, status: int, body: bytes, ctype: str = "text/xml", etag: str | None = None
            ) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                if etag:
                    self.send_header("ETag", etag)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path.endswith("?wsdl"):
                    self._send(200, WSDL.format(tns=TNS, base=upstream.url).encode())
                    return
                data = upstream.files.get(self.path)
                if data is None:
                    self._send(404, b"")
                    return
                etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    self._send(304, b"", etag=etag)
                    return
                self._send(200, data, "application/xml", etag)

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = etree.fromstring(body).find(f".//{{{TNS}}}getOffersForDistributor")
                upstream.calls.append({etree.QName(c).localname: c.text or "" for c in request})
                urls = "".join(
                    f"<tns:onixFileUrl><tns:httpLinks>{u}</tns:httpLinks></tns:onixFileUrl>"
                    for u in upstream.links
                )
                answer = (
                    f'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
                    f'xmlns:tns="{TNS}">'
                    f"<soap:Body><tns:getOffersForDistributorResponse><tns:requestId>r1</tns:requestId>{urls}"
                    f"{'' if upstream.links else '<tns:noNotice></tns:noNotice>'}"
                    f"<tns:returnStatus>{upstream.status}</tns:returnStatus>"
                    f"</tns:getOffersForDistributorResponse></soap:Body></soap:Envelope>"
                )
                self._send(200, answer.encode())

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    u = Upstream()
    yield u
    u.server.shutdown()


def test_http_feed_is_read_again_only_when_it_changes(upstream: Upstream) -> None:
    upstream.files["/feed.xml"] = message(product("9791000000091"))
    store.save_feed(store.Feed(gln_distributor=GLN, kind="http", url=f"{upstream.url}/feed.xml"))
    feed = store.feed(GLN)
    assert feed is not None
    first = sync.sync_feed(feed, datetime.now(UTC))
    assert (first.files, first.changed, first.error) == ([f"{upstream.url}/feed.xml"], 1, None)
    assert offer_store.get("9791000000091", GLN) is not None
    unchanged = sync.sync_feed(feed, datetime.now(UTC) + timedelta(seconds=1))
    assert (unchanged.files, unchanged.changed) == ([], 0)  # 304 Not Modified
    upstream.files["/feed.xml"] = message(product("9791000000091"), product("9791000000084"))
    changed = sync.sync_feed(feed, datetime.now(UTC) + timedelta(seconds=2))
    assert (len(changed.files), changed.changed) == (1, 1)


def test_upstream_pnb_platform_over_soap(upstream: Upstream) -> None:
    boto3.client("ssm").put_parameter(
        Name="/lending/upstream/demo", Value="upstreamPass2026", Type="SecureString"
    )
    store.save_feed(
        store.Feed(
            gln_distributor=GLN,
            kind="pnb",
            wsdl=f"{upstream.url}/soap?wsdl",
            gln_reseller=demo.RESELLER,
            password_parameter="/lending/upstream/demo",
        )
    )
    upstream.files["/onix/1.xml"] = message(product("9791000000091"))
    upstream.files["/onix/2.xml"] = message(product("9791000000084"))
    upstream.links = [f"{upstream.url}/onix/1.xml", f"{upstream.url}/onix/2.xml"]
    feed = store.feed(GLN)
    assert feed is not None
    now = datetime.now(UTC)
    report = sync.sync_feed(feed, now)
    assert (report.changed, report.error, len(report.files)) == (2, None, 2)
    (call,) = upstream.calls
    assert call["glnReseller"] == demo.RESELLER and call["passwordReseller"] == "upstreamPass2026"
    assert call["glnDistributor"] == GLN and "lastConnection" not in call
    # First call: as far back as the upstream allows (8 days, less a margin).
    asked = datetime.fromisoformat(call["sinceDate"].replace("Z", "+00:00"))
    assert timedelta(days=7, hours=23) < now - asked < timedelta(days=8)
    position = store.state(GLN).position
    assert position == sync.iso(now - connectors.UPSTREAM_OVERLAP)
    # Next call asks from the cursor; an upstream refusal leaves the cursor where it was.
    upstream.links = []
    quiet = sync.sync_feed(feed, now + timedelta(minutes=15))
    assert quiet.changed == 0 and upstream.calls[-1]["sinceDate"] == position
    upstream.status = "AUTHENTICATION_ERROR"
    failed = sync.sync_feed(feed, now + timedelta(minutes=30))
    assert failed.error is not None and "AUTHENTICATION_ERROR" in failed.error
    assert store.state(GLN).position == sync.iso(now + timedelta(minutes=15) - connectors.UPSTREAM_OVERLAP)


def test_upstream_cursor_older_than_the_spec_allows_is_reported_as_a_gap(upstream: Upstream) -> None:
    connector = connectors.PnbUpstream(f"{upstream.url}/soap?wsdl", demo.RESELLER, "pw", GLN)
    now = datetime.now(UTC)
    batch = connector.pending(sync.iso(now - timedelta(days=20)), now)
    assert batch.gap is not None and "older than the upstream allows" in batch.gap
    assert batch.sources == [] and batch.position == sync.iso(now - connectors.UPSTREAM_OVERLAP)
