"""Fixtures for the agent endpoints: a local HTTP server standing in for the outside world
(AI backend, media URLs), agents with records and live state, and a stand-in consumer of
the agent queue playing the session host's side of the send contract."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import redis
from rq import Queue
from rq.exceptions import DequeueTimeout
from rq.job import Job, JobStatus
from rq.results import Result

from contract import jobs
from contract.live import LiveStateStore, SessionState
from functions import repository
from functions.db import create_db_engine

Handler = Callable[[BaseHTTPRequestHandler], None]
API_KEY = "agent-secret-key-123"
PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@dataclass
class Seen:
    """One request the fake server received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> object:
        """Return the body parsed as JSON."""
        return json.loads(self.body)


@dataclass
class FakeServer:
    """A real HTTP server on a loopback address whose answers each test scripts per path."""

    host: str = "127.0.0.1"
    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)
    aborted: list[str] = field(default_factory=list)

    def start(self) -> FakeServer:
        """Listen on a free port in a background thread."""
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                server.seen.append(Seen(self.command, path, dict(self.headers), body))
                handler = server.routes.get((self.command, path))
                try:
                    if handler is None:
                        reply(self, 404, {"error": "no such route"})
                    else:
                        handler(self)
                except (BrokenPipeError, ConnectionResetError):
                    server.aborted.append(path)
                    self.close_connection = True

            do_GET = do_POST = do_HEAD = _serve

            def log_message(self, *_args: object) -> None:
                return

        self.httpd = ThreadingHTTPServer((self.host, 0), _Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def port(self) -> int:
        """Return the listening port."""
        return self.httpd.server_address[1]

    @property
    def url(self) -> str:
        """Return the base URL."""
        return f"http://{self.host}:{self.port}"

    def route(self, method: str, path: str, handler: Handler) -> None:
        """Answer `method path` with `handler`."""
        self.routes[(method, path)] = handler

    def json_route(self, method: str, path: str, status: int, body: object, delay: float = 0) -> None:
        """Answer `method path` with a JSON body (after `delay` seconds, to play a slow backend)."""

        def handler(request: BaseHTTPRequestHandler) -> None:
            if delay:
                time.sleep(delay)
            reply(request, status, body)

        self.route(method, path, handler)

    def stop(self) -> None:
        """Stop listening."""
        self.httpd.shutdown()
        self.httpd.server_close()


def reply(
    request: BaseHTTPRequestHandler,
    status: int,
    body: object,
    content_type: str = "application/json",
    headers: dict[str, str] | None = None,
) -> None:
    """Write a complete response (JSON unless `body` is bytes, or text with a text type)."""
    if isinstance(body, bytes):
        data = body
    elif isinstance(body, str) and content_type != "application/json":
        data = body.encode()
    else:
        data = json.dumps(body).encode()
    request.send_response(status)
    request.send_header("Content-Type", content_type)
    request.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        request.send_header(name, value)
    request.end_headers()
    if request.command != "HEAD":
        request.wfile.write(data)


@pytest.fixture
def fake_server() -> Iterator[FakeServer]:
    """Return a started fake outside-world HTTP server on 127.0.0.1."""
    server = FakeServer().start()
    yield server
    server.stop()


@pytest.fixture
def ai_backend(fake_server: FakeServer) -> FakeServer:
    """Return the fake server playing the AI backend."""
    return fake_server


@dataclass
class Agent:
    """A registered agent for endpoint tests."""

    agent_id: str
    user_id: str
    api_key: str

    @property
    def auth(self) -> dict[str, str]:
        """Return the Authorization header."""
        return {"Authorization": f"Bearer {self.api_key}"}


def add_agent(
    db_url: str,
    agent_id: str = "agent-1",
    user_id: str = "user-1",
    api_key: str | None = API_KEY,
    endpoint_url_run: str | None = None,
) -> Agent:
    """Insert a `whatsapp_user` record."""
    engine = create_db_engine(db_url)
    try:
        repository.upsert_agent(
            engine,
            user_id=user_id,
            agent_id=agent_id,
            agent_name="Support Bot",
            api_key=api_key,
            endpoint_url_run=(
                endpoint_url_run
                if endpoint_url_run is not None
                else f"http://127.0.0.1:9/agents/{agent_id}/execute"
            ),
        )
    finally:
        engine.dispose()
    return Agent(agent_id, user_id, api_key or "")


def make_ready(redis_url: str, agent_id: str, state: SessionState = SessionState.CONNECTED) -> None:
    """Play the host: publish the agent's session state in the live state."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    LiveStateStore(client).set_state(agent_id, state, host="host-test")
    client.close()


class QueueHost:
    """Plays the host's side of the send contract on the agent queues, through rq's public API."""

    def __init__(self, redis_url: str):
        self.connection = redis.Redis.from_url(redis_url)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def queue(self, agent_id: str) -> Queue:
        """Return the agent's queue."""
        return Queue(jobs.agent_queue_name(agent_id), connection=self.connection, serializer=jobs.SERIALIZER)

    def job_ids(self, agent_id: str) -> list[str]:
        """Return the ids of jobs waiting on the agent's queue."""
        return self.queue(agent_id).get_job_ids()

    def take(self, agent_id: str, timeout: int = 10) -> Job:
        """Take the next job off the agent's queue (blocks on Redis), or fail."""
        try:
            found = Queue.dequeue_any(
                [self.queue(agent_id)], timeout, connection=self.connection, serializer=jobs.SERIALIZER
            )
        except DequeueTimeout:
            found = None
        assert found is not None, f"no job reached the queue of {agent_id} within {timeout}s"
        return found[0]

    def succeed(self, job: Job, message_id: str = "true_6281234567890@c.us_3EB0ABC") -> None:
        """Store a successful send result, as rq's worker does."""
        value = jobs.SendResult(message_id=message_id).to_wire()
        Result.create(job, Result.Type.SUCCESSFUL, ttl=600, return_value=value, worker_name="host-test")
        job.set_status(JobStatus.FINISHED)

    def fail(self, job: Job, reason: str = "SendError: the number is not on WhatsApp") -> None:
        """Store a failure, as rq's worker does when the job raises."""
        exc = f"Traceback (most recent call last):\n  ...\n{reason}\n"
        Result.create(job, Result.Type.FAILED, ttl=600, exc_string=exc, worker_name="host-test")
        job.set_status(JobStatus.FAILED)

    def serve(self, agent_id: str, delivered: list[Job] | None = None) -> None:
        """Deliver every job of the agent in a background thread until the test ends."""

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    found = Queue.dequeue_any(
                        [self.queue(agent_id)], 1, connection=self.connection, serializer=jobs.SERIALIZER
                    )
                except DequeueTimeout:
                    continue
                if found is not None:
                    if delivered is not None:
                        delivered.append(found[0])
                    self.succeed(found[0])

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        self._threads.append(thread)

    def close(self) -> None:
        """Stop serving and close the connection."""
        self._stop.set()
        for thread in self._threads:
            thread.join(5)
        self.connection.close()


@pytest.fixture
def queue_host(redis_url: str) -> Iterator[QueueHost]:
    """Return the stand-in consumer of agent queues."""
    stand_in = QueueHost(redis_url)
    yield stand_in
    stand_in.close()


@pytest.fixture
def make_client(settings_factory):
    """Build a Flask test client on test settings with overrides (defaults: short waits)."""
    from functions.app import create_app

    apps = []

    def make(**overrides: object):
        values: dict[str, object] = {"send_wait_seconds": 5, "media_url_allowlist": ""}
        values.update(overrides)
        application = create_app(settings_factory(**values))
        apps.append(application)
        return application.test_client()

    yield make
    for application in apps:
        application.extensions["db_engine"].dispose()


@pytest.fixture
def agent(clean_pg_url: str) -> Agent:
    """Return a registered agent (no live session yet)."""
    return add_agent(clean_pg_url)


@pytest.fixture
def ready_agent(agent: Agent, redis_url: str) -> Agent:
    """Return a registered agent whose session the stand-in host reports connected."""
    make_ready(redis_url, agent.agent_id)
    return agent
