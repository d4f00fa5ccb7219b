"""The threaded HTTP server of the local doors (gateway, callback receiver), and the request handler that
frames HTTP/1.1 as API Gateway does for the gateway.

Framing is where request smuggling lives: a body that is refused is still read (or the connection is
closed), a Content-Length that is not one number is refused at once, Transfer-Encoding and Content-Length
together are refused, and every answer (errors of the HTTP layer included) is JSON, written in one send
with TCP_NODELAY (headers and body in two writes wait for the client's delayed ACK: about 40 ms on a
kept-alive connection)."""

from __future__ import annotations

import json
import re
import socket
import time
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MAX_BODY = 10 * 1024 * 1024  # API Gateway's own limit
DISCARD_BYTES = 64 * 1024 * 1024  # a refused body is read and dropped up to this much, then the line is cut
DISCARD_SECONDS = 2.0
_LENGTH = re.compile(r"[0-9]{1,19}")
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,8})(?:;[^\r\n]*)?\r?\n")


class BurstServer(ThreadingHTTPServer):
    # socketserver's default backlog is 5: a burst of racing clients overflows it and the kernel resets the
    # late connections. API Gateway (or a library's web server) accepts them all; so does this one, up to
    # the kernel's somaxconn.
    request_queue_size = 1024
    daemon_threads = True


class Refusal(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


class FramedHandler(BaseHTTPRequestHandler):
    """Every method reaches `serve` (OPTIONS and TRACE included: the route table decides); the body is
    read by `read_body`; `answer` writes one response in a single send."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 30  # a client that stops sending in the middle of a request is let go

    def serve(self) -> None:
        raise NotImplementedError

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):  # http.server looks for do_<METHOD>: every method is served
            return self._serve
        raise AttributeError(name)

    def _serve(self) -> None:
        self.answered = False
        try:
            self.serve()
        except (TimeoutError, ConnectionError):
            self.close_connection = True
        except Exception:  # a fault of the gateway itself: still an answer, then the line is closed
            import traceback

            traceback.print_exc()
            self.close_connection = True
            if not self.answered:
                self.answer(500, {"Content-Type": "application/json"}, b'{"message":"Internal Server Error"}')

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def handle_expect_100(self) -> bool:
        # No "100 Continue" for a body that is going to be refused: refuse it now and close.
        try:
            self._declared_length()
        except Refusal as r:
            self._refuse(r, drain=False)
            return False
        return super().handle_expect_100()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals (bad request line, header too long, ...): JSON, and the line is closed."""
        self.close_connection = True
        status = HTTPStatus(code) if code in HTTPStatus._value2member_map_ else HTTPStatus.BAD_REQUEST
        self.answer(status.value, {"Content-Type": "application/json", "Connection": "close"},
                    json.dumps({"message": status.phrase}).encode())

    def _declared_length(self) -> int | None:
        """The body's length (None: chunked), or Refusal: several or malformed lengths, both framings,
        an unknown transfer coding, more than MAX_BODY."""
        lengths = self.headers.get_all("Content-Length") or []
        codings = ",".join(self.headers.get_all("Transfer-Encoding") or []).strip().lower()
        if codings:
            if lengths:
                raise Refusal(400, "Content-Length and Transfer-Encoding together")
            if codings != "chunked":
                raise Refusal(501, "Transfer-Encoding not supported")
            return None
        values = {v.strip() for v in lengths}
        if len(values) > 1 or any(not _LENGTH.fullmatch(v) for v in values):
            raise Refusal(400, "Invalid Content-Length")
        length = int(values.pop()) if values else 0
        if length > MAX_BODY:
            raise Refusal(413, "Request Entity Too Large")
        return length

    def read_body(self) -> bytes | None:
        """The request's body; None when it was refused (answered here, connection closed)."""
        try:
            length = self._declared_length()
        except Refusal as r:
            self._refuse(r, drain=r.status == 413)
            return None
        try:
            body = self._read_chunked() if length is None else self.rfile.read(length)
        except Refusal as r:
            self._refuse(r, drain=False)
            return None
        if length is not None and len(body) < length:  # the client closed early: nobody to answer
            self.close_connection = True
            return None
        return body

    def _read_chunked(self) -> bytes:
        parts, total = [], 0
        while True:
            m = _CHUNK_SIZE.fullmatch(self.rfile.readline(1024))
            if m is None:
                raise Refusal(400, "Invalid chunked body")
            size = int(m.group(1), 16)
            if size == 0:
                break
            total += size
            if total > MAX_BODY:
                raise Refusal(413, "Request Entity Too Large")
            chunk = self.rfile.read(size)
            if len(chunk) < size or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise Refusal(400, "Invalid chunked body")
            parts.append(chunk)
        for _ in range(100):  # trailer fields, up to the empty line
            if self.rfile.readline(8192) in (b"\r\n", b"\n", b""):
                return b"".join(parts)
        raise Refusal(400, "Invalid chunked body")

    def _refuse(self, refusal: Refusal, drain: bool) -> None:
        self.close_connection = True
        self.answer(refusal.status, {"Content-Type": "application/json", "Connection": "close"},
                    json.dumps({"message": refusal.message}).encode())
        if drain:
            self._discard()

    def _discard(self) -> None:
        """Read what the client is still sending (bounded in bytes and time) so that it gets the answer
        rather than a reset; none of it is ever taken as a request: the connection is closing."""
        deadline = time.monotonic() + DISCARD_SECONDS
        left = DISCARD_BYTES
        try:
            self.connection.shutdown(socket.SHUT_WR)
            while left > 0 and time.monotonic() < deadline:
                self.connection.settimeout(max(0.05, deadline - time.monotonic()))
                chunk = self.connection.recv(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)
        except OSError:
            pass

    def answer(self, status: int, headers: dict[str, str], payload: bytes, cookies: list[str] | None = None) -> None:
        """Status line, headers and body in one send; each of payload 2.0's `cookies` a Set-Cookie header."""
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        lines = [f"{self.protocol_version} {status} {phrase}", f"Date: {formatdate(usegmt=True)}"]
        for k, v in headers.items():
            if k.lower() != "content-length" and "\n" not in k + v and "\r" not in k + v:
                lines.append(f"{k}: {v}")
        lines.extend(f"Set-Cookie: {c}" for c in cookies or () if "\n" not in c and "\r" not in c)
        lines.append(f"Content-Length: {len(payload)}")
        if self.close_connection and not any(k.lower() == "connection" for k in headers):
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        self.answered = True
        self.wfile.write(head if self.command == "HEAD" else head + payload)
