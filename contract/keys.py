"""Every Redis key the gateway writes, built in one place.

All keys start with PREFIX. The API (`functions/`), the session hosts (`session_host/`) and
operators reading Redis by hand share these formats, so a key changes here or nowhere.
Keys that hold one agent's data carry the agent id right after the kind, so
`SCAN wagw:*:<agentId>*` finds most of them.
"""

from __future__ import annotations

PREFIX = "wagw"

# --- session hosts and live state (contract.hosts, contract.live) ---
HOSTS_KEY = f"{PREFIX}:hosts"
ACTIVE_KEY = f"{PREFIX}:sessions:active"


def host(host_id: str) -> str:
    """Return the hash describing a host (capacity, heartbeat, queue)."""
    return f"{PREFIX}:host:{host_id}"


def host_agents(host_id: str) -> str:
    """Return the set of the agents a host owns."""
    return f"{PREFIX}:host:{host_id}:agents"


def host_resume(host_id: str) -> str:
    """Return the set of agents a host ran when it stopped, to reopen on its next start."""
    return f"{PREFIX}:host:{host_id}:resume"


def owner(agent_id: str) -> str:
    """Return the key naming the host that owns an agent."""
    return f"{PREFIX}:agent:{agent_id}:owner"


def live(agent_id: str) -> str:
    """Return the hash of an agent's live session state."""
    return f"{PREFIX}:agent:{agent_id}:live"


def live_channel(agent_id: str) -> str:
    """Return the pub/sub channel announcing changes of an agent's live state."""
    return f"{PREFIX}:agent:{agent_id}:live:changes"


def phone(agent_id: str) -> str:
    """Return the key holding the linked phone number of an agent."""
    return f"{PREFIX}:agent:{agent_id}:phone"


# --- host → API events (session_host.outbox, functions.events) ---
OUTBOX_DEAD_KEY = f"{PREFIX}:outbox:dead"


def outbox(agent_id: str) -> str:
    """Return the list of an agent's events not yet delivered to the API."""
    return f"{PREFIX}:outbox:{agent_id}"


def outbox_pending(host_id: str) -> str:
    """Return the set of agents with undelivered events pushed by a host."""
    return f"{PREFIX}:outbox:host:{host_id}"


def event_seen(event_id: str) -> str:
    """Return the marker of a host event already applied by the API (hosts retry)."""
    return f"{PREFIX}:event:{event_id}"


# --- sending (functions.sending, functions.ratelimit, functions.message_status) ---
def idempotency(agent_id: str, key_digest: str) -> str:
    """Return the record of one Idempotency-Key (given as a digest, never the raw key)."""
    return f"{PREFIX}:idem:{agent_id}:{key_digest}"


def rate_bucket(agent_id: str) -> str:
    """Return the hash of an agent's rate-limit bucket."""
    return f"{PREFIX}:ratelimit:{agent_id}"


MESSAGE_PREFIX = f"{PREFIX}:msg"


def message(agent_id: str, message_id: str) -> str:
    """Return the hash of one sent message's status."""
    return f"{MESSAGE_PREFIX}:{agent_id}:id:{message_id}"


def message_job(agent_id: str, job_id: str) -> str:
    """Return the hash of a send not yet given a message id (then a pointer to it)."""
    return f"{MESSAGE_PREFIX}:{agent_id}:job:{job_id}"


# --- mailboxes: inbound messages and webhook deliveries (functions.mailbox) ---
INBOUND_PREFIX = f"{PREFIX}:inbound"
WEBHOOKS_PREFIX = f"{PREFIX}:webhooks"


def boxes(prefix: str) -> str:
    """Return the set of boxes with mail among the mailboxes under `prefix`."""
    return f"{prefix}:boxes"


def box(prefix: str, agent_id: str, chat_id: str) -> str:
    """Return the list of one box's pending entries (a chat, or a webhook receiver)."""
    return f"{prefix}:box:{agent_id}:{chat_id}"


def box_lease(box_key: str) -> str:
    """Return the lease of a box: who is draining it."""
    return f"{box_key}:lease"


def box_attempts(box_key: str) -> str:
    """Return the hash counting failed tries per entry of a box."""
    return f"{box_key}:attempts"


def inbound_seen(agent_id: str, message_id: str) -> str:
    """Return the marker of a WhatsApp message id already accepted."""
    return f"{INBOUND_PREFIX}:seen:{agent_id}:{message_id}"


def inbound_done(agent_id: str, message_id: str) -> str:
    """Return the marker of a message answered (or given up on): its outcome."""
    return f"{INBOUND_PREFIX}:done:{agent_id}:{message_id}"


def inbound_attempts(agent_id: str, message_id: str) -> str:
    """Return the counter of failed tries of one inbound message."""
    return f"{INBOUND_PREFIX}:attempts:{agent_id}:{message_id}"


# --- webhooks (functions.webhooks) ---
WEBHOOKS_DUE_KEY = f"{WEBHOOKS_PREFIX}:due"


def webhooks_config(agent_id: str) -> str:
    """Return the key holding an agent's webhook list."""
    return f"{WEBHOOKS_PREFIX}:config:{agent_id}"


def webhooks_sequence(agent_id: str) -> str:
    """Return the counter numbering an agent's webhook events."""
    return f"{WEBHOOKS_PREFIX}:seq:{agent_id}"


def webhooks_seen(event_id: str) -> str:
    """Return the marker of a webhook event id already queued."""
    return f"{WEBHOOKS_PREFIX}:seen:{event_id}"


# --- the rest ---
COUNTERS_KEY = f"{PREFIX}:metrics:counters"


def histogram(name: str) -> str:
    """Return the hash of one histogram shared by all processes."""
    return f"{PREFIX}:metrics:hist:{name}"


def auth_resync(agent_id: str) -> str:
    """Return the key that debounces an agent's API key re-sync."""
    return f"{PREFIX}:auth:resync:{agent_id}"


def alert_throttle(agent_id: str) -> str:
    """Return the key that holds an agent's developer-alert window."""
    return f"{PREFIX}:alert:throttle:{agent_id}"
