"""Admin view of RQ jobs: an agent's jobs by state, and requeueing a failed one.

The same registries the `/rq` dashboard shows, as JSON in the standard envelope, so the CLI
and scripts do not depend on the dashboard's page endpoints.
"""

from __future__ import annotations

from typing import Any

from rq import Queue
from rq.exceptions import InvalidJobOperation
from rq.job import Job
from rq.registry import BaseRegistry

from contract import jobs
from contract.wire import iso
from functions import dispatch
from functions.errors import InvalidPayload, JobNotFailed, JobNotFound
from functions.redis_client import get_rq_redis
from functions.schemas import JOB_STATES

STATES = JOB_STATES
_OUR_QUEUES = "wagw-"


def _queue(agent_id: str) -> Queue:
    return Queue(jobs.agent_queue_name(agent_id), connection=get_rq_redis(), serializer=jobs.SERIALIZER)


def _registry(queue: Queue, state: str) -> BaseRegistry:
    return getattr(queue, f"{state}_job_registry")


def _job_ids(queue: Queue, state: str, limit: int) -> list[str]:
    if state == "queued":
        return queue.get_job_ids(0, limit - 1)
    # Newest first: an operator looks for the send that just failed.
    return _registry(queue, state).get_job_ids(0, limit - 1, desc=True)


def describe(job: Job) -> dict[str, Any]:
    """Render a job: type, state, recipient, times and, when it failed, why."""
    result = job.latest_result()
    failed = result is not None and result.type != result.Type.SUCCESSFUL
    args = job.args or ()
    payload = args[0] if args and isinstance(args[0], dict) else {}
    return {
        "jobId": job.id,
        "type": (job.func_name or "").rsplit(".", 1)[-1],
        "queue": job.origin,
        "status": job.get_status(refresh=False),
        "agentId": job.meta.get("agentId"),
        "to": payload.get("to"),
        "error": dispatch.failure(job, result).message if failed else None,
        "enqueuedAt": iso(job.enqueued_at),
        "endedAt": iso(job.ended_at),
        "traceId": job.meta.get("traceId"),
    }


def agent_jobs(agent_id: str, state: str | None, limit: int) -> list[dict[str, Any]]:
    """Return an agent's jobs in one state, or in every state (queued first), at most `limit`."""
    if state is not None and state not in STATES:
        raise InvalidPayload(f"status must be one of {', '.join(STATES)}")
    queue = _queue(agent_id)
    found: list[dict[str, Any]] = []
    for current in (state,) if state else STATES:
        ids = _job_ids(queue, current, limit - len(found))
        found.extend(describe(job) for job in Job.fetch_many(ids, get_rq_redis(), jobs.SERIALIZER) if job)
        if len(found) >= limit:
            break
    return found


def requeue(job_id: str) -> dict[str, Any]:
    """Put a failed job of one of the gateway's queues back on its queue."""
    job = dispatch.fetch(job_id)
    if job is None or not (job.origin or "").startswith(_OUR_QUEUES):
        raise JobNotFound(f"no job {job_id!r}")
    try:
        job.requeue()
    except InvalidJobOperation as exc:
        raise JobNotFailed(f"job {job_id!r} is {job.get_status()}; only failed jobs can be requeued") from exc
    return describe(job)
