"""A functions-side inbound stack for tests: settings, agents, worker processes, signed events.

Real Redis, PostgreSQL, the demo AI backend and `python -m functions.worker` processes; the
session host's side is read straight off the agent queues the contract names.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import redis
from rq import Queue

from contract import jobs
from contract.events import EVENTS_PATH
from contract.events import InboundMessage as Message
from devstack.env import settings_env
from devstack.process import Process
from devstack.workers import start_worker as devstack_worker
from functions import repository
from functions.config import Settings
from functions.db import create_db_engine
from tests.support.inbound import signed_event

SECRET = "test-events-secret"
DEVELOPER = "6289999999999@c.us"


def stack_settings(redis_url: str, pg_url: str, ai_url: str, run_dir: Path, **overrides: object) -> Settings:
    """Return settings tuned for tests: short AI timeout, leases and sweeps."""
    values: dict[str, object] = {
        "app_env": "test",
        "database_url": pg_url,
        "redis_url": redis_url,
        "events_secret": SECRET,
        "ai_backend_url": ai_url,
        "developer_jid": DEVELOPER,
        "ai_timeout_seconds": 1.0,
        "alert_throttle_seconds": 60,
        "inbound_lease_seconds": 1.0,
        "inbound_sweep_seconds": 0.2,
        "temp_dir": str(run_dir / "tmp"),
        "log_level": "INFO",
    }
    values.update(overrides)
    return Settings(**values)


def start_worker(settings: Settings, run_dir: Path, name: str) -> Process:
    """Start `python -m functions.worker` and wait until it listens on the inbound queue."""
    return devstack_worker(settings_env(settings), run_dir, name)


def new_agent(settings: Settings, ai_url: str) -> tuple[str, str]:
    """Create an agent record pointing at the demo AI backend; return its id and API key."""
    agent_id = f"agent-{uuid.uuid4().hex[:8]}"
    api_key = f"key-{uuid.uuid4().hex[:12]}"
    engine = create_db_engine(settings.database_url)
    repository.upsert_agent(
        engine,
        user_id=f"user-{agent_id}",
        agent_id=agent_id,
        agent_name="Support Bot",
        api_key=api_key,
        endpoint_url_run=f"{ai_url}/agents/{agent_id}/execute",
    )
    engine.dispose()
    return agent_id, api_key


def post_message(client, agent_id: str, msg: Message, event_id: str | None = None) -> dict:
    """POST a signed `message` event to /internal/events through the Flask test client."""
    body, headers = signed_event(agent_id, msg, SECRET, event_id=event_id)
    response = client.post(EVENTS_PATH, data=body, headers=headers)
    assert response.status_code == 202, response.get_json()
    return response.get_json()


def inbound_backlog(raw: redis.Redis) -> int:
    """Return how many drain jobs wait on the inbound queue."""
    return Queue(jobs.INBOUND_QUEUE, connection=raw, serializer=jobs.SERIALIZER).count


def close_app(app) -> None:
    """Release an app's database and Redis connections (no unclosed sockets left to the GC)."""
    app.extensions["db_engine"].dispose()
    app.extensions["redis"].close()
    app.extensions["redis_rq"].close()
