"""JSON logs for every process: one line per event, traceId and agentId on each, secrets redacted."""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog
from structlog.contextvars import bind_contextvars, clear_contextvars, merge_contextvars

REDACTED = "[REDACTED]"
_SECRET_KEY = re.compile(
    r"(token|secret|password|passwd|api_?key|apikey|authorization|signature|cookie)", re.I
)
_BEARER = re.compile(r"(Bearer\s+)[^\s\"',]+", re.I)


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _BEARER.sub(r"\1" + REDACTED, value)
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_KEY.search(str(k)) else _scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def redact(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    """Replace values of secret-looking keys and bearer tokens inside strings."""
    return {k: REDACTED if _SECRET_KEY.search(k) and k != "event" else _scrub(v) for k, v in event.items()}


def _always_ids(_logger: Any, _name: str, event: dict[str, Any]) -> dict[str, Any]:
    event.setdefault("traceId", None)
    event.setdefault("agentId", None)
    return event


_SHARED = [
    merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", key="timestamp"),
    _always_ids,
    structlog.processors.format_exc_info,
    redact,
]


def json_formatter() -> logging.Formatter:
    """Return a stdlib formatter that renders any record as one of our JSON lines."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.JSONRenderer(),
        ],
    )


def configure_logging(level: str = "INFO", service: str = "gateway") -> None:
    """Route structlog and stdlib logging through one JSON renderer on stderr."""
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(json_formatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    bind_contextvars(service=service)


def bind(trace_id: str | None = None, agent_id: str | None = None) -> None:
    """Attach a traceId and/or agentId to every following log line of this context."""
    values = {"traceId": trace_id, "agentId": agent_id}
    bind_contextvars(**{k: v for k, v in values.items() if v is not None})


def reset(service: str | None = None) -> None:
    """Drop the per-request context (keeps the service name when given)."""
    clear_contextvars()
    if service:
        bind_contextvars(service=service)


get_logger = structlog.get_logger
