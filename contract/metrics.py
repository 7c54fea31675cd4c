"""Deployment-wide metrics kept in Redis, so every API process, worker and host counts into one place.

Counters live in one hash (field = metric name plus rendered labels); each histogram in a
hash of cumulative bucket counts plus sum and count. The functions' `/metrics` renders them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import redis

from contract import keys
from contract.keys import COUNTERS_KEY

AI_LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

MESSAGES_SENT = "messages_sent_total"
MESSAGES_RECEIVED = "messages_received_total"
ERRORS = "errors_total"
AI_LATENCY = "ai_latency_seconds"
WEBHOOK_DELIVERIES = "webhook_deliveries_total"
WEBHOOK_FAILURES = "webhook_failures_total"


def histogram_key(name: str) -> str:
    """Return the hash key of a histogram."""
    return keys.histogram(name)


def series(name: str, labels: Mapping[str, str] | None = None) -> str:
    """Render `name{k="v",…}` with labels sorted, as Prometheus writes it."""
    if not labels:
        return name
    inner = ",".join(f'{k}="{_escape(str(v))}"' for k, v in sorted(labels.items()))
    return f"{name}{{{inner}}}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def incr(client: redis.Redis, name: str, labels: Mapping[str, str] | None = None, amount: int = 1) -> None:
    """Add to a deployment-wide counter."""
    client.hincrby(COUNTERS_KEY, series(name, labels), amount)


def observe(
    client: redis.Redis, name: str, value: float, buckets: Sequence[float] = AI_LATENCY_BUCKETS
) -> None:
    """Record one observation in a deployment-wide histogram."""
    key = histogram_key(name)
    with client.pipeline(transaction=True) as pipe:
        for bound in buckets:
            if value <= bound:
                pipe.hincrby(key, f"le:{bound}", 1)
        pipe.hincrby(key, "le:+Inf", 1)
        pipe.hincrbyfloat(key, "sum", value)
        pipe.hincrby(key, "count", 1)
        pipe.execute()
