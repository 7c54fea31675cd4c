"""RQ jobs the functions enqueue for the session host, by dotted name with JSON payloads.

The stateless side never imports the host: it enqueues `JobName.*` strings on the queue
this module names, with one positional argument, the payload's `to_wire()` dict. The host
re-validates the payload with the same model before acting.

Queues: lifecycle jobs (ensure, destroy) go to the owning host's queue; everything that
acts inside one agent's session goes to that agent's own queue, so queued sends survive a
host dying and are consumed, in order, by whichever host owns the agent next.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Literal

from redis import Redis
from rq import Queue
from rq.job import Job
from rq.serializers import JSONSerializer

from contract.wire import WireModel

SERIALIZER = JSONSerializer
INBOUND_QUEUE = "wagw-inbound"
WEBHOOKS_QUEUE = "wagw-webhooks"


def host_queue_name(host_id: str) -> str:
    """Return the RQ queue a host consumes for lifecycle jobs."""
    return f"wagw-host-{host_id}"


def agent_queue_name(agent_id: str) -> str:
    """Return the RQ queue of jobs acting inside one agent's session."""
    return f"wagw-agent-{agent_id}"


class JobName(StrEnum):
    """Dotted paths of the host's RQ entry points."""

    ENSURE = "session_host.jobs.ensure"
    DESTROY = "session_host.jobs.destroy"
    SEND_TEXT = "session_host.jobs.send_text"
    SEND_MEDIA = "session_host.jobs.send_media"
    TYPING = "session_host.jobs.typing"
    LOGOUT = "session_host.jobs.logout"
    PAIRING_CODE = "session_host.jobs.pairing_code"


HOST_JOBS = frozenset({JobName.ENSURE, JobName.DESTROY})


class WorkerJob(StrEnum):
    """Dotted paths of the workers' own RQ entry points (`functions.worker` runs them)."""

    INBOUND_DRAIN = "functions.worker.drain"
    WEBHOOKS_DRAIN = "functions.webhooks.delivery.drain"
    WEBHOOKS_REDELIVER = "functions.webhooks.delivery.redeliver"


def new_job_id(name: str, label: str | None = None) -> str:
    """Return a fresh job id: `label` (by default the entry point's last name), a dash, random hex."""
    return f"{label or name.rsplit('.', 1)[-1]}-{uuid.uuid4().hex}"


class JobPayload(WireModel):
    """Fields every job carries.

    `not_before` is the rate limiter's slot: the host must not perform the job earlier.
    """

    agent_id: str
    trace_id: str | None = None
    not_before: datetime | None = None


class EnsureSession(JobPayload):
    """Start the agent's browser session if it is not running (no-op when it is)."""


class DestroySession(JobPayload):
    """Stop the agent's browser; with `delete_auth`, also remove its saved login."""

    delete_auth: bool = False


class SendText(JobPayload):
    """Send a text message, optionally as a reply to `quoted_message_id`."""

    to: str
    text: str
    quoted_message_id: str | None = None


class MediaRef(WireModel):
    """Where the functions stored a media file for the host to read (never the bytes)."""

    kind: Literal["file", "s3"]
    path: str | None = None
    bucket: str | None = None
    key: str | None = None
    filename: str
    mime_type: str
    size: int


class SendMedia(JobPayload):
    """Send a media file with an optional caption."""

    to: str
    media: MediaRef
    caption: str | None = None


class SetTyping(JobPayload):
    """Show or clear "typing…" in a chat."""

    chat_id: str
    typing: bool


class Logout(JobPayload):
    """Log the linked device out of WhatsApp."""


class RequestPairingCode(JobPayload):
    """Ask WhatsApp for an 8-character code to link by phone number instead of QR."""

    phone_number: str


_JOB_OF: dict[type[JobPayload], JobName] = {
    EnsureSession: JobName.ENSURE,
    DestroySession: JobName.DESTROY,
    SendText: JobName.SEND_TEXT,
    SendMedia: JobName.SEND_MEDIA,
    SetTyping: JobName.TYPING,
    Logout: JobName.LOGOUT,
    RequestPairingCode: JobName.PAIRING_CODE,
}


def job_name(payload: JobPayload) -> JobName:
    """Return the host entry point that performs a payload."""
    return _JOB_OF[type(payload)]


class SendResult(WireModel):
    """What a send job returns."""

    message_id: str
    timestamp: datetime | None = None


class PairingCodeResult(WireModel):
    """What a pairing-code job returns."""

    code: str


PAYLOAD_OF: dict[JobName, type[JobPayload]] = {
    JobName.ENSURE: EnsureSession,
    JobName.DESTROY: DestroySession,
    JobName.SEND_TEXT: SendText,
    JobName.SEND_MEDIA: SendMedia,
    JobName.TYPING: SetTyping,
    JobName.LOGOUT: Logout,
    JobName.PAIRING_CODE: RequestPairingCode,
}


def queue_for(connection: Redis, name: JobName, payload: JobPayload, host_id: str | None) -> Queue:
    """Return the queue a job belongs on (`host_id` is needed for lifecycle jobs)."""
    if name in HOST_JOBS:
        if not host_id:
            raise ValueError(f"{name} needs the owning host")
        queue_name = host_queue_name(host_id)
    else:
        queue_name = agent_queue_name(payload.agent_id)
    return Queue(queue_name, connection=connection, serializer=SERIALIZER)


def enqueue(
    connection: Redis,
    name: JobName,
    payload: JobPayload,
    *,
    host_id: str | None = None,
    job_id: str | None = None,
    timeout: int = 120,
    result_ttl: int = 86400,
    ttl: int | None = None,
) -> Job:
    """Enqueue a host job by dotted name (connection must NOT decode responses)."""
    if not isinstance(payload, PAYLOAD_OF[name]):
        raise TypeError(f"{name} takes {PAYLOAD_OF[name].__name__}, not {type(payload).__name__}")
    queue = queue_for(connection, name, payload, host_id)
    return queue.enqueue_call(
        str(name),
        args=(payload.to_wire(),),
        job_id=job_id,
        timeout=timeout,
        result_ttl=result_ttl,
        failure_ttl=7 * 86400,
        ttl=ttl,
        meta={"agentId": payload.agent_id, "traceId": payload.trace_id},
    )
