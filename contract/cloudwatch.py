"""CloudWatch metrics the alarms and scaling policies of `infra/terraform` read.

Two publishers feed one namespace (CLOUDWATCH_NAMESPACE; empty = nothing is published):

- every session host, once a minute, its own `SessionsPerHost` with the dimension
  `AutoScalingGroupName`, so a target-tracking policy averages it over the group;
- every inbound worker, once a minute, the deployment-wide gauges read from Redis
  (`deployment_gauges`). Several workers publish the same values; alarms read `Maximum`.

Counters are published as their running totals (they live in Redis and never go down except
when Redis loses its data); an alarm on growth uses the metric math `DIFF`. A failed publish
is logged and counted (`errors_total{code="METRICS_PUBLISH_FAILED"}`), never raised: metrics
must not stop a host or a worker.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis
from rq import Queue, Worker
from rq.registry import FailedJobRegistry

from contract import jobs, keys, logs, metrics
from contract.hosts import HostRegistry
from contract.live import LiveStateStore

log = logs.get_logger(__name__)

# Names shared with infra/terraform/modules/{observability,session_hosts,worker}.
SESSIONS_PER_HOST = "SessionsPerHost"
INBOUND_QUEUE_DEPTH = "InboundQueueDepth"
INBOUND_BACKLOG_PER_WORKER = "InboundBacklogPerWorker"
FAILED_JOBS = "FailedJobs"
SERVICE_UNAVAILABLE_ERRORS = "ServiceUnavailableErrors"
AI_FAILURES = "AiFailures"
LIVE_SESSION_HOSTS = "LiveSessionHosts"
SESSIONS_ACTIVE = "SessionsActive"
GROUP_DIMENSION = "AutoScalingGroupName"
PUBLISH_FAILED = "METRICS_PUBLISH_FAILED"
_BATCH = 1000  # PutMetricData accepts up to 1000 values per call


@dataclass(frozen=True)
class Datum:
    """One value of one metric."""

    name: str
    value: float
    unit: str = "Count"
    dimensions: dict[str, str] = field(default_factory=dict)

    def wire(self) -> dict[str, Any]:
        """Return the PutMetricData shape."""
        item: dict[str, Any] = {"MetricName": self.name, "Value": float(self.value), "Unit": self.unit}
        if self.dimensions:
            item["Dimensions"] = [{"Name": k, "Value": v} for k, v in sorted(self.dimensions.items())]
        return item


class Publisher:
    """Puts data into one CloudWatch namespace; boto3 is imported only when one is configured."""

    def __init__(self, namespace: str, client: Any = None, counters: redis.Redis | None = None) -> None:
        self.namespace = namespace
        self._client = client
        self._counters = counters

    def _cloudwatch(self) -> Any:
        if self._client is None:
            import boto3  # the hosts, the workers and the Lambda runtime all have it

            self._client = boto3.client("cloudwatch")
        return self._client

    def put(self, data: Sequence[Datum]) -> bool:
        """Publish `data`; return False (logged and counted) when CloudWatch refused or was unreachable."""
        try:
            client = self._cloudwatch()
            for start in range(0, len(data), _BATCH):
                batch = [d.wire() for d in data[start : start + _BATCH]]
                client.put_metric_data(Namespace=self.namespace, MetricData=batch)
        except Exception as exc:  # botocore's errors, or no credentials: never fatal
            log.warning("could not publish metrics", namespace=self.namespace, error=str(exc))
            if self._counters is not None:
                with contextlib.suppress(redis.RedisError):
                    metrics.incr(self._counters, metrics.ERRORS, {"code": PUBLISH_FAILED})
            return False
        return True


def deployment_gauges(
    client: redis.Redis, rq_client: redis.Redis, now: float, host_ttl: float
) -> list[Datum]:
    """Read the deployment-wide values the alarms and the worker scaling policy watch."""
    inbound = Queue(jobs.INBOUND_QUEUE, connection=rq_client, serializer=jobs.SERIALIZER)
    depth = inbound.count
    workers = Worker.count(queue=inbound)
    failed = 0
    for queue in Queue.all(connection=rq_client, serializer=jobs.SERIALIZER):
        failed += FailedJobRegistry(queue=queue).count
    counters = client.hgetall(keys.COUNTERS_KEY)
    unavailable = int(counters.get(metrics.series(metrics.ERRORS, {"code": "SERVICE_UNAVAILABLE"}), 0))
    ai_failures = sum(
        int(value) for series, value in counters.items() if series.startswith(f'{metrics.ERRORS}{{code="AI_')
    )
    return [
        Datum(INBOUND_QUEUE_DEPTH, depth),
        Datum(INBOUND_BACKLOG_PER_WORKER, depth / max(workers, 1)),
        Datum(FAILED_JOBS, failed),
        Datum(SERVICE_UNAVAILABLE_ERRORS, unavailable),
        Datum(AI_FAILURES, ai_failures),
        Datum(LIVE_SESSION_HOSTS, len(HostRegistry(client, host_ttl).live_hosts(now))),
        Datum(SESSIONS_ACTIVE, LiveStateStore(client).active_count()),
    ]


def every(interval: float, stop: threading.Event, tick: Callable[[], None], name: str) -> threading.Thread:
    """Run `tick` now and then every `interval` seconds until `stop` is set, in a daemon thread."""

    def loop() -> None:
        while True:
            try:
                tick()
            except Exception:
                log.exception("metrics tick failed", publisher=name)
            if stop.wait(interval):
                return

    thread = threading.Thread(target=loop, name=name, daemon=True)
    thread.start()
    return thread
