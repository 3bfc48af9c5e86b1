"""A real HTTP server on 127.0.0.1 (ephemeral port, in a thread) for the update tests.

Each path is one behaviour: a body with a status and headers, a body cut short, or silence.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Route:
    """What the server does for one path."""

    body: bytes = b""
    status: int = 200
    content_type: str = "text/plain; charset=utf-8"
    announce: int | None = None  # Content-Length to announce (default: len(body))
    silent: bool = False  # accept the request and never answer
    drip: float | None = None  # send the body one byte every `drip` seconds


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: ClassVar[dict[str, Route]] = {}
    stop: ClassVar[threading.Event]

    def do_GET(self) -> None:
        route = self.routes.get(self.path)
        if route is None:
            route = Route(b"not found", status=404)
        if route.silent:
            self.stop.wait(30)
            return
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        length = len(route.body) if route.announce is None else route.announce
        self.send_header("Content-Length", str(length))
        self.send_header("Connection", "close")
        self.end_headers()
        if route.drip is None:
            self.wfile.write(route.body)
            self.wfile.flush()
            return
        try:
            for index in range(len(route.body)):
                self.wfile.write(route.body[index : index + 1])
                self.wfile.flush()
                if self.stop.wait(route.drip):
                    return
        except OSError:  # the client gave up
            return

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(routes: dict[str, Route]) -> Iterator[str]:
    """Serve ``routes`` on 127.0.0.1 and yield the base URL (``http://127.0.0.1:PORT``)."""
    stop = threading.Event()
    handler = type("Handler", (_Handler,), {"routes": routes, "stop": stop})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        thread.join(5)
        time.sleep(0)
