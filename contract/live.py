"""Per-agent live session state in Redis: written only by the owning host, read by all.

The hash `wagw:agent:<id>:live` holds the current state; every change is also published
on `wagw:agent:<id>:live:changes` so readers can block on Redis instead of polling.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

import redis

from contract import keys
from contract.keys import ACTIVE_KEY
from contract.wire import WireModel, iso, utcnow


class SessionState(StrEnum):
    """Life cycle of one agent's WhatsApp session as the host sees it."""

    STARTING = "starting"
    AWAITING_QR = "awaiting_qr"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    AUTH_FAILED = "auth_failed"
    FAILED = "failed"
    STOPPED = "stopped"


class LiveState(WireModel):
    """The live state of one session, as stored in Redis and answered by the API."""

    agent_id: str
    state: SessionState
    is_ready: bool = False
    qr: str | None = None
    qr_updated_at: datetime | None = None
    ready_at: datetime | None = None
    pairing_code: str | None = None
    reason: str | None = None
    host: str | None = None
    updated_at: datetime | None = None
    # WhatsApp accepted the saved login and nothing has revoked it since (logout, new QR,
    # auth failure): a restore or takeover of this session needs no QR.
    logged_in: bool = False
    # The number the device is linked as (digits), kept while logged in, so a host that
    # republishes its state after Redis lost it restores the number too.
    phone: str | None = None

    @property
    def resuming(self) -> bool:
        """Tell whether a logged-in session is being reopened (restart, crash restart, takeover)."""
        return self.logged_in and self.state in (SessionState.STARTING, SessionState.DISCONNECTED)


def live_key(agent_id: str) -> str:
    """Return the Redis hash key of an agent's live state."""
    return keys.live(agent_id)


# The disconnect reason the bridge reports when the device was logged out (PROTOCOL.md).
LOGGED_OUT_REASON = "logout"
_LOGIN_LOST = {SessionState.AWAITING_QR, SessionState.AUTH_FAILED}


def live_channel(agent_id: str) -> str:
    """Return the pub/sub channel announcing changes of an agent's live state."""
    return keys.live_channel(agent_id)


def _to_hash(state: LiveState) -> dict[str, str]:
    wire = state.to_wire()
    return {k: json.dumps(v) for k, v in wire.items() if v is not None}


def _from_hash(raw: dict[str, str]) -> LiveState | None:
    if not raw:
        return None
    return LiveState.from_wire({k: json.loads(v) for k, v in raw.items()})


class LiveStateStore:
    """Read, change and wait for live session state (client must use decode_responses=True)."""

    def __init__(self, client: redis.Redis):
        self.client = client

    def get(self, agent_id: str) -> LiveState | None:
        """Return the live state of an agent, or None when no host has reported one."""
        return _from_hash(self.client.hgetall(live_key(agent_id)))

    def set_state(
        self,
        agent_id: str,
        state: SessionState,
        *,
        host: str | None,
        qr: str | None = None,
        pairing_code: str | None = None,
        reason: str | None = None,
        phone: str | None = None,
    ) -> LiveState:
        """Change an agent's state; the only writer of live state. Publishes the result."""
        now = utcnow()
        previous = self.get(agent_id)
        connected = state is SessionState.CONNECTED
        waiting = state is SessionState.AWAITING_QR
        shown = qr if waiting else None
        if connected:
            logged_in = True
        elif state in _LOGIN_LOST or (state is SessionState.DISCONNECTED and reason == LOGGED_OUT_REASON):
            logged_in = False
        else:
            logged_in = bool(previous and previous.logged_in)
        new = LiveState(
            agent_id=agent_id,
            state=state,
            is_ready=connected,
            qr=shown,
            qr_updated_at=(now if shown else previous.qr_updated_at if previous else None),
            ready_at=(now if connected else previous.ready_at if previous else None),
            pairing_code=pairing_code if waiting else None,
            reason=reason,
            host=host,
            updated_at=now,
            logged_in=logged_in,
            phone=(phone or (previous.phone if previous else None)) if logged_in else None,
        )
        key = live_key(agent_id)
        with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(key)
            pipe.hset(key, mapping=_to_hash(new))
            if connected:
                pipe.sadd(ACTIVE_KEY, agent_id)
            else:
                pipe.srem(ACTIVE_KEY, agent_id)
            pipe.publish(live_channel(agent_id), json.dumps(new.to_wire()))
            pipe.execute()
        return new

    def restore(self, state: LiveState) -> bool:
        """Write back a state Redis lost (a host republishing its lanes); False when one exists."""
        key = live_key(state.agent_id)
        with self.client.pipeline(transaction=True) as pipe:
            try:
                pipe.watch(key)
                if pipe.exists(key):
                    return False
                pipe.multi()
                pipe.hset(key, mapping=_to_hash(state))
                if state.state is SessionState.CONNECTED:
                    pipe.sadd(ACTIVE_KEY, state.agent_id)
                pipe.publish(live_channel(state.agent_id), json.dumps(state.to_wire()))
                pipe.execute()
            except redis.WatchError:
                return False  # the lane itself wrote a newer state meanwhile
        return True

    def clear(self, agent_id: str, *, host: str | None) -> None:
        """Forget an agent's live state (session destroyed) and announce it as stopped."""
        gone = LiveState(agent_id=agent_id, state=SessionState.STOPPED, host=host, updated_at=utcnow())
        with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(live_key(agent_id))
            pipe.srem(ACTIVE_KEY, agent_id)
            pipe.publish(live_channel(agent_id), json.dumps(gone.to_wire()))
            pipe.execute()

    def active_count(self) -> int:
        """Return how many sessions are connected across the deployment."""
        return self.client.scard(ACTIVE_KEY)

    def wait_for(
        self, agent_id: str, predicate: Callable[[LiveState], bool], timeout: float
    ) -> LiveState | None:
        """Block until the live state satisfies `predicate` or `timeout` seconds pass.

        Subscribes before reading the current value, so a change made between the read
        and the wait is never missed. Returns the matching state, or None on timeout.
        """
        deadline = time.monotonic() + timeout
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(live_channel(agent_id))
            current = self.get(agent_id)
            if current is not None and predicate(current):
                return current
            while (remaining := deadline - time.monotonic()) > 0:
                message = pubsub.get_message(timeout=remaining)
                if message is None or message.get("type") != "message":
                    continue
                state = LiveState.from_wire(json.loads(message["data"]))
                if predicate(state):
                    return state
            return None
        finally:
            pubsub.close()


def timestamps(state: LiveState | None) -> dict[str, str | None]:
    """Return the API's `timestamps` object for a live state."""
    if state is None:
        return {"qrUpdatedAt": None, "readyAt": None, "updatedAt": None}
    return {
        "qrUpdatedAt": iso(state.qr_updated_at),
        "readyAt": iso(state.ready_at),
        "updatedAt": iso(state.updated_at),
    }
