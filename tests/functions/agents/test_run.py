"""POST /agents/{id}/run: the AI proxy against a local AI backend, and sending its reply."""

from __future__ import annotations

import pytest

from contract import jobs, metrics
from tests.functions.agents.conftest import Agent, FakeServer, QueueHost, add_agent, make_ready

EXECUTE = "/agents/agent-1/execute"
RUN = {"input": "Hello assistant!", "parameters": {"max_steps": 5}, "session_id": "6281234567890"}


@pytest.fixture
def ai_agent(clean_pg_url, redis_url, ai_backend: FakeServer) -> Agent:
    """An agent whose endpoint_url_run points at the local AI backend, session connected."""
    agent = add_agent(clean_pg_url, endpoint_url_run=ai_backend.url + EXECUTE)
    make_ready(redis_url, agent.agent_id)
    return agent


def _run(client, agent: Agent, body=RUN):
    return client.post(f"/agents/{agent.agent_id}/run", json=body, headers=agent.auth)


def test_reply_is_sent_to_the_chat(
    make_client, ai_agent: Agent, ai_backend: FakeServer, queue_host: QueueHost, redis_client
):
    # given
    ai_backend.json_route("POST", EXECUTE, 200, {"data": {"reply": "Hi! How can I help?"}})
    delivered: list = []
    queue_host.serve(ai_agent.agent_id, delivered)
    # when
    response = _run(make_client(), ai_agent)
    # then the AI got the agent's key and the normalised chat
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["reply"] == "Hi! How can I help?"
    assert body["replySent"] is True
    assert body["traceId"] == response.headers["X-Trace-Id"]
    call = ai_backend.seen[-1]
    assert call.headers["Authorization"] == f"Bearer {ai_agent.api_key}"
    sent = call.json()
    assert sent["input"] == "Hello assistant!"
    assert sent["session_id"] == "6281234567890@c.us"
    assert sent["parameters"] == {"max_steps": 5}
    assert sent["metadata"]["traceId"] == body["traceId"]
    # and the reply went to that chat as a send job
    (job,) = delivered
    payload = jobs.SendText.from_wire(job.args[0])
    assert (payload.to, payload.text) == ("6281234567890@c.us", "Hi! How can I help?")
    assert redis_client.hget(metrics.histogram_key(metrics.AI_LATENCY), "count") == "1"


def test_message_alias_group_jid_and_default_parameters(
    make_client, ai_agent: Agent, ai_backend: FakeServer, queue_host: QueueHost
):
    ai_backend.json_route("POST", EXECUTE, 200, {"output": "ok"})
    queue_host.serve(ai_agent.agent_id)
    body = {"message": "hi group", "session_id": "120363025555@g.us"}
    response = _run(make_client(), ai_agent, body)
    assert response.get_json()["replySent"] is True
    sent = ai_backend.seen[-1].json()
    assert sent["input"] == "hi group"
    assert sent["session_id"] == "120363025555@g.us"
    assert sent["parameters"] == {"max_steps": 5}


def test_empty_reply_sends_nothing(
    make_client, ai_agent: Agent, ai_backend: FakeServer, queue_host: QueueHost
):
    ai_backend.json_route("POST", EXECUTE, 200, {"reply": ""})
    response = _run(make_client(), ai_agent)
    assert response.get_json() == {
        "reply": None,
        "replySent": False,
        "traceId": response.headers["X-Trace-Id"],
    }
    assert queue_host.job_ids(ai_agent.agent_id) == []


def test_reply_for_a_session_not_ready_is_reported(
    make_client, clean_pg_url, ai_backend: FakeServer, queue_host: QueueHost
):
    agent = add_agent(clean_pg_url, endpoint_url_run=ai_backend.url + EXECUTE)
    ai_backend.json_route("POST", EXECUTE, 200, {"reply": "hello"})
    body = _run(make_client(), agent).get_json()
    assert body["reply"] == "hello"
    assert body["replySent"] is False
    assert body["replyError"]["code"] == "SESSION_NOT_READY"


def test_default_endpoint_is_the_backend_url(make_client, clean_pg_url, redis_url, ai_backend: FakeServer):
    agent = add_agent(clean_pg_url, agent_id="agent-7", endpoint_url_run="")
    ai_backend.json_route("POST", "/agents/agent-7/execute", 200, {"response": "from default"})
    response = _run(make_client(ai_backend_url=ai_backend.url, send_wait_seconds=0), agent)
    assert response.get_json()["reply"] == "from default"


def test_ai_timeout_is_504(make_client, ai_agent: Agent, ai_backend: FakeServer):
    ai_backend.json_route("POST", EXECUTE, 200, {"reply": "late"}, delay=1.5)
    response = _run(make_client(ai_timeout_seconds=0.3), ai_agent)
    assert response.status_code == 504
    assert response.get_json()["error"]["code"] == "AI_TIMEOUT"


@pytest.mark.parametrize("status", [401, 500])
def test_ai_error_is_502(make_client, ai_agent: Agent, ai_backend: FakeServer, status):
    ai_backend.json_route("POST", EXECUTE, status, {"error": "boom"})
    response = _run(make_client(), ai_agent)
    assert response.status_code == 502
    assert response.get_json()["error"]["code"] == "AI_DOWNSTREAM_ERROR"


@pytest.mark.parametrize(
    "body",
    [
        {"session_id": "6281234567890"},
        {"input": "x"},
        {"input": "x", "session_id": "abc"},
        {"input": "x", "session_id": "123@lid.example"},
        {"input": "x", "session_id": "6281234567890", "parameters": "five"},
    ],
)
def test_invalid_run_payload(make_client, ai_agent: Agent, ai_backend: FakeServer, body):
    response = _run(make_client(), ai_agent, body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "INVALID_PAYLOAD"
    assert ai_backend.seen == []
