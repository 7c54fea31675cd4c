"""The host's own Prometheus metrics on a local port: sessions, Chrome memory, job latency."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

REGISTRY = CollectorRegistry(auto_describe=True)

JOB_SECONDS = Histogram(
    "wagw_host_job_seconds",
    "Time to perform one job, by job name and outcome.",
    ["job", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
    registry=REGISTRY,
)
CHROME_RESTARTS = Counter(
    "wagw_host_chrome_restarts_total", "Chromes restarted after a crash.", registry=REGISTRY
)
EVENTS_DELIVERED = Counter(
    "wagw_host_events_delivered_total", "Events accepted by the functions.", registry=REGISTRY
)
EVENTS_RETRIED = Counter(
    "wagw_host_events_retried_total", "Event delivery rounds that failed.", registry=REGISTRY
)
EVENTS_REJECTED = Counter(
    "wagw_host_events_rejected_total", "Events the functions refused (dead-lettered).", registry=REGISTRY
)
REDIS_RECONNECTS = Counter(
    "wagw_host_redis_reconnects_total",
    "Redis connections that broke and connected again (a restart, a failover).",
    registry=REGISTRY,
)
EVENTS_DROPPED = Counter(
    "wagw_host_events_dropped_total", "Events dropped because an agent's outbox was full.", registry=REGISTRY
)


class SessionCollector(Collector):
    """Read sessions and their Chrome memory at scrape time, not on a timer."""

    def __init__(self, snapshot: Callable[[], Iterable[tuple[str, str, int]]], pending: Callable[[], int]):
        self._snapshot = snapshot
        self._pending = pending

    def collect(self):
        """Yield the session gauges."""
        sessions = GaugeMetricFamily(
            "wagw_host_sessions", "Sessions on this host by state.", labels=["state"]
        )
        memory = GaugeMetricFamily(
            "wagw_host_chrome_pss_bytes", "PSS of each session's whole Chrome tree.", labels=["agent_id"]
        )
        counts: dict[str, int] = {}
        for agent_id, state, pss in self._snapshot():
            counts[state] = counts.get(state, 0) + 1
            memory.add_metric([agent_id], pss)
        for state, count in counts.items():
            sessions.add_metric([state], count)
        yield sessions
        yield memory
        yield GaugeMetricFamily(
            "wagw_host_events_pending", "Events waiting for delivery.", value=self._pending()
        )


def serve(port: int, address: str) -> None:
    """Expose `/metrics` on a local port (0 disables it)."""
    if port:
        start_http_server(port, addr=address, registry=REGISTRY)
