"""Bearer auth on /agents/*: constant-time match with the stored key, one debounced re-sync."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import sqlalchemy as sa

from contract import metrics
from functions.auth import RESYNCS
from functions.db import api_keys, create_db_engine, whatsapp_user
from tests.functions.agents.conftest import Agent
from tests.support.waiting import wait_until

BODY = {"to": "6281234567890", "message": "hi"}


def _stored_key(db_url: str, agent_id: str) -> str | None:
    engine = create_db_engine(db_url)
    with engine.connect() as conn:
        key = conn.execute(
            sa.select(whatsapp_user.c.api_key).where(whatsapp_user.c.agent_id == agent_id)
        ).scalar()
    engine.dispose()
    return key


def _rotate_key(db_url: str, user_id: str, token: str) -> None:
    engine = create_db_engine(db_url)
    with engine.begin() as conn:
        conn.execute(
            api_keys.insert().values(
                user_id=user_id, access_token=token, is_active=True, created_at=datetime.now(UTC)
            )
        )
    engine.dispose()


def test_missing_token_is_401(make_client, agent: Agent):
    response = make_client().post(f"/agents/{agent.agent_id}/messages", json=BODY)
    assert response.status_code == 401
    error = response.get_json()["error"]
    assert error["code"] == "UNAUTHORIZED"
    assert error["traceId"] == response.headers["X-Trace-Id"]


def test_unknown_agent_is_404(make_client):
    response = make_client().post("/agents/nobody/messages", json=BODY, headers={"Authorization": "Bearer x"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "SESSION_NOT_FOUND"


def test_wrong_scheme_is_401(make_client, agent: Agent):
    response = make_client().post(
        f"/agents/{agent.agent_id}/messages", json=BODY, headers={"Authorization": f"Basic {agent.api_key}"}
    )
    assert response.status_code == 401


def test_burst_of_bad_tokens_triggers_exactly_one_resync(
    make_client, agent: Agent, clean_pg_url, redis_client
):
    # given the key was rotated in the shared api_keys table
    _rotate_key(clean_pg_url, agent.user_id, "rotated-key-456")
    client = make_client()
    statuses: list[int] = []

    def attempt() -> None:
        response = client.post(
            f"/agents/{agent.agent_id}/messages",
            json=BODY,
            headers={"Authorization": "Bearer rotated-key-456"},
        )
        statuses.append(response.status_code)

    # when twenty requests with the (not yet synced) new key arrive at once
    threads = [threading.Thread(target=attempt) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    # then they are refused until the key is synced (a thread started late on a loaded machine
    # may already pass: 409, session not ready), and exactly one re-sync ran and copied the key
    assert len(statuses) == 20 and set(statuses) <= {401, 409}, statuses
    assert statuses.count(401) >= 1
    wait_until(lambda: _stored_key(clean_pg_url, agent.agent_id) == "rotated-key-456", 10)
    counted = wait_until(
        lambda: redis_client.hgetall(metrics.COUNTERS_KEY).get(f'{RESYNCS}{{result="updated"}}')
    )
    assert counted == "1"
    resyncs = {k: v for k, v in redis_client.hgetall(metrics.COUNTERS_KEY).items() if k.startswith(RESYNCS)}
    assert resyncs == {f'{RESYNCS}{{result="updated"}}': "1"}
    # and the rotated key now authenticates (session not ready: past auth, 409)
    response = client.post(
        f"/agents/{agent.agent_id}/messages", json=BODY, headers={"Authorization": "Bearer rotated-key-456"}
    )
    assert response.status_code == 409


def test_no_active_key_leaves_the_record_alone(make_client, agent: Agent, clean_pg_url, redis_client):
    response = make_client().post(
        f"/agents/{agent.agent_id}/messages", json=BODY, headers={"Authorization": "Bearer wrong"}
    )
    assert response.status_code == 401
    wait_until(lambda: redis_client.hget(metrics.COUNTERS_KEY, f'{RESYNCS}{{result="missing"}}') == "1")
    assert _stored_key(clean_pg_url, agent.agent_id) == agent.api_key
