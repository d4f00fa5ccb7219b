"""Emulated AWS (moto's server) on loopback, serialised behind one lock.

moto is not safe under concurrency; with every request behind one lock a race test proves our
conditions, not moto's luck. Each request holds the lock for its whole answer."""

from __future__ import annotations

import os
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, make_server

LOCAL_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "eu-west-3",
    "AWS_REGION": "eu-west-3",
    "POWERTOOLS_METRICS_DISABLED": "true",  # one process runs every handler: see lending.observability
}


class Emulator:
    def __init__(self, port: int = 0) -> None:
        from moto.server import DomainDispatcherApplication, create_backend_app

        from . import moto_patches

        moto_patches.apply()  # transactions save only the items they touch
        self.lock = threading.Lock()
        self.requests = 0
        app = DomainDispatcherApplication(create_backend_app)

        def locked(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            with self.lock:
                self.requests += 1
                return list(app(environ, start_response))

        self.server: BaseWSGIServer = make_server("127.0.0.1", port, locked, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True, name="emulator")

    def start(self) -> Emulator:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()

    def use(self) -> None:
        """Point every boto3 client of this process at the emulator."""
        os.environ.update(LOCAL_ENV)
        os.environ["AWS_ENDPOINT_URL"] = self.url
        from ..store import table

        table.reset_client()
