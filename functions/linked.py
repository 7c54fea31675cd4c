"""The linked device of an agent: the number it is connected as, and logging it out."""

from __future__ import annotations

from typing import Any

from flask import current_app

from contract import jobs, keys
from functions import dispatch, repository
from functions.db import get_engine
from functions.errors import BadGateway, SessionNotFound, SessionNotReady
from functions.redis_client import get_live_state, get_redis
from functions.tracing import current_trace_id


def phone_key(agent_id: str) -> str:
    """Return the Redis key holding the linked phone number of an agent."""
    return keys.phone(agent_id)


def remember(agent_id: str, phone: str | None) -> None:
    """Keep the number a session connected as (digits, no '+')."""
    if phone:
        get_redis().set(phone_key(agent_id), phone)


def forget(agent_id: str) -> None:
    """Drop the number when the agent is deleted, logged out or its login is cleared."""
    get_redis().delete(phone_key(agent_id))


def phone_of(agent_id: str) -> str | None:
    """Return the number the agent is linked to, if one was reported."""
    return get_redis().get(phone_key(agent_id))


def logout(agent_id: str) -> dict[str, Any]:
    """Log the agent's linked device out of WhatsApp; the session then shows a new QR."""
    if repository.get_agent(get_engine(), agent_id) is None:
        raise SessionNotFound(f"no session for agent {agent_id!r}")
    state = get_live_state().get(agent_id)
    if state is None or not state.is_ready:
        current = state.state.value if state else "not started"
        raise SessionNotReady(f"the session of {agent_id!r} is not connected ({current}); nothing to log out")
    payload = jobs.Logout(agent_id=agent_id, trace_id=current_trace_id())
    job = dispatch.enqueue(jobs.JobName.LOGOUT, payload)
    outcome = dispatch.wait(job, current_app.config["SETTINGS"].stop_wait_seconds)
    if outcome.status == "failed":
        raise BadGateway(f"the session host could not log out: {outcome.reason}")
    if outcome.status == "finished":
        forget(agent_id)
    logged_out = outcome.status == "finished"
    return {"agentId": agent_id, "loggedOut": logged_out, "jobId": job.id}
