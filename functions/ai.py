"""Call an agent's AI backend and pull the reply string out of whatever shape it answers."""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import redis
from urllib3.exceptions import HTTPError, ReadTimeoutError

from contract import logs, metrics
from functions.errors import AiDownstreamError, AiTimeout

if TYPE_CHECKING:
    import requests

    from functions.config import Settings

log = logs.get_logger(__name__)

REPLY_KEYS = ("reply", "output", "response")
# Connecting should be quick even when the model is slow; the full timeout is for the answer.
CONNECT_TIMEOUT_SECONDS = 5.0
# A reply is a chat message; a body this large is a broken backend, not an answer.
MAX_BODY_BYTES = 1024 * 1024


@functools.cache
def _session() -> requests.Session:
    """Return this process's pooled HTTP session, made on first use."""
    import requests  # ~45 ms of import that only AI calls need, not every cold start

    return requests.Session()


_CHARSET = re.compile(r"charset=([\w\-]+)", re.I)


@dataclass(frozen=True)
class AiResult:
    """The AI's reply (None when it chose not to answer), how long it took, and the raw body."""

    reply: str | None
    latency_seconds: float
    raw: object


def endpoint_for(endpoint_url_run: str | None, agent_id: str, ai_backend_url: str) -> str:
    """Return the record's endpoint, else `${AI_BACKEND_URL}/agents/{agentId}/execute`."""
    if endpoint_url_run and endpoint_url_run.strip():
        return endpoint_url_run.strip()
    return f"{ai_backend_url.rstrip('/')}/agents/{agent_id}/execute"


def extract_reply(body: Any, _depth: int = 0) -> str | None:
    """Return the reply string from `reply`/`output`/`response` (also under `data`), or a plain string."""
    if isinstance(body, str):
        return body.strip() or None
    if not isinstance(body, dict) or _depth > 3:
        return None
    for key in REPLY_KEYS:
        value = body.get(key)
        if isinstance(value, str):
            return value.strip() or None
        if isinstance(value, dict):
            nested = extract_reply(value, _depth + 1)
            if nested is not None:
                return nested
    if "data" in body:
        return extract_reply(body["data"], _depth + 1)
    return None


def _read(response: requests.Response, deadline: float, timeout: float) -> str:
    """Read the body, giving up at the call's deadline (a backend may trickle bytes) or size cap."""
    chunks, total = [], 0
    try:
        # read1 returns what has arrived, so the deadline is checked between a trickle's bytes.
        while chunk := response.raw.read1(64 * 1024, decode_content=True):
            total += len(chunk)
            if total > MAX_BODY_BYTES:
                raise AiDownstreamError(f"the AI backend answered more than {MAX_BODY_BYTES} bytes")
            if time.monotonic() > deadline:
                raise AiTimeout(f"the AI backend did not finish answering within {timeout:g} seconds")
            chunks.append(chunk)
    except ReadTimeoutError as exc:
        raise AiTimeout(f"the AI backend did not finish answering within {timeout:g} seconds") from exc
    except HTTPError as exc:
        raise AiDownstreamError(f"the AI backend's answer broke off: {type(exc).__name__}") from exc
    # JSON is UTF-8; text without a charset is read as UTF-8 too (requests would assume Latin-1).
    charset = _CHARSET.search(response.headers.get("Content-Type", ""))
    return b"".join(chunks).decode(charset.group(1) if charset else "utf-8", errors="replace")


def _parse(response: requests.Response, text: str) -> object:
    content_type = response.headers.get("Content-Type", "").lower()
    looks_json = "json" in content_type or text.lstrip().startswith(("{", "["))
    if not looks_json:
        return text
    try:
        return json.loads(text)
    except ValueError as exc:
        raise AiDownstreamError("the AI backend answered a body that is not valid JSON") from exc


def call_ai(
    *,
    endpoint: str,
    api_key: str | None,
    payload: dict,
    timeout: float,
    redis_client: redis.Redis | None = None,
) -> AiResult:
    """POST the payload to the AI backend with the agent's Bearer key and return its reply."""
    headers = {"Accept": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    import requests

    started = time.monotonic()
    try:
        response = _session().post(
            endpoint,
            json=payload,
            headers=headers,
            timeout=(min(CONNECT_TIMEOUT_SECONDS, timeout), timeout),
            allow_redirects=False,
            stream=True,
        )
        with response:
            text = _read(response, started + timeout, timeout)
    except AiTimeout:
        _observe(redis_client, time.monotonic() - started)
        raise
    except requests.Timeout as exc:
        _observe(redis_client, time.monotonic() - started)
        raise AiTimeout(f"the AI backend did not answer within {timeout:g} seconds") from exc
    except requests.RequestException as exc:
        raise AiDownstreamError(f"the AI backend could not be reached: {type(exc).__name__}") from exc
    latency = time.monotonic() - started
    _observe(redis_client, latency)
    if not 200 <= response.status_code < 300:
        log.warning("ai backend error", status=response.status_code, body=text[:300])
        raise AiDownstreamError(f"the AI backend answered HTTP {response.status_code}")
    raw = _parse(response, text)
    return AiResult(reply=extract_reply(raw), latency_seconds=latency, raw=raw)


def ask(
    agent: Mapping[str, Any],
    agent_id: str,
    payload: dict,
    settings: Settings,
    redis_client: redis.Redis | None,
) -> AiResult:
    """Ask an agent's AI backend (its own run endpoint, else AI_BACKEND_URL) with its key."""
    return call_ai(
        endpoint=endpoint_for(agent["endpoint_url_run"], agent_id, settings.ai_backend_url),
        api_key=agent["api_key"],
        payload=payload,
        timeout=settings.ai_timeout_seconds,
        redis_client=redis_client,
    )


def _observe(client: redis.Redis | None, seconds: float) -> None:
    if client is None:
        return
    try:
        metrics.observe(client, metrics.AI_LATENCY, seconds)
    except redis.RedisError as exc:
        # A metric must never turn a good AI answer into an error.
        log.warning("could not record ai latency", error=str(exc))
