"""CloudWatch gauges the alarms and the worker scaling policy read, published by the workers.

Real Redis and RQ; CloudWatch is moto's server, reached over HTTP by a real worker process.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import boto3
import pytest
import redis
from botocore.config import Config
from rq import Queue, SimpleWorker, Worker

from contract import cloudwatch, jobs, metrics
from contract.hosts import HostRegistry
from devstack.process import free_port
from tests.functions.inbound_stack import stack_settings, start_worker
from tests.support.aws import aws_env, latest, moto_server
from tests.support.waiting import wait_until

NAMESPACE = "WAGW/test"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


def raw_client(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url)


def test_gauges_read_queue_depth_backlog_failed_jobs_error_totals_and_live_hosts(redis_url, redis_client):
    rq_client = raw_client(redis_url)
    inbound = Queue(jobs.INBOUND_QUEUE, connection=rq_client, serializer=jobs.SERIALIZER)
    for n in range(4):
        inbound.enqueue("functions.worker.drain", {"agentId": "a", "chatId": f"c{n}"})
    for n in range(2):  # two workers listening on inbound: the backlog per worker halves
        Worker([inbound], connection=rq_client, serializer=jobs.SERIALIZER, name=f"w{n}").register_birth()
    failing = Queue("tests-failing", connection=rq_client, serializer=jobs.SERIALIZER)
    failing.enqueue("builtins.int", "not a number")
    SimpleWorker([failing], connection=rq_client, serializer=jobs.SERIALIZER).work(burst=True)
    metrics.incr(redis_client, metrics.ERRORS, {"code": "SERVICE_UNAVAILABLE"}, amount=4)
    metrics.incr(redis_client, metrics.ERRORS, {"code": "AI_TIMEOUT"}, amount=2)
    metrics.incr(redis_client, metrics.ERRORS, {"code": "AI_DOWNSTREAM_ERROR"})
    metrics.incr(redis_client, metrics.ERRORS, {"code": "RATE_LIMITED"}, amount=9)  # neither
    now = time.time()
    registry = HostRegistry(redis_client, ttl=15)
    registry.register("alive", 10, now)
    registry.register("silent", 10, now - 60)

    values = {d.name: d.value for d in cloudwatch.deployment_gauges(redis_client, rq_client, now, 15)}

    assert values == {
        cloudwatch.INBOUND_QUEUE_DEPTH: 4,
        cloudwatch.INBOUND_BACKLOG_PER_WORKER: 2.0,
        cloudwatch.FAILED_JOBS: 1,
        cloudwatch.SERVICE_UNAVAILABLE_ERRORS: 4,
        cloudwatch.AI_FAILURES: 3,
        cloudwatch.LIVE_SESSION_HOSTS: 1,
        cloudwatch.SESSIONS_ACTIVE: 0,
    }


def test_a_running_worker_publishes_the_gauges_every_interval(
    redis_url, redis_client, pg_url, run_dir, moto_url, monkeypatch
):
    for name, value in aws_env(moto_url).items():
        monkeypatch.setenv(name, value)
    metrics.incr(redis_client, metrics.ERRORS, {"code": "SERVICE_UNAVAILABLE"}, amount=3)
    HostRegistry(redis_client, ttl=15).register("host-a", 10, time.time() + 3600)  # stays live
    settings = stack_settings(
        redis_url,
        pg_url,
        "http://127.0.0.1:9",
        run_dir,
        cloudwatch_namespace=NAMESPACE,
        metrics_publish_seconds=0.3,
    )
    worker = start_worker(settings, run_dir, "cloudwatch-worker")
    try:
        assert wait_until(lambda: latest(moto_url, NAMESPACE, cloudwatch.SERVICE_UNAVAILABLE_ERRORS) == 3, 20)
        assert latest(moto_url, NAMESPACE, cloudwatch.LIVE_SESSION_HOSTS) == 1
        # Published again each interval: a new total shows without a restart.
        metrics.incr(redis_client, metrics.ERRORS, {"code": "AI_TIMEOUT"}, amount=5)
        assert wait_until(lambda: latest(moto_url, NAMESPACE, cloudwatch.AI_FAILURES) == 5, 20)
    finally:
        assert worker.stop() == 0, worker.log()[-2000:]


def test_a_publish_cloudwatch_refuses_is_counted_and_never_raised(redis_client):
    unreachable = boto3.client(
        "cloudwatch",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        region_name="ap-southeast-3",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    publisher = cloudwatch.Publisher(NAMESPACE, unreachable, counters=redis_client)

    assert publisher.put([cloudwatch.Datum(cloudwatch.FAILED_JOBS, 1)]) is False
    failed = metrics.series(metrics.ERRORS, {"code": cloudwatch.PUBLISH_FAILED})
    assert redis_client.hget(metrics.COUNTERS_KEY, failed) == "1"
