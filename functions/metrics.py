"""`/metrics`: the deployment-wide counters kept in Redis, plus this deployment's HTTP metrics.

Business metrics (`contract.metrics`) are counted into Redis by every API process, worker
and host, so any process renders the whole deployment's totals. HTTP request metrics come
from prometheus-flask-exporter; under gunicorn several workers share them through
PROMETHEUS_MULTIPROC_DIR (set by `functions/gunicorn_conf.py`), read back here.
"""

from __future__ import annotations

import os
from collections import defaultdict

import redis
from flask import Flask, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_flask_exporter import PrometheusMetrics

from contract import metrics
from contract.live import LiveStateStore

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
SESSIONS_ACTIVE = "sessions_active"
HELP = {
    SESSIONS_ACTIVE: "WhatsApp sessions connected across the deployment.",
    metrics.MESSAGES_SENT: "Messages WhatsApp accepted from this deployment.",
    metrics.MESSAGES_RECEIVED: "Inbound WhatsApp messages received.",
    metrics.ERRORS: "Error responses and failed background work, by code.",
    metrics.AI_LATENCY: "Latency of AI backend calls in seconds.",
    metrics.WEBHOOK_DELIVERIES: "Webhook POST attempts by result (delivered, retried, failed, dropped).",
    metrics.WEBHOOK_FAILURES: "Webhook deliveries given up on (kept in RQ's failed registry).",
    "api_key_resyncs_total": "Re-syncs of an agent's API key from api_keys after a mismatch.",
}
ALWAYS_SHOWN = (metrics.MESSAGES_SENT, metrics.MESSAGES_RECEIVED, metrics.ERRORS)


def init_app(app: Flask) -> None:
    """Attach prometheus-flask-exporter (no endpoint of its own; `/metrics` renders it)."""
    if "prometheus" in app.extensions:
        return
    # A private registry per app: tests build many apps in one process.
    exporter = PrometheusMetrics(
        app, path=None, group_by="url_rule", registry=CollectorRegistry(auto_describe=True)
    )
    app.extensions["prometheus"] = exporter


def http_metrics_text(app: Flask) -> bytes:
    """Render the HTTP request metrics of every worker (or this process alone)."""
    directory = os.environ.get(MULTIPROC_ENV)
    if directory and os.path.isdir(directory):
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)
        return generate_latest(registry)
    return generate_latest(app.extensions["prometheus"].registry)


def _fmt(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def redis_metrics_text(client: redis.Redis) -> str:
    """Render the Redis-held counters, the AI latency histogram and `sessions_active`."""
    lines = [
        f"# HELP {SESSIONS_ACTIVE} {HELP[SESSIONS_ACTIVE]}",
        f"# TYPE {SESSIONS_ACTIVE} gauge",
        f"{SESSIONS_ACTIVE} {LiveStateStore(client).active_count()}",
    ]
    by_name: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for series, value in sorted(client.hgetall(metrics.COUNTERS_KEY).items()):
        by_name[series.split("{", 1)[0]].append((series, value))
    for name in ALWAYS_SHOWN:
        by_name.setdefault(name, [(name, "0")])
    for name in sorted(by_name):
        lines.append(f"# HELP {name} {HELP.get(name, name.replace('_', ' '))}")
        lines.append(f"# TYPE {name} counter")
        lines.extend(f"{series} {value}" for series, value in by_name[name])
    lines.extend(_histogram(client, metrics.AI_LATENCY, metrics.AI_LATENCY_BUCKETS))
    return "\n".join(lines) + "\n"


def _histogram(client: redis.Redis, name: str, buckets: tuple[float, ...]) -> list[str]:
    raw = client.hgetall(metrics.histogram_key(name))
    lines = [f"# HELP {name} {HELP[name]}", f"# TYPE {name} histogram"]
    for bound in buckets:
        lines.append(f'{name}_bucket{{le="{bound}"}} {raw.get(f"le:{bound}", "0")}')
    lines.append(f'{name}_bucket{{le="+Inf"}} {raw.get("le:+Inf", "0")}')
    lines.append(f"{name}_sum {_fmt(float(raw.get('sum', 0)))}")
    lines.append(f"{name}_count {raw.get('count', '0')}")
    return lines


def render(app: Flask, client: redis.Redis) -> Response:
    """Return the full Prometheus text exposition."""
    body = redis_metrics_text(client).encode() + http_metrics_text(app)
    return Response(body, mimetype="text/plain; version=0.0.4; charset=utf-8")


def count_error(client: redis.Redis, code: str) -> None:
    """Add one to `errors_total{code=…}`."""
    metrics.incr(client, metrics.ERRORS, {"code": code})
