"""POST /agents/{id}/messages and GET /agents/{id}/jobs/{jobId}, with a stand-in host on the agent queue."""

from __future__ import annotations

import threading

import pytest
import redis

from contract import jobs
from contract.live import SessionState
from tests.functions.agents.conftest import Agent, QueueHost, add_agent, make_ready

BODY = {"to": "+62 812-3456-7890", "message": "Halo dari API", "quotedMessageId": "true_628@c.us_XXXX"}


def _post(client, agent: Agent, body=BODY, headers=None):
    return client.post(
        f"/agents/{agent.agent_id}/messages", json=body, headers={**agent.auth, **(headers or {})}
    )


def test_delivered_with_message_id(make_client, ready_agent: Agent, queue_host: QueueHost):
    # given a host that delivers every job of the agent
    delivered: list = []
    queue_host.serve(ready_agent.agent_id, delivered)
    # when
    response = _post(make_client(), ready_agent)
    # then
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["delivered"] is True
    assert body["messageId"] == "true_6281234567890@c.us_3EB0ABC"
    assert body["traceId"] == response.headers["X-Trace-Id"]
    (job,) = delivered
    assert job.func_name == jobs.JobName.SEND_TEXT
    payload = jobs.SendText.from_wire(job.args[0])
    assert payload.to == "6281234567890@c.us"
    assert payload.text == "Halo dari API"
    assert payload.quoted_message_id == "true_628@c.us_XXXX"
    assert payload.not_before is None
    assert payload.trace_id == body["traceId"]


@pytest.mark.parametrize("state", [None, SessionState.AWAITING_QR, SessionState.DISCONNECTED])
def test_not_ready_is_409(make_client, agent: Agent, redis_url, queue_host: QueueHost, state):
    if state is not None:
        make_ready(redis_url, agent.agent_id, state)
    response = _post(make_client(), agent)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "SESSION_NOT_READY"
    assert queue_host.job_ids(agent.agent_id) == []


@pytest.mark.parametrize(
    "body",
    [
        {"to": "not a number", "message": "x"},
        {"to": "123@broadcast", "message": "x"},
        {"to": "6281234567890", "message": ""},
        {"to": "6281234567890"},
        {"message": "x"},
    ],
)
def test_invalid_payload(make_client, ready_agent: Agent, body):
    response = _post(make_client(), ready_agent, body)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "INVALID_PAYLOAD"


def test_host_failure_is_502_with_reason(make_client, ready_agent: Agent, queue_host: QueueHost):
    client = make_client()
    outcome: dict = {}
    thread = threading.Thread(target=lambda: outcome.update(response=_post(client, ready_agent)))
    thread.start()
    queue_host.fail(queue_host.take(ready_agent.agent_id))
    thread.join(15)
    response = outcome["response"]
    assert response.status_code == 502
    error = response.get_json()["error"]
    assert error["code"] == "BAD_GATEWAY"
    assert "the number is not on WhatsApp" in error["message"]


def test_deadline_answers_202_and_the_job_endpoint_follows_it(
    make_client, ready_agent: Agent, queue_host: QueueHost
):
    client = make_client(send_wait_seconds=0.5)
    # when nobody consumes the job within the wait
    response = _post(client, ready_agent)
    # then 202 with a job id
    assert response.status_code == 202
    body = response.get_json()
    assert body["delivered"] is False
    assert body["status"] == "queued"
    job_url = f"/agents/{ready_agent.agent_id}/jobs/{body['jobId']}"
    queued = client.get(job_url, headers=ready_agent.auth).get_json()
    assert queued["status"] == "queued"
    assert queued["delivered"] is False
    assert queued["to"] == "6281234567890@c.us"
    # and once the host delivers it, the job reports the message id
    queue_host.succeed(queue_host.take(ready_agent.agent_id), message_id="wamid-1")
    done = client.get(job_url, headers=ready_agent.auth).get_json()
    assert done["status"] == "finished"
    assert done["delivered"] is True
    assert done["messageId"] == "wamid-1"
    assert done["type"] == "send_text"


def test_failed_job_reports_its_reason(make_client, ready_agent: Agent, queue_host: QueueHost):
    client = make_client(send_wait_seconds=0)
    job_id = _post(client, ready_agent).get_json()["jobId"]
    queue_host.fail(queue_host.take(ready_agent.agent_id), reason="SendError: blocked")
    view = client.get(f"/agents/{ready_agent.agent_id}/jobs/{job_id}", headers=ready_agent.auth).get_json()
    assert view["status"] == "failed"
    assert view["error"] == "SendError: blocked"


