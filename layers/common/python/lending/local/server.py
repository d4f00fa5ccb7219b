"""The threaded HTTP server of the local doors (gateway, callback receiver)."""

from __future__ import annotations

from http.server import ThreadingHTTPServer


class BurstServer(ThreadingHTTPServer):
    # socketserver's default backlog is 5: a burst of racing clients overflows it and the kernel resets the
    # late connections. API Gateway (or a library's web server) accepts them all; so does this one, up to
    # the kernel's somaxconn.
    request_queue_size = 1024
    daemon_threads = True
