"""A local HTTP API: the routes of template.yaml, each request turned into an API Gateway HTTP API
(payload 2.0) event and handed to the real handler, its answer written back."""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from . import functions as fns
from .server import MAX_BODY, BurstServer, FramedHandler
from .template import Function, Route

__all__ = ["MAX_BODY", "Gateway", "build_event"]


def build_event(method: str, raw_path: str, query: str, headers: dict[str, str], body: bytes, route: Route,
                params: dict[str, str], source_ip: str) -> dict[str, Any]:
    try:
        text, encoded = body.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    qs = dict(parse_qsl(query, keep_blank_values=True))
    # Payload 2.0 moves the Cookie header into `cookies`, one entry per cookie.
    headers = dict(headers)
    cookie_header = headers.pop("cookie", "")
    cookies = [c.strip() for c in cookie_header.split(";") if c.strip()]
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{route.method} {route.path}",
        "rawPath": raw_path,
        "rawQueryString": query,
        "headers": headers,
        "queryStringParameters": qs or None,
        "pathParameters": params or None,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": headers.get("host", "127.0.0.1"),
            "http": {"method": method, "path": raw_path, "protocol": "HTTP/1.1", "sourceIp": source_ip,
                     "userAgent": headers.get("user-agent", "")},
            "requestId": uuid.uuid4().hex,
            "routeKey": f"{route.method} {route.path}",
            "stage": "$default",
            "timeEpoch": int(time.time() * 1000),
        },
        "body": text if body else None,
        "isBase64Encoded": encoded,
    }
    if cookies:
        event["cookies"] = cookies
    return event


def _specificity(route: Route) -> tuple[int, int]:
    return route.path.count("+}"), route.path.count("{")


class Gateway:
    def __init__(self, functions: dict[str, Function], port: int, host: str = "127.0.0.1") -> None:
        self.functions = functions
        self.routes = [r for f in functions.values() for r in f.routes]
        gateway = self

        class Handler(FramedHandler):
            def serve(self) -> None:
                gateway.serve(self)

        self.server = BurstServer((host, port), Handler)
        self.port = self.server.server_port
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="gateway")

    def start(self) -> Gateway:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        """As API Gateway does: the most specific route wins (literal paths, then {param}, then {proxy+})."""
        path_known = False
        for route in sorted(self.routes, key=_specificity):
            m = route.pattern.match(path)
            if m:
                path_known = True
                if route.method in (method, "ANY"):
                    return route, m.groupdict(), True
        return None, {}, path_known

    def serve(self, req: FramedHandler) -> None:
        url = urlsplit(req.path)
        body = req.read_body()
        if body is None:  # refused and answered: the connection is closed
            return
        route, params, path_known = self.match(req.command, url.path)
        if route is None:
            status = 405 if path_known else 404
            req.answer(status, {"Content-Type": "application/json"},
                       b'{"message":"Not Found"}' if status == 404 else b'{"message":"Method Not Allowed"}')
            return
        headers = {k.lower(): v for k, v in req.headers.items()}
        headers.setdefault("x-forwarded-proto", "http")
        event = build_event(req.command, url.path, url.query, headers, body, route, params, req.client_address[0])
        try:
            result = fns.invoke(self.functions[route.function], event)
            status, out_headers, payload = self.translate(result)
        except Exception as e:  # what API Gateway does when the function itself fails (or its answer is unusable)
            import traceback

            traceback.print_exc()
            req.answer(500, {"Content-Type": "application/json"},
                       json.dumps({"message": "Internal Server Error", "error": type(e).__name__}).encode())
            return
        cookies = result.get("cookies") if isinstance(result, dict) else None
        req.answer(status, out_headers, payload, [str(c) for c in cookies or []])

    @staticmethod
    def translate(result: Any) -> tuple[int, dict[str, str], bytes]:
        if not isinstance(result, dict) or "statusCode" not in result:
            return 200, {"Content-Type": "application/json"}, json.dumps(result).encode()
        body = result.get("body") or ""
        payload = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
        headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
        for k, values in (result.get("multiValueHeaders") or {}).items():
            headers[k] = ", ".join(values)
        return int(result["statusCode"]), headers, payload
