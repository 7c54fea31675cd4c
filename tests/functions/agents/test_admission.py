"""Send admission: queued while a logged-in session reopens; 409 if it needs a QR; 503 if Redis lost it."""

from __future__ import annotations

import pytest
import redis

from contract.live import LOGGED_OUT_REASON, LiveStateStore, SessionState
from functions import repository
from functions.db import create_db_engine
from tests.functions.agents.conftest import Agent, QueueHost

BODY = {"to": "6281234567890", "message": "queued through a takeover"}


def _post(client, agent: Agent):
    return client.post(f"/agents/{agent.agent_id}/messages", json=BODY, headers=agent.auth)


def _states(redis_url: str, agent_id: str, *steps: tuple[SessionState, str | None]) -> None:
    """Play the hosts: report each (state, reason) in turn, as lanes on one or two hosts do."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    store = LiveStateStore(client)
    for state, reason in steps:
        store.set_state(
            agent_id,
            state,
            host="host-b",
            reason=reason,
            qr="2@q" if state is SessionState.AWAITING_QR else None,
        )
    client.close()


CONNECTED = (SessionState.CONNECTED, None)


@pytest.mark.parametrize(
    "reopening",
    [
        [(SessionState.STARTING, None)],  # taken over by another host, or restored by a restart
        [(SessionState.DISCONNECTED, "session host stopped"), (SessionState.STARTING, None)],
        [(SessionState.DISCONNECTED, "browser crashed: the browser process is gone")],
    ],
    ids=["takeover", "host-restart", "crash-restart"],
)
def test_a_logged_in_session_being_reopened_queues_the_send(
    make_client, agent: Agent, redis_url, queue_host: QueueHost, reopening
):
    # given a session that was connected and is being reopened with its saved login
    _states(redis_url, agent.agent_id, CONNECTED, *reopening)
    delivered: list = []
    queue_host.serve(agent.agent_id, delivered)
    # when
    response = _post(make_client(), agent)
    # then the send waited on the agent's queue like any other and was delivered once
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["delivered"] is True
    assert len(delivered) == 1


def test_a_queued_send_not_delivered_in_time_answers_202_with_its_job(
    make_client, agent: Agent, redis_url, queue_host: QueueHost
):
    _states(redis_url, agent.agent_id, CONNECTED, (SessionState.STARTING, None))
    response = _post(make_client(send_wait_seconds=0.5), agent)
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    assert body["delivered"] is False
    assert queue_host.job_ids(agent.agent_id) == [body["jobId"]]


@pytest.mark.parametrize(
    "after",
    [
        [(SessionState.DISCONNECTED, LOGGED_OUT_REASON)],
        [(SessionState.DISCONNECTED, LOGGED_OUT_REASON), (SessionState.AWAITING_QR, None)],
        # logged out, then the host restarted: the reopened session will ask for a QR
        [(SessionState.AWAITING_QR, None), (SessionState.DISCONNECTED, "session host stopped")],
        [(SessionState.AWAITING_QR, None), (SessionState.STARTING, None)],
        [(SessionState.AUTH_FAILED, "unpaired"), (SessionState.STARTING, None)],
        [(SessionState.FAILED, "the page did not load")],
    ],
    ids=["logged-out", "qr-after-logout", "qr-then-host-stop", "qr-then-restart", "auth-failed", "failed"],
)
def test_a_session_that_needs_a_qr_or_failed_is_409(
    make_client, agent: Agent, redis_url, queue_host: QueueHost, after
):
    _states(redis_url, agent.agent_id, CONNECTED, *after)
    response = _post(make_client(), agent)
    assert response.status_code == 409, response.get_json()
    assert response.get_json()["error"]["code"] == "SESSION_NOT_READY"
    assert queue_host.job_ids(agent.agent_id) == []


def test_a_session_never_connected_is_409_while_starting(make_client, agent: Agent, redis_url, queue_host):
    _states(redis_url, agent.agent_id, (SessionState.STARTING, None))
    response = _post(make_client(), agent)
    assert response.status_code == 409
    assert "starting" in response.get_json()["error"]["message"]
    assert queue_host.job_ids(agent.agent_id) == []


@pytest.mark.parametrize("status", ["connected", "disconnected"])
def test_a_linked_agent_without_live_state_is_503_with_retry_after(
    make_client, agent: Agent, clean_pg_url, queue_host: QueueHost, status
):
    # given a record saying the session had linked, and a Redis that lost every live state
    engine = create_db_engine(clean_pg_url)
    repository.set_status(engine, agent.agent_id, status)
    engine.dispose()
    # when
    response = _post(make_client(), agent)
    # then: try again shortly (the host re-asserts within a heartbeat), not "not started"
    assert response.status_code == 503, response.get_json()
    assert response.get_json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert int(response.headers["Retry-After"]) >= 1
    assert queue_host.job_ids(agent.agent_id) == []
