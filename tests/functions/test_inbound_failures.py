"""Failure paths of one inbound message, handled in-process against real Redis, PostgreSQL and AI."""

from __future__ import annotations

import pytest
import redis
import sqlalchemy.exc

from contract import jobs, metrics
from functions import inbound, worker
from functions.app import create_app
from tests.functions.inbound_stack import DEVELOPER, close_app, new_agent, stack_settings
from tests.support.inbound import agent_jobs, message, sends, start_ai_backend


@pytest.fixture(scope="module")
def ai_backend(run_dir):
    backend = start_ai_backend(run_dir, "ai-backend-failure-tests")
    yield backend
    backend.process.stop()


@pytest.fixture
def make_deps(redis_url, pg_url, ai_backend, run_dir):
    apps = []

    def make(**overrides):
        app = create_app(stack_settings(redis_url, pg_url, ai_backend.url, run_dir, **overrides))
        apps.append(app)
        return app, inbound.Deps.of(app)

    yield make
    for app in apps:
        close_app(app)


@pytest.fixture
def raw(redis_url):
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


def entry_for(agent_id: str, text: str = "hello") -> inbound.Entry:
    return inbound.Entry.parse(inbound.entry_for(message(text), agent_id, f"trace-{text}"))


def test_without_a_developer_jid_a_failure_is_counted_and_typing_cleared(make_deps, raw, ai_backend):
    app, deps = make_deps(developer_jid=None)
    agent_id, _ = new_agent(deps.settings, ai_backend.url)
    ai_backend.behave(agent_id, status=502)
    with app.app_context():
        assert inbound.handle(deps, entry_for(agent_id)) == "failed"
    assert sends(raw, agent_id) == []
    assert [p.get("typing") for _, p in agent_jobs(raw, agent_id)] == [None, True, False]  # seen first
    assert deps.redis.hget(metrics.COUNTERS_KEY, 'errors_total{code="AI_DOWNSTREAM_ERROR"}') == "1"


def test_with_no_throttle_every_failure_alerts(make_deps, raw, ai_backend):
    app, deps = make_deps(alert_throttle_seconds=0)
    agent_id, _ = new_agent(deps.settings, ai_backend.url)
    ai_backend.behave(agent_id, status=500)
    with app.app_context():
        for n in range(3):
            inbound.handle(deps, entry_for(agent_id, f"try {n}"))
    assert [s["to"] for s in sends(raw, agent_id)] == [DEVELOPER] * 3


def test_an_unknown_agent_is_counted_and_gets_nothing(make_deps, raw):
    app, deps = make_deps()
    with app.app_context():
        assert inbound.handle(deps, entry_for("agent-nobody")) == "unknown_agent"
    assert agent_jobs(raw, "agent-nobody") == []
    assert deps.redis.hget(metrics.COUNTERS_KEY, 'messages_ignored_total{reason="unknown_agent"}') == "1"


def test_an_unexpected_error_is_retried_then_alerted(make_deps, raw, pg_url, ai_backend):
    # given a worker whose database is unreachable
    _, healthy = make_deps()
    agent_id, _ = new_agent(healthy.settings, ai_backend.url)
    broken_url = pg_url.rsplit("/", 1)[0] + "/wagw_no_such_database"
    app, deps = make_deps(database_url=broken_url, inbound_max_attempts=2)
    entry = entry_for(agent_id, "db down")
    with app.app_context():
        # when the first attempt fails
        with pytest.raises(sqlalchemy.exc.OperationalError):
            worker._answer_head(deps, entry.raw)
        assert sends(raw, agent_id) == []
        # and the last attempt fails too
        worker._answer_head(deps, entry.raw)
    # then the developer hears about it and typing is not left on
    (alert,) = sends(raw, agent_id)
    assert alert["to"] == DEVELOPER
    assert "reason: INTERNAL_ERROR: OperationalError after 2 attempts" in alert["text"].splitlines()
    names = [(name, p.get("typing")) for name, p in agent_jobs(raw, agent_id)]
    assert names.count((jobs.JobName.TYPING, False)) >= 1


def test_with_mark_seen_on_reply_off_the_chat_is_not_marked_read(make_deps, raw, ai_backend):
    app, deps = make_deps(developer_jid=None, mark_seen_on_reply=False)
    agent_id, _ = new_agent(deps.settings, ai_backend.url)
    ai_backend.behave(agent_id, status=502)
    with app.app_context():
        inbound.handle(deps, entry_for(agent_id))
    assert [name for name, _ in agent_jobs(raw, agent_id)] == [jobs.JobName.TYPING, jobs.JobName.TYPING]
