"""Jobs a dead host had started fail at once, with a reason, when another host takes the agent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from rq import Queue, Worker
from rq.job import JobStatus
from rq.results import Result

from contract.failures import FailureCode, JobFailure
from contract.jobs import SERIALIZER, agent_queue_name
from session_host.host import fail_interrupted


@pytest.fixture
def rq_connection(redis_url: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_url)
    yield connection
    connection.close()


def test_a_send_the_dead_host_had_started_is_failed_as_host_lost_and_a_queued_one_is_kept(rq_connection):
    queue = Queue(agent_queue_name("agent-cut"), connection=rq_connection, serializer=SERIALIZER)
    started = queue.enqueue("session_host.jobs.send_text", {"agentId": "agent-cut"})
    waiting = queue.enqueue("session_host.jobs.send_text", {"agentId": "agent-cut"})
    # host-a's lane worker took the first job and died while running it
    dead_worker = Worker([queue], name="host-a.agent-cut.1", connection=rq_connection, serializer=SERIALIZER)
    queue.pop_job_id()
    dead_worker.prepare_execution(started)
    dead_worker.prepare_job_execution(started)
    assert started.get_status(refresh=True) == JobStatus.STARTED

    assert fail_interrupted(rq_connection, "agent-cut", "host-a") == [started.id]

    assert started.get_status(refresh=True) == JobStatus.FAILED
    failure = JobFailure.from_meta(started.get_meta(refresh=True))
    assert failure is not None and failure.code is FailureCode.HOST_LOST and "host-a" in failure.message
    assert started.id in queue.failed_job_registry.get_job_ids()
    result = started.latest_result()
    assert result is not None and result.type == Result.Type.FAILED  # a waiting API call sees it
    # the job still waiting in the queue is untouched: the new lane runs it
    assert waiting.get_status(refresh=True) == JobStatus.QUEUED
    assert queue.get_job_ids() == [waiting.id]
    assert fail_interrupted(rq_connection, "agent-cut", "host-a") == []
