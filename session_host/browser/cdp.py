"""A Chrome DevTools Protocol connection of our own to one page, beside chromedriver's.

Events the page pushes through the `wagwEmit` binding arrive here as `Runtime.bindingCalled`
the moment they happen; commands are sent with an id and their reply is matched by a reader
thread, so callers block only on their own reply while Selenium keeps working.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

import websocket

from contract import logs

log = logs.get_logger(__name__)


class CdpError(RuntimeError):
    """Raised when a CDP command fails, times out, or the connection is gone."""


class CdpConnection:
    """One websocket to a page target: `call()` commands, `on_event` for notifications."""

    def __init__(
        self, ws_url: str, on_event: Callable[[str, dict[str, Any]], None], on_close: Callable[[], None]
    ):
        self._ws = websocket.create_connection(
            ws_url, timeout=10, suppress_origin=True, enable_multithread=True
        )
        # The reader blocks in recv() forever; commands carry their own timeouts.
        self._ws.settimeout(None)
        self._ids = itertools.count(1)
        self._pending: dict[int, Future] = {}
        self._lock = threading.Lock()
        self._on_event = on_event
        self._on_close = on_close
        self.closed = threading.Event()
        self._reader = threading.Thread(target=self._read, name="cdp-reader", daemon=True)
        self._reader.start()

    def call(
        self, method: str, params: dict[str, Any] | None = None, timeout: float = 30.0
    ) -> dict[str, Any]:
        """Send one command and return its result (raise CdpError on error or timeout)."""
        if self.closed.is_set():
            raise CdpError("the browser connection is closed")
        message_id = next(self._ids)
        future: Future = Future()
        with self._lock:
            self._pending[message_id] = future
        try:
            self._ws.send(json.dumps({"id": message_id, "method": method, "params": params or {}}))
            reply = future.result(timeout)
        except FutureTimeout as exc:
            raise CdpError(f"{method} got no answer within {timeout:g}s") from exc
        except (OSError, websocket.WebSocketException) as exc:
            raise CdpError(f"{method} could not be sent: {exc}") from exc
        finally:
            with self._lock:
                self._pending.pop(message_id, None)
        if "error" in reply:
            raise CdpError(f"{method} failed: {reply['error'].get('message')}")
        return reply.get("result", {})

    def _read(self) -> None:
        try:
            while True:
                raw = self._ws.recv()
                if not raw:
                    break
                message = json.loads(raw)
                if "id" in message:
                    with self._lock:
                        future = self._pending.get(message["id"])
                    if future is not None and not future.done():
                        future.set_result(message)
                elif "method" in message:
                    try:
                        self._on_event(message["method"], message.get("params", {}))
                    except Exception:
                        log.exception("cdp event handler failed", method=message["method"])
        except (OSError, websocket.WebSocketException, ValueError):
            pass
        finally:
            self._shut()

    def _shut(self) -> None:
        self.closed.set()
        with self._lock:
            pending = list(self._pending.values())
        for future in pending:
            if not future.done():
                future.set_exception(CdpError("the browser connection closed"))
        self._on_close()

    def close(self) -> None:
        """Close the websocket (the reader thread then ends)."""
        with contextlib.suppress(OSError, websocket.WebSocketException):
            self._ws.close(timeout=1)
