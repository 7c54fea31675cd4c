"""A local webhook receiver: verifies Standard Webhooks signatures and records what arrived."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError


@dataclass
class Delivery:
    """One POST the receiver got."""

    webhook_id: str
    verified: bool
    body: dict[str, Any]
    status: int
    at: float = field(default_factory=time.time)
    raw: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)

    def verifies_with(self, secret: str) -> bool:
        """Tell whether the delivery's signature checks out with `secret`."""
        try:
            Webhook(secret).verify(self.raw, self.headers)
        except WebhookVerificationError:
            return False
        return True


class Receiver:
    """An HTTP server on 127.0.0.1 answering `status` (changeable) to every POST."""

    def __init__(self, secret: str | None = None):
        self.secret = secret
        self.status = 200
        self.deliveries: list[Delivery] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver._record(self.headers, body)
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def _record(self, headers: Any, body: bytes) -> None:
        verified = False
        if self.secret:
            try:
                Webhook(self.secret).verify(body, dict(headers.items()))
                verified = True
            except WebhookVerificationError:
                verified = False
        with self._lock:
            self.deliveries.append(
                Delivery(
                    headers.get("webhook-id", ""),
                    verified,
                    json.loads(body or b"{}"),
                    self.status,
                    raw=body,
                    headers=dict(headers.items()),
                )
            )

    def accepted(self) -> list[Delivery]:
        """Return the deliveries answered 2xx, in arrival order."""
        with self._lock:
            return [d for d in self.deliveries if 200 <= d.status < 300]

    def all(self) -> list[Delivery]:
        """Return every delivery, whatever was answered."""
        with self._lock:
            return list(self.deliveries)

    def close(self) -> None:
        """Stop serving."""
        self.server.shutdown()
        self.server.server_close()
