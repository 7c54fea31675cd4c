"""Count Redis reconnects: a connection that was up, broke, and connected again.

redis-py reconnects a broken connection by itself (on the next command, or through the
client's Retry). Counting those reconnects tells an operator how often Redis went away
(a restart, a failover) without reading every process's log.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

import redis

from contract.keys import COUNTERS_KEY
from contract.metrics import series

REDIS_RECONNECTS = "redis_reconnects_total"

OnReconnect = Callable[[redis.Connection], None]


def _counting(base: type[redis.connection.AbstractConnection], on_reconnect: OnReconnect) -> type:
    class CountingConnection(base):  # type: ignore[misc, valid-type]
        """A connection that calls `on_reconnect` each time it connects again after the first."""

        _connected_before = False

        def connect_check_health(self, *args: object, **kwargs: object) -> None:
            fresh = self._sock is None
            super().connect_check_health(*args, **kwargs)
            if fresh:
                if self._connected_before:
                    on_reconnect(self)
                self._connected_before = True

    return CountingConnection


def connection_class(url: str, on_reconnect: OnReconnect) -> type:
    """Return the connection class for `url` (plain, TLS or unix socket) that counts reconnects."""
    scheme = urlsplit(url).scheme
    base = {
        "rediss": redis.SSLConnection,
        "unix": redis.UnixDomainSocketConnection,
    }.get(scheme, redis.Connection)
    return _counting(base, on_reconnect)


def client(url: str, on_reconnect: OnReconnect, **options: object) -> redis.Redis:
    """Return a Redis client for `url` whose connections report their reconnects."""
    return redis.Redis.from_url(url, connection_class=connection_class(url, on_reconnect), **options)


def count_in_redis(process: str) -> OnReconnect:
    """Return an `on_reconnect` adding to the deployment-wide counter, on the connection itself.

    The new connection is used directly (not the pool, which is busy handing it out), and a
    failure to count never fails the connection.
    """
    field = series(REDIS_RECONNECTS, {"process": process})

    def count(connection: redis.Connection) -> None:
        try:
            connection.send_command("HINCRBY", COUNTERS_KEY, field, 1)
            connection.read_response()
        except redis.RedisError:
            pass

    return count
