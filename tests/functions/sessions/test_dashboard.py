"""The RQ dashboard at /rq and the jobs endpoints: a failed send is found, read and requeued."""

from __future__ import annotations

import pytest
import redis
import sqlalchemy as sa
from rq import Queue, SimpleWorker

from contract import jobs
from functions import repository
from functions.db import sqlalchemy_url

AGENT = "agent-dash"
TOKEN = "dash-token-51d0"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def failed_send(redis_url: str, clean_pg_url: str) -> str:
    """Return the id of a send that a real rq worker failed (it ran outside a session host)."""
    engine = sa.create_engine(sqlalchemy_url(clean_pg_url))
    repository.upsert_agent(
        engine, user_id="u", agent_id=AGENT, agent_name="Shop", api_key="k", endpoint_url_run="x"
    )
    engine.dispose()
    raw = redis.Redis.from_url(redis_url)
    payload = jobs.SendText(agent_id=AGENT, to="6281234567890@c.us", text="hello")
    job = jobs.enqueue(raw, jobs.JobName.SEND_TEXT, payload, job_id="send_text-dash-1")
    queue = Queue(jobs.agent_queue_name(AGENT), connection=raw, serializer=jobs.SERIALIZER)
    worker = SimpleWorker([queue], connection=raw, serializer=jobs.SERIALIZER)
    worker.work(burst=True)
    assert queue.failed_job_registry.get_job_ids() == [job.id]
    raw.close()
    return job.id


def test_the_dashboard_lists_the_failed_send_and_why(make_app, failed_send: str) -> None:
    client = make_app(admin_token=TOKEN).test_client()
    queue = jobs.agent_queue_name(AGENT)

    overview = client.get("/rq/", headers=ADMIN)
    queues = client.get("/rq/0/data/queues.json", headers=ADMIN).get_json()["queues"]
    listed = client.get(f"/rq/0/data/jobs/{queue}/failed/8/asc/1.json", headers=ADMIN).get_json()
    detail = client.get(f"/rq/0/data/job/{failed_send}.json", headers=ADMIN).get_json()
    page = client.get(f"/rq/0/view/job/{failed_send}", headers=ADMIN)

    assert overview.status_code == 200 and b"RQ" in overview.data
    assert {q["name"]: q["failed_job_registry_count"] for q in queues}[queue] == 1
    assert [j["id"] for j in listed["jobs"]] == [failed_send]
    assert "jobs run only inside `python -m session_host`" in listed["jobs"][0]["exc_info"]
    assert detail["status"] == "failed" and detail["origin"] == queue
    assert page.status_code == 200


def test_the_dashboard_requeues_the_failed_send(make_app, failed_send: str, redis_url: str) -> None:
    client = make_app(admin_token=TOKEN).test_client()

    requeued = client.post(f"/rq/job/{failed_send}/requeue", headers=ADMIN)
    again = client.post(f"/rq/job/{failed_send}/requeue", headers=ADMIN)

    assert requeued.status_code == 200 and requeued.get_json() == {"status": "OK"}
    raw = redis.Redis.from_url(redis_url)
    queue = Queue(jobs.agent_queue_name(AGENT), connection=raw, serializer=jobs.SERIALIZER)
    assert queue.job_ids == [failed_send] and queue.failed_job_registry.get_job_ids() == []
    assert queue.fetch_job(failed_send).args[0]["text"] == "hello"
    raw.close()
    # A job that is no longer failed is a clear 409, not a 500.
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "JOB_NOT_FAILED"
    assert client.get("/rq/0/view/job/nope", headers=ADMIN).status_code == 404


def test_the_jobs_api_lists_and_requeues_the_failed_send(make_app, failed_send: str) -> None:
    client = make_app(admin_token=TOKEN).test_client()

    failed = client.get(f"/sessions/{AGENT}/jobs", query_string={"status": "failed"}, headers=ADMIN)
    every = client.get(f"/sessions/{AGENT}/jobs", headers=ADMIN).get_json()["jobs"]
    requeued = client.post(f"/jobs/{failed_send}/requeue", headers=ADMIN)
    after = client.get(f"/sessions/{AGENT}/jobs", query_string={"status": "queued"}, headers=ADMIN)

    [job] = failed.get_json()["jobs"]
    assert job["jobId"] == failed_send and job["type"] == "send_text" and job["status"] == "failed"
    assert job["to"] == "6281234567890@c.us" and job["agentId"] == AGENT
    assert job["error"] == "session_host.jobs.JobRefused: jobs run only inside `python -m session_host`"
    assert [j["jobId"] for j in every] == [failed_send]
    assert requeued.status_code == 200 and requeued.get_json()["job"]["status"] == "queued"
    assert [j["jobId"] for j in after.get_json()["jobs"]] == [failed_send]


def test_the_jobs_api_errors(make_app, failed_send: str) -> None:
    client = make_app(admin_token=TOKEN).test_client()

    unknown_agent = client.get("/sessions/nobody/jobs", headers=ADMIN)
    bad_state = client.get(f"/sessions/{AGENT}/jobs", query_string={"status": "lost"}, headers=ADMIN)
    unknown_job = client.post("/jobs/nope/requeue", headers=ADMIN)
    no_token = client.post(f"/jobs/{failed_send}/requeue")

    assert unknown_agent.status_code == 404
    assert unknown_agent.get_json()["error"]["code"] == "SESSION_NOT_FOUND"
    assert bad_state.status_code == 400
    assert unknown_job.status_code == 404 and unknown_job.get_json()["error"]["code"] == "JOB_NOT_FOUND"
    assert no_token.status_code == 401
