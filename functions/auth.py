"""Bearer auth on `/agents/*`: the token must equal the agent's stored API key.

On a mismatch the caller gets 401 and the stored key is re-read from the shared
`api_keys` table in the background (the key may have been rotated there). A Redis
SET NX with a TTL lets only one re-sync per agent start per debounce window, however
many bad tokens arrive, so a flood of wrong tokens cannot flood the database.
"""

from __future__ import annotations

import hmac
import threading

from flask import Flask, current_app, request
from sqlalchemy.engine import RowMapping

from contract import keys, logs, metrics
from functions import repository
from functions.db import get_engine
from functions.errors import SessionNotFound, Unauthorized
from functions.redis_client import get_redis

log = logs.get_logger(__name__)

RESYNCS = "api_key_resyncs_total"


def resync_key(agent_id: str) -> str:
    """Return the Redis key that debounces an agent's re-sync."""
    return keys.auth_resync(agent_id)


def bearer_token() -> str | None:
    """Return the Bearer token of the current request, or None."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def authenticate(agent_id: str) -> RowMapping:
    """Return the agent's record when the request's Bearer token matches its API key."""
    token = bearer_token()
    if token is None:
        raise Unauthorized("an `Authorization: Bearer <api key>` header is required")
    row = repository.get_agent(get_engine(), agent_id)
    if row is None:
        raise SessionNotFound(f"no session for agent {agent_id!r}")
    stored = row["api_key"] or ""
    if stored and hmac.compare_digest(token.encode(), stored.encode()):
        return row
    schedule_resync(agent_id, row["user_id"])
    raise Unauthorized("the API key does not match this agent")


def schedule_resync(agent_id: str, user_id: str) -> bool:
    """Start one background re-sync of the agent's key unless one ran within the debounce window."""
    window = current_app.config["SETTINGS"].auth_resync_debounce_seconds
    if not get_redis().set(resync_key(agent_id), "1", nx=True, ex=max(1, round(window))):
        return False
    app = current_app._get_current_object()
    thread = threading.Thread(
        target=_resync_in_app, args=(app, agent_id, user_id), name=f"resync-{agent_id}", daemon=True
    )
    thread.start()
    return True


def _resync_in_app(app: Flask, agent_id: str, user_id: str) -> None:
    with app.app_context():
        try:
            outcome = resync(agent_id, user_id)
        except Exception:
            # Nothing else reports on this thread: log it, the next mismatch retries after the window.
            log.exception("api key re-sync failed", agentId=agent_id)
            outcome = "error"
        metrics.incr(get_redis(), RESYNCS, {"result": outcome})


def resync(agent_id: str, user_id: str) -> str:
    """Copy the user's active token from `api_keys` into the agent's record; return what happened."""
    engine = get_engine()
    token = repository.active_api_key(engine, user_id)
    if token is None:
        log.info("api key re-sync: no active key", agentId=agent_id)
        return "missing"
    row = repository.get_agent(engine, agent_id)
    if row is None:
        return "missing"
    if row["api_key"] == token:
        return "unchanged"
    repository.set_api_key(engine, agent_id, token)
    log.info("api key re-synced from api_keys", agentId=agent_id)
    return "updated"
