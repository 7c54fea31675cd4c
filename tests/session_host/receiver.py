"""A local HTTP server standing in for the functions' `/internal/events` (real HTTP, real HMAC)."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from contract.events import EVENTS_PATH, SIGNATURE_HEADER, TIMESTAMP_HEADER, InvalidSignature, verify

SECRET = "receiver-secret"


class Receiver:
    """Records verified events; answers with the statuses queued in `replies` first."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.replies: list[int] = []
        self.refused_signatures = 0
        self.lock = threading.Lock()
        self.url = ""

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        """Return the accepted events of one type."""
        with self.lock:
            return [e for e in self.events if e["type"] == kind]


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    """Serve a Receiver on a free local port."""
    receiver = Receiver()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status = 202
            try:
                verify(
                    body,
                    self.headers.get(TIMESTAMP_HEADER),
                    self.headers.get(SIGNATURE_HEADER),
                    SECRET,
                    time.time(),
                )
            except InvalidSignature:
                status = 401
                receiver.refused_signatures += 1
            with receiver.lock:
                if status == 202 and receiver.replies:
                    status = receiver.replies.pop(0)
                if status == 202 and self.path == EVENTS_PATH:
                    receiver.events.append(json.loads(body))
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
