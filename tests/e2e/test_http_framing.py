"""The local gateway frames HTTP as API Gateway does: a refused body is never read as a request
(no smuggling, no leftover), a bad Content-Length is refused at once, every method gets a JSON answer,
and an answer is one write (no delayed-ACK wait on a kept-alive connection)."""

from __future__ import annotations

import http.client
import json
import socket
import statistics
import time
from typing import Any

import pytest

from lending.local import demo
from lending.local.gateway import MAX_BODY

pytestmark = pytest.mark.e2e
XSD = b"GET /v2/pnb-numerique/soap?xsd HTTP/1.1\r\nHost: x\r\n\r\n"


def connect(stack: Any) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", int(stack.url.rsplit(":", 1)[1])), timeout=5)
    return sock


def read_all(sock: socket.socket, seconds: float = 5.0) -> bytes:
    """Everything the gateway sends until it closes the connection (a hang fails the test)."""
    out, deadline = b"", time.monotonic() + seconds
    while True:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            raise AssertionError(f"the gateway neither answered nor closed in {seconds} s: {out[:300]!r}") from None
        if not chunk:
            return out
        out += chunk


def parse(stream: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """The responses in a byte stream, in order."""
    found = []
    while stream:
        head, sep, rest = stream.partition(b"\r\n\r\n")
        assert sep, stream[:200]
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (x.partition(":") for x in lines[1:])}
        length = int(headers.get("content-length", "0"))
        found.append((status, headers, rest[:length]))
        stream = rest[length:]
    return found


def test_a_body_refused_as_too_large_is_never_executed_as_a_request(stack: Any) -> None:
    sock = connect(stack)
    # The declared body starts with a whole second request: it must not be answered.
    sock.sendall(b"POST /v2/pnb-numerique/getOrders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 + f"Content-Length: {MAX_BODY + 1}\r\n\r\n".encode() + XSD)
    answers = parse(read_all(sock))
    sock.close()
    assert [a[0] for a in answers] == [413], answers
    assert json.loads(answers[0][2]) == {"message": "Request Entity Too Large"}


@pytest.mark.parametrize("length", ["-1", "abc", "1e3", " 12 3", "99999999999999999999999", "0x10"])
def test_a_bad_content_length_is_refused_at_once(stack: Any, length: str) -> None:
    sock = connect(stack)
    sock.sendall(b"POST /v2/pnb-numerique/getOrders HTTP/1.1\r\nHost: x\r\n"
                 + f"Content-Length: {length}\r\n\r\n".encode() + XSD)
    answers = parse(read_all(sock))
    sock.close()
    assert [a[0] for a in answers] in ([400], [413]), answers
    assert json.loads(answers[0][2])["message"]


def test_two_framings_or_two_lengths_are_refused(stack: Any) -> None:
    for framing in (b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                    b"Content-Length: 5\r\nContent-Length: 6\r\n",
                    b"Transfer-Encoding: gzip\r\n"):
        sock = connect(stack)
        sock.sendall(b"POST /v2/pnb-numerique/getOrders HTTP/1.1\r\nHost: x\r\n" + framing + b"\r\n0\r\n\r\n" + XSD)
        answers = parse(read_all(sock))
        sock.close()
        assert len(answers) == 1 and answers[0][0] in (400, 501), (framing, answers)


def test_a_chunked_body_is_read_and_nothing_is_left_over(stack: Any) -> None:
    body = json.dumps({"glnColl": demo.COLL, "passwordColl": demo.COLL_PASSWORD, "orderLineId": ["nope"]}).encode()
    chunked = b"".join(f"{len(part):x}\r\n".encode() + part + b"\r\n" for part in (body[:10], body[10:])) + b"0\r\n\r\n"
    sock = connect(stack)
    sock.sendall(b"POST /v2/pnb-numerique/getLoanStatus HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n" + chunked
                 + b"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    answers = parse(read_all(sock, 15))
    sock.close()
    assert [a[0] for a in answers] == [200, 404], answers
    assert json.loads(answers[0][2])["requestId"]


@pytest.mark.parametrize("method", ["OPTIONS", "TRACE", "PATCH", "PROPFIND", "CONNECT"])
def test_every_method_gets_a_json_answer(stack: Any, method: str) -> None:
    for path in ("/v2/pnb-numerique/getOrders", "/v1/loans.json", "/nowhere"):
        conn = http.client.HTTPConnection("127.0.0.1", int(stack.url.rsplit(":", 1)[1]), timeout=5)
        conn.request(method, path)
        r = conn.getresponse()
        assert r.status in (404, 405), (method, path, r.status)
        assert r.getheader("Content-Type") == "application/json"
        assert json.loads(r.read())["message"]
        conn.close()


def test_a_malformed_request_line_is_a_json_400(stack: Any) -> None:
    sock = connect(stack)
    sock.sendall(b"GET /x HTTP/9.9 extra\r\n\r\n")
    answers = parse(read_all(sock))
    sock.close()
    assert [a[0] for a in answers] == [400] and json.loads(answers[0][2])["message"]


def test_a_kept_alive_connection_is_answered_without_a_delayed_ack_wait(stack: Any) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", int(stack.url.rsplit(":", 1)[1]), timeout=5)
    times = []
    for _ in range(12):
        started = time.perf_counter()
        conn.request("GET", "/nowhere")
        r = conn.getresponse()
        r.read()
        times.append(time.perf_counter() - started)
        assert r.status == 404
    conn.close()
    # Headers and body in two writes without TCP_NODELAY wait ~40 ms for the client's delayed ACK.
    assert statistics.median(times[2:]) < 0.02, times
