"""Send admission: whether a send is queued for an agent's session, or refused and why.

A send is queued (and waits on the agent's queue like any other) while the session is
connected, and while a session that is logged in is being reopened: a host restart, a
Chrome crash restart, or a takeover by another host after its owner died. It is refused
409 SESSION_NOT_READY when the session needs a QR, was logged out, failed, or never ran.

When Redis holds no live state for an agent whose record says it was linked, Redis has lost
its contents (restarted empty, failed over): the hosts re-assert their sessions within a
heartbeat, so the send answers 503 with Retry-After instead of a false SESSION_NOT_READY.
"""

from __future__ import annotations

from contract.live import LiveState
from functions import repository
from functions.db import get_engine
from functions.errors import ServiceUnavailable, SessionNotReady
from functions.redis_client import get_live_state

# Hosts republish lost state on their next heartbeat (seconds apart), so a retry soon succeeds.
RETRY_AFTER_SECONDS = 2


def admit(agent_id: str) -> LiveState:
    """Return the live state a send may be queued behind, or raise why it may not."""
    state = get_live_state().get(agent_id)
    if state is None:
        record = repository.get_agent(get_engine(), agent_id)
        if record is not None and record["status"] in repository.LINKED_STATUSES:
            raise ServiceUnavailable(
                f"the session state of {agent_id!r} is being restored after a Redis restart; retry shortly",
                retry_after=RETRY_AFTER_SECONDS,
            )
        raise SessionNotReady(f"the WhatsApp session of {agent_id!r} is not ready (not started)")
    if state.is_ready or state.resuming:
        return state
    raise SessionNotReady(f"the WhatsApp session of {agent_id!r} is not ready ({state.state.value})")
