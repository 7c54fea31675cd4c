"""Redis connections of the functions: one decoding client for state, one raw for RQ."""

from __future__ import annotations

import redis
from flask import Flask, current_app
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from contract import logs, reconnects
from contract.hosts import HostRegistry
from contract.live import LiveStateStore

log = logs.get_logger(__name__)
_count_in_redis = reconnects.count_in_redis("api")


def _count_reconnect(connection: redis.Connection) -> None:
    log.warning("reconnected to Redis")
    _count_in_redis(connection)


def _client(url: str, decode: bool) -> redis.Redis:
    return reconnects.client(
        url,
        _count_reconnect,
        decode_responses=decode,
        # While Redis is down a request must fail fast (503 within about 2 s), not hang:
        # 0.5 s per connect and one retry. Reads allow 3 s, above the 2 s blocking waits
        # of `dispatch.wait`.
        socket_connect_timeout=0.5,
        socket_timeout=3,
        health_check_interval=15,
        retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=1),
    )


def init_app(app: Flask, redis_url: str, host_ttl: float) -> None:
    """Attach Redis clients and the contract stores to the app."""
    state = _client(redis_url, decode=True)
    app.extensions["redis"] = state
    app.extensions["redis_rq"] = _client(redis_url, decode=False)
    app.extensions["live_state"] = LiveStateStore(state)
    app.extensions["host_registry"] = HostRegistry(state, ttl=host_ttl)


def get_redis() -> redis.Redis:
    """Return the decoding Redis client (strings in, strings out)."""
    return current_app.extensions["redis"]


def get_rq_redis() -> redis.Redis:
    """Return the raw Redis client RQ needs (bytes)."""
    return current_app.extensions["redis_rq"]


def get_live_state() -> LiveStateStore:
    """Return the live-state store."""
    return current_app.extensions["live_state"]


def get_host_registry() -> HostRegistry:
    """Return the host registry."""
    return current_app.extensions["host_registry"]
