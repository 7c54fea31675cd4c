"""Give every request a traceId (honouring X-Request-Id / X-Trace-Id) and bind it to logs."""

from __future__ import annotations

import re
import time
import uuid

from flask import Flask, Response, g, request

from contract import logs

log = logs.get_logger(__name__)
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
TRACE_HEADERS = ("X-Request-Id", "X-Trace-Id")


def current_trace_id() -> str:
    """Return the traceId of the request being served."""
    return g.get("trace_id") or "-"


def _incoming_trace_id() -> str:
    for header in TRACE_HEADERS:
        value = request.headers.get(header, "").strip()
        if value and _SAFE_ID.match(value):
            return value
    return uuid.uuid4().hex


def init_app(app: Flask) -> None:
    """Install the request hooks: trace id in, one JSON log line per request out."""

    @app.before_request
    def _start_trace() -> None:
        g.started = time.monotonic()
        g.trace_id = _incoming_trace_id()
        logs.reset(service="functions")
        agent_id = (request.view_args or {}).get("agent_id")
        logs.bind(trace_id=g.trace_id, agent_id=agent_id)

    @app.after_request
    def _echo_trace(response: Response) -> Response:
        response.headers["X-Trace-Id"] = current_trace_id()
        response.headers["X-Request-Id"] = current_trace_id()
        # The path only: query strings may carry values that do not belong in logs.
        log.info(
            "request",
            method=request.method,
            path=request.path,
            status=response.status_code,
            durationMs=round((time.monotonic() - g.get("started", time.monotonic())) * 1000, 1),
        )
        return response