def test_job_of_another_agent_or_unknown_is_404(make_client, ready_agent: Agent, clean_pg_url, redis_url):
    other = add_agent(clean_pg_url, agent_id="agent-2", api_key="other-key")
    make_ready(redis_url, other.agent_id)
    client = make_client(send_wait_seconds=0)
    job_id = _post(client, other).get_json()["jobId"]
    for url in (f"/agents/{ready_agent.agent_id}/jobs/{job_id}", f"/agents/{ready_agent.agent_id}/jobs/nope"):
        response = client.get(url, headers=ready_agent.auth)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "JOB_NOT_FOUND"
    # and the job endpoint needs the agent's own key
    assert client.get(f"/agents/{other.agent_id}/jobs/{job_id}", headers=ready_agent.auth).status_code == 401


def test_same_idempotency_key_twice_makes_one_job(make_client, ready_agent: Agent, queue_host: QueueHost):
    client = make_client(send_wait_seconds=0)
    key = {"Idempotency-Key": "order-123-confirmation"}
    first = _post(client, ready_agent, headers=key)
    second = _post(client, ready_agent, headers=key)
    assert first.status_code == second.status_code == 202
    assert first.get_json()["jobId"] == second.get_json()["jobId"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert queue_host.job_ids(ready_agent.agent_id) == [first.get_json()["jobId"]]
    # once delivered, the retry answers the first result
    queue_host.succeed(queue_host.take(ready_agent.agent_id), message_id="wamid-9")
    third = _post(client, ready_agent, headers=key)
    assert third.status_code == 200
    assert third.get_json()["messageId"] == "wamid-9"
    # a different key is a different message
    assert _post(client, ready_agent, headers={"Idempotency-Key": "other"}).status_code == 202
    assert len(queue_host.job_ids(ready_agent.agent_id)) == 1


def test_idempotency_key_with_a_different_body_is_refused(make_client, ready_agent: Agent):
    client = make_client(send_wait_seconds=0)
    key = {"Idempotency-Key": "k-1"}
    assert _post(client, ready_agent, headers=key).status_code == 202
    response = _post(client, ready_agent, {**BODY, "message": "something else"}, headers=key)
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"


def test_concurrent_retries_with_one_key_make_one_job(make_client, ready_agent: Agent, queue_host: QueueHost):
    client = make_client(send_wait_seconds=0)
    answers: list = []
    threads = [
        threading.Thread(
            target=lambda: answers.append(_post(client, ready_agent, headers={"Idempotency-Key": "k"}))
        )
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(20)
    assert {a.status_code for a in answers} == {202}
    assert len({a.get_json()["jobId"] for a in answers}) == 1
    assert len(queue_host.job_ids(ready_agent.agent_id)) == 1


def test_rate_limit_queues_with_a_slot_then_refuses(make_client, ready_agent: Agent, queue_host: QueueHost):
    # 6 per minute: a slot every 10 s, longer than the send wait, so the waiting send answers at once
    client = make_client(
        rate_limit_per_minute=6, rate_limit_burst=1, rate_limit_max_waiting=1, send_wait_seconds=2
    )
    first = _post(client, ready_agent)
    assert first.status_code == 202
    assert first.get_json()["notBefore"] is None
    waiting = _post(client, ready_agent)
    assert waiting.status_code == 202
    slot = jobs.SendText.from_wire(
        queue_host.queue(ready_agent.agent_id).fetch_job(waiting.get_json()["jobId"]).args[0]
    )
    assert slot.not_before is not None
    assert waiting.get_json()["notBefore"] is not None
    refused = _post(client, ready_agent)
    assert refused.status_code == 429
    assert refused.get_json()["error"]["code"] == "RATE_LIMITED"


def test_redis_down_is_503(make_client, ready_agent: Agent, redis_url):
    client = make_client(redis_url="redis://127.0.0.1:1/0")
    response = _post(client, ready_agent)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "SERVICE_UNAVAILABLE"
    assert redis.Redis.from_url(redis_url).ping()


def test_a_retry_gets_the_first_result_even_after_the_session_dropped(
    make_client, ready_agent: Agent, queue_host: QueueHost, redis_url
):
    client = make_client(send_wait_seconds=0)
    key = {"Idempotency-Key": "k-drop"}
    first = _post(client, ready_agent, headers=key)
    queue_host.succeed(queue_host.take(ready_agent.agent_id), message_id="wamid-2")
    make_ready(redis_url, ready_agent.agent_id, SessionState.DISCONNECTED)
    retry = _post(client, ready_agent, headers=key)
    assert retry.status_code == 200
    assert (retry.get_json()["jobId"], retry.get_json()["messageId"]) == (
        first.get_json()["jobId"],
        "wamid-2",
    )
