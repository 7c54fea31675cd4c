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
    SEND_LOCATION = "session_host.jobs.send_location"
    SEND_CONTACTS = "session_host.jobs.send_contacts"
    SEND_POLL = "session_host.jobs.send_poll"
    REACT = "session_host.jobs.react"
    MARK_SEEN = "session_host.jobs.mark_seen"
    EDIT_MESSAGE = "session_host.jobs.edit_message"
    DELETE_MESSAGE = "session_host.jobs.delete_message"
    DOWNLOAD_MEDIA = "session_host.jobs.download_media"


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


def media_kind(mime_type: str) -> str:
    """Return the WhatsApp message type a file of this MIME type is sent as."""
    major = mime_type.split("/", 1)[0]
    return major if major in ("image", "video", "audio") else "document"


class SendMedia(JobPayload):
    """Send a media file with an optional caption."""

    to: str
    media: MediaRef
    caption: str | None = None


class SendLocation(JobPayload):
    """Send a location pin, optionally named, with an address, as a reply."""

    to: str
    latitude: float
    longitude: float
    name: str | None = None
    address: str | None = None
    quoted_message_id: str | None = None


class Contact(WireModel):
    """One contact card: a display name and a phone number (digits)."""

    name: str
    phone: str


class SendContacts(JobPayload):
    """Send one or more contact cards (vCards)."""

    to: str
    contacts: list[Contact]


class SendPoll(JobPayload):
    """Send a poll: a question, its options and how many one may choose (0 = any number)."""

    to: str
    name: str
    options: list[str]
    selectable_count: int = 1


class React(JobPayload):
    """React to a message with an emoji ("" takes the reaction back)."""

    message_id: str
    emoji: str


class MarkSeen(JobPayload):
    """Mark a chat read, as a person opening it does."""

    chat_id: str


class EditMessage(JobPayload):
    """Change the text of one of our own recent text messages."""

    message_id: str
    text: str


class DeleteMessage(JobPayload):
    """Delete one of our own messages for everyone."""

    message_id: str


class DownloadMedia(JobPayload):
    """Fetch a received message's media through the page and store it (at most `max_bytes`)."""

    message_id: str
    max_bytes: int


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
    SendLocation: JobName.SEND_LOCATION,
    SendContacts: JobName.SEND_CONTACTS,
    SendPoll: JobName.SEND_POLL,
    React: JobName.REACT,
    MarkSeen: JobName.MARK_SEEN,
    EditMessage: JobName.EDIT_MESSAGE,
    DeleteMessage: JobName.DELETE_MESSAGE,
    DownloadMedia: JobName.DOWNLOAD_MEDIA,
}


def job_name(payload: JobPayload) -> JobName:
    """Return the host entry point that performs a payload."""
    return _JOB_OF[type(payload)]


class SendResult(WireModel):
    """What a send job returns."""

    message_id: str
    timestamp: datetime | None = None


class ActionResult(WireModel):
    """What a reaction, seen, edit or delete job returns."""

    done: bool = True
    message_id: str | None = None


class DownloadResult(WireModel):
    """What a media download job returns: where the bytes are, or only what they are."""

    media: MediaRef | None = None
    mime_type: str
    filename: str | None = None
    size: int
    sha256: str | None = None
    too_large: bool = False


class PairingCodeResult(WireModel):
    """What a pairing-code job returns."""

    code: str


PAYLOAD_OF: dict[JobName, type[JobPayload]] = {name: payload for payload, name in _JOB_OF.items()}


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
