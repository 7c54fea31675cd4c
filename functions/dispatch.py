"""Enqueue host jobs and wait for their outcome with a deadline (blocking on Redis)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.results import Result

from contract import jobs
from contract.failures import FailureCode, JobFailure
from functions.redis_client import get_rq_redis


@dataclass(frozen=True)
class Outcome:
    """What became of a job: finished (with its value), failed (with a reason) or pending."""

    status: str
    value: Any = None
    reason: str | None = None
    code: FailureCode | None = None


def enqueue(
    name: jobs.JobName,
    payload: jobs.JobPayload,
    *,
    host_id: str | None = None,
    job_id: str | None = None,
    timeout: int = 120,
) -> Job:
    """Put a job on the queue the contract assigns to it."""
    job_id = job_id or jobs.new_job_id(name)
    return jobs.enqueue(get_rq_redis(), name, payload, host_id=host_id, job_id=job_id, timeout=timeout)


def failure_reason(exc_string: str | None) -> str:
    """Return the last line of a job's traceback (for jobs that failed without a typed reason)."""
    lines = [line for line in (exc_string or "").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "the job failed"


def failure(job: Job, result: Result | None = None) -> JobFailure:
    """Return why a job failed: the host's typed reason, else the traceback's last line."""
    typed = JobFailure.from_meta(job.get_meta(refresh=True))
    if typed is not None:
        return typed
    return JobFailure(FailureCode.UNKNOWN, failure_reason(result.exc_string if result is not None else None))


def _failed(job: Job, result: Result | None) -> Outcome:
    reason = failure(job, result)
    return Outcome("failed", reason=reason.message, code=reason.code)


# Each blocking read must end before the Redis client's socket timeout (5 s) fires.
BLOCK_SECONDS = 2


def wait(job: Job, timeout: float) -> Outcome:
    """Block until the job has a result or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        # rq blocks in whole seconds; 0 means a single look without blocking.
        block = min(BLOCK_SECONDS, math.ceil(remaining)) if remaining > 0 else 0
        result = job.latest_result(timeout=block)
        if result is not None:
            break
        if job.get_status(refresh=True) == JobStatus.FAILED:
            return _failed(job, None)
        if block == 0 or time.monotonic() >= deadline:
            return Outcome("pending")
    if result.type == Result.Type.SUCCESSFUL:
        return Outcome("finished", value=result.return_value)
    return _failed(job, result)


def fetch(job_id: str) -> Job | None:
    """Return a job by id, or None when it does not exist (or has expired, or cannot be an id)."""
    try:
        return Job.fetch(job_id, connection=get_rq_redis(), serializer=jobs.SERIALIZER)
    except (NoSuchJobError, ValueError):  # rq refuses ids with other than letters, digits, _ and -
        return None
