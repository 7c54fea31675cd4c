"""The /sessions endpoints through the Flask test client, with a stand-in host on real Redis.

The test plays the session host's side of the contract: it is registered in the host
registry, consumes the jobs the API enqueues on its queue, stores their results with rq's
public API, and writes live state with LiveStateStore from a thread.
"""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from contract.jobs import JobName
from contract.live import SessionState
from functions import repository
from functions.db import api_keys
from tests.support.host import FakeHost, later
from tests.support.qr import SAMPLE_QR as QR
from tests.support.qr import decode_png

BODY = {"userId": "user-1", "agentId": "agent-1", "agentName": "Support Bot", "apikey": "body-key"}


def engine(app) -> sa.Engine:
    return app.extensions["db_engine"]


def shows_qr_on_ensure(host: FakeHost, qrs: list[str] | None = None, delay: float = 0.2) -> None:
    """Make the stand-in host show a QR `delay` seconds after each ensure job (next of `qrs`)."""
    qrs = list(qrs or [QR])

    def ensure(job):
        qr = qrs.pop(0) if len(qrs) > 1 else qrs[0]
        later(delay, lambda: host.show_qr(job.args[0]["agentId"], qr))

    host.serve({JobName.ENSURE: ensure, JobName.DESTROY: lambda job: host.destroy(job.args[0]["agentId"])})


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert error["traceId"] == response.headers["X-Trace-Id"]
    return error


# --- POST /sessions -----------------------------------------------------------------------


def test_create_upserts_ensures_and_answers_the_qr(client, app, host):
    shows_qr_on_ensure(host)

    response = client.post("/sessions", json=BODY, headers={"X-Request-Id": "req-create-1"})

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["traceId"] == "req-create-1" == response.headers["X-Request-Id"]
    assert {k: body[k] for k in ("userId", "agentId", "agentName", "status")} == {
        "userId": "user-1",
        "agentId": "agent-1",
        "agentName": "Support Bot",
        "status": "awaiting_qr",
    }
    assert body["hasApiKey"] is True and "apikey" not in body and "body-key" not in response.text
    live = body["liveState"]
    assert live["isReady"] is False and live["hasClient"] is True
    assert live["sessionState"] == "awaiting_qr" and live["qr"] == QR and live["host"] == host.host_id
    assert set(live["timestamps"]) == {"qrUpdatedAt", "readyAt", "updatedAt"}
    assert live["timestamps"]["qrUpdatedAt"].endswith("Z")
    assert body["qr"]["contentType"] == "image/png"
    assert decode_png(body["qr"]["base64"]) == QR
    # the ensure job went to this host's queue, by dotted name, carrying the trace
    assert host.handled == [
        (JobName.ENSURE, {"agentId": "agent-1", "traceId": "req-create-1", "notBefore": None})
    ]
    row = repository.get_agent(engine(app), "agent-1")
    assert row["status"] == "awaiting_qr" and row["api_key"] == "body-key"


def test_create_again_updates_the_record_and_answers_200(client, app, host):
    shows_qr_on_ensure(host)
    assert client.post("/sessions", json=BODY).status_code == 201
    repository.set_status(engine(app), "agent-1", "connected")
    host.connect("agent-1")

    response = client.post("/sessions", json={**BODY, "agentName": "Renamed", "apikey": "new-key"})

    assert response.status_code == 200
    body = response.get_json()
    assert body["agentName"] == "Renamed" and body["status"] == "connected"
    # a connected session needs no QR
    assert body["liveState"]["isReady"] is True and body["qr"] is None
    assert repository.get_agent(engine(app), "agent-1")["api_key"] == "new-key"


def test_endpoint_url_run_defaults_to_the_ai_backend(make_app, host):
    app = make_app(ai_backend_url="http://ai.internal:9000/")
    shows_qr_on_ensure(host)

    body = app.test_client().post("/sessions", json=BODY).get_json()

    assert body["endpointUrlRun"] == "http://ai.internal:9000/agents/agent-1/execute"
    assert repository.get_agent(engine(app), "agent-1")["endpoint_url_run"] == body["endpointUrlRun"]


def test_active_api_key_wins_over_the_body_apikey(client, app, host):
    shows_qr_on_ensure(host)
    with engine(app).begin() as conn:
        conn.execute(
            api_keys.insert(),
            [
                {"user_id": "user-1", "access_token": "old", "is_active": True, "created_at": _at(1)},
                {"user_id": "user-1", "access_token": "newest", "is_active": True, "created_at": _at(3)},
                {"user_id": "user-1", "access_token": "revoked", "is_active": False, "created_at": _at(5)},
                {
                    "user_id": "someone-else",
                    "access_token": "theirs",
                    "is_active": True,
                    "created_at": _at(9),
                },
            ],
        )

    assert client.post("/sessions", json=BODY).status_code == 201

    assert repository.get_agent(engine(app), "agent-1")["api_key"] == "newest"


def test_body_apikey_is_optional(client, app, host):
    shows_qr_on_ensure(host)
    body = {k: v for k, v in BODY.items() if k != "apikey"}

    response = client.post("/sessions", json=body)

    assert response.status_code == 201
    assert response.get_json()["hasApiKey"] is False
    assert repository.get_agent(engine(app), "agent-1")["api_key"] is None


def test_another_users_agent_id_is_taken(client, app, host):
    shows_qr_on_ensure(host)
    assert client.post("/sessions", json=BODY).status_code == 201

    response = client.post("/sessions", json={**BODY, "userId": "user-2", "agentName": "Hijack"})

    assert_error(response, 409, "AGENT_ID_TAKEN")
    row = repository.get_agent(engine(app), "agent-1")
    assert row["user_id"] == "user-1" and row["agent_name"] == "Support Bot"


def test_no_live_host_is_503_no_session_host(client, app, host_factory):
    host_factory(register=False)

    response = client.post("/sessions", json=BODY)

    error = assert_error(response, 503, "NO_SESSION_HOST")
    assert "session host" in error["message"]


def test_a_host_with_a_stale_heartbeat_does_not_count(client, host_factory, redis_client):
    stale = host_factory(register=False)
    stale.registry.register(stale.host_id, 10, now=time.time() - 60)

    assert_error(client.post("/sessions", json=BODY), 503, "NO_SESSION_HOST")


def test_all_hosts_full_is_503(client, host_factory):
    full = host_factory(capacity=1)
    full.registry.claim("someone", full.host_id, None)

    error = assert_error(client.post("/sessions", json=BODY), 503, "NO_SESSION_HOST")
    assert "capacity" in error["message"]


def test_create_places_the_agent_on_the_freest_host(client, host_factory):
    busy = host_factory("busy", capacity=5)
    roomy = host_factory("roomy", capacity=3)
    for n in range(4):
        busy.registry.claim(f"other-{n}", "busy", None)
    shows_qr_on_ensure(roomy)

    assert client.post("/sessions", json=BODY).status_code == 201

    assert roomy.registry.owner_of("agent-1") == "roomy"
    assert busy.pending() == []
    assert [name for name, _ in roomy.handled] == [JobName.ENSURE]


def test_create_without_a_qr_in_time_answers_the_record(client, host):
    # given: the host takes the ensure job but never shows a QR
    host.serve({})

    started = time.monotonic()
    response = client.post("/sessions?wait=1", json=BODY)

    assert response.status_code == 201
    assert 0.9 <= time.monotonic() - started < 4
    body = response.get_json()
    assert body["status"] == "awaiting_qr" and body["qr"] is None
    assert body["liveState"]["sessionState"] is None and body["liveState"]["hasClient"] is False


@pytest.mark.parametrize(
    ("payload", "mentions"),
    [
        ({"agentId": "agent-1", "agentName": "x"}, "userId"),
        ({"userId": "u", "agentName": "x"}, "agentId"),
        ({"userId": "u", "agentId": "agent-1"}, "agentName"),
        ({"userId": "u", "agentId": "agent-1", "agentName": 5}, "agentName"),
        ({"userId": ["u"], "agentId": "agent-1", "agentName": "x"}, "userId"),
        ({"userId": "u", "agentId": "agent-1", "agentName": "x", "apikey": 12}, "apikey"),
        ({"userId": "u", "agentId": "../etc", "agentName": "x"}, "agentId"),
        ({"userId": "u", "agentId": "a b", "agentName": "x"}, "agentId"),
        ({"userId": "", "agentId": "agent-1", "agentName": "x"}, "userId"),
        ({"userId": "u", "agentId": "agent-1", "agentName": "   "}, "agentName"),
    ],
)
def test_create_refuses_bad_fields(client, host, payload, mentions):
    error = assert_error(client.post("/sessions", json=payload), 400, "INVALID_PAYLOAD")

    assert mentions in error["message"]
    assert host.pending() == []


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        ("not json", "application/json"),
        ('{"userId": "u",', "application/json"),
        ("[1, 2]", "application/json"),
        ('"just a string"', "application/json"),
        ("", "application/json"),
        ("userId=u&agentId=a", "application/x-www-form-urlencoded"),
        (b"\xff\xfe\x00garbage", "application/json"),
    ],
)
def test_create_refuses_bodies_that_are_not_json_objects(client, data, content_type):
    response = client.post("/sessions", data=data, content_type=content_type)

    assert_error(response, 400, "INVALID_PAYLOAD")


def test_oversize_body_is_413(make_app):
    app = make_app(max_body_bytes=1024)
    body = {**BODY, "agentName": "x" * 2000}

    response = app.test_client().post("/sessions", json=body)

    error = assert_error(response, 413, "PAYLOAD_TOO_LARGE")
    assert "1024" in error["message"]


def test_wait_must_be_a_number(client, host):
    shows_qr_on_ensure(host)

    assert_error(client.post("/sessions?wait=soon", json=BODY), 400, "INVALID_PAYLOAD")


# --- admin token ------------------------------------------------------------------------------


@pytest.fixture
def admin_client(make_app):
    return make_app(admin_token="adm-Secret-123").test_client()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Bearer adm-Secret-12"},
        {"Authorization": "Basic adm-Secret-123"},
        {"Authorization": "adm-Secret-123"},
        {"Authorization": "Bearer "},
    ],
)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/sessions"),
        ("get", "/sessions/agent-1"),
        ("delete", "/sessions/agent-1"),
        ("post", "/sessions/agent-1/reconnect"),
        ("post", "/sessions/agent-1/qr"),
        ("post", "/sessions/agent-1/pairing-code"),
    ],
)
def test_admin_token_is_required_when_set(admin_client, host, method, path, headers):
    response = getattr(admin_client, method)(path, json=BODY, headers=headers)

    assert_error(response, 401, "UNAUTHORIZED")
    assert host.pending() == []


def test_admin_token_lets_the_request_through_and_is_compared_in_constant_time(
    admin_client, host, monkeypatch
):
    import hmac

    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)

    response = admin_client.get("/sessions/agent-1", headers={"Authorization": "Bearer adm-Secret-123"})

    assert_error(response, 404, "SESSION_NOT_FOUND")
    assert compared == [(b"adm-Secret-123", b"adm-Secret-123")]


def test_health_needs_no_admin_token(admin_client):
    assert admin_client.get("/health").status_code == 200


# --- GET /sessions/{agentId} ------------------------------------------------------------------


def test_get_returns_record_and_live_state(client, host):
    shows_qr_on_ensure(host)
    client.post("/sessions", json=BODY)
    host.connect("agent-1")

    response = client.get("/sessions/agent-1")

    assert response.status_code == 200
    body = response.get_json()
    assert body["agentId"] == "agent-1" and body["userId"] == "user-1"
    assert body["liveState"]["isReady"] is True and body["liveState"]["sessionState"] == "connected"
    assert body["liveState"]["qr"] is None and body["qr"] is None
    assert body["liveState"]["timestamps"]["readyAt"].endswith("Z")
    assert body["traceId"] == response.headers["X-Trace-Id"]


def test_get_without_live_state(client, app):
    repository.upsert_agent(
        engine(app), user_id="u", agent_id="agent-9", agent_name="n", api_key=None, endpoint_url_run="x"
    )

    body = client.get("/sessions/agent-9").get_json()

    assert body["liveState"] == {
        "isReady": False,
        "hasClient": False,
        "sessionState": None,
        "qr": None,
        "pairingCode": None,
        "reason": None,
        "host": None,
        "timestamps": {"qrUpdatedAt": None, "readyAt": None, "updatedAt": None},
    }


def test_get_unknown_agent_is_404(client):
    error = assert_error(client.get("/sessions/nobody"), 404, "SESSION_NOT_FOUND")
    assert "nobody" in error["message"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/sessions/a%20b"),
        ("get", "/sessions/..etc"),
        ("get", "/sessions/abc%0A"),
        ("get", "/sessions/%FF%FE"),
        ("delete", "/sessions/-leading-dash"),
        ("post", "/sessions/" + "x" * 200 + "/qr"),
        ("post", "/sessions/a*b/reconnect"),
        ("post", "/sessions/a:b/pairing-code"),
    ],
)
def test_bad_agent_id_in_the_path_is_400(client, host, method, path):
    response = getattr(client, method)(path, json={"phoneNumber": "6281234567890"})

    error = assert_error(response, 400, "INVALID_PAYLOAD")
    assert "agentId" in error["message"]
    assert host.pending() == []


def test_unknown_route_and_method_use_the_envelope(client):
    assert_error(client.get("/nothing-here"), 404, "NOT_FOUND")
    assert_error(client.put("/sessions/agent-1"), 405, "METHOD_NOT_ALLOWED")


# --- DELETE /sessions/{agentId} -------------------------------------------------------------


def test_delete_unknown_agent_is_deleted_false(client):
    response = client.delete("/sessions/nobody")

    assert response.status_code == 200
    body = response.get_json()
    assert body["deleted"] is False and body["agentId"] == "nobody"
    assert body["traceId"] == response.headers["X-Trace-Id"]


def test_delete_stops_the_session_then_deletes_the_record(client, app, host):
    shows_qr_on_ensure(host)
    client.post("/sessions", json=BODY)

    response = client.delete("/sessions/agent-1")

    assert response.status_code == 200
    body = response.get_json()
    assert body["deleted"] is True and body["sessionStopped"] is True and body["authDeleted"] is False
    assert host.handled[-1][0] == JobName.DESTROY
    assert host.handled[-1][1]["deleteAuth"] is False
    assert repository.get_agent(engine(app), "agent-1") is None
    assert host.live.get("agent-1") is None
    assert client.get("/sessions/agent-1").status_code == 404
    # deleting again is harmless
    assert client.delete("/sessions/agent-1").get_json()["deleted"] is False


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"query_string": {"deleteAuth": "true"}}, True),
        ({"json": {"deleteAuth": True}}, True),
        ({"json": {}}, False),
        ({"query_string": {"deleteAuth": "0"}}, False),
    ],
)
def test_delete_can_remove_the_saved_login(client, host, kwargs, expected):
    shows_qr_on_ensure(host)
    client.post("/sessions", json=BODY)

    body = client.delete("/sessions/agent-1", **kwargs).get_json()

    assert host.handled[-1] == (
        JobName.DESTROY,
        {"agentId": "agent-1", "deleteAuth": expected, "traceId": body["traceId"], "notBefore": None},
    )
    assert body["authDeleted"] is expected


@pytest.mark.parametrize(
    "kwargs",
    [
        {"query_string": {"deleteAuth": "maybe"}},
        {"json": {"deleteAuth": "perhaps"}},
        {"data": "{nope", "content_type": "application/json"},
    ],
)
def test_delete_refuses_a_bad_flag(client, kwargs):
    assert_error(client.delete("/sessions/agent-1", **kwargs), 400, "INVALID_PAYLOAD")


def test_delete_waits_for_a_slow_host(client, app, host):
    # given: the host needs longer than the Redis client's socket timeout (5 s) to stop Chrome
    client.post("/sessions?wait=0", json=BODY)
    job = host.next_job()
    assert job.func_name == JobName.ENSURE

    def stop_slowly():
        job = host.next_job(timeout=10)
        later(6.5, lambda: (host.destroy("agent-1"), host.finish(job, {"stopped": True})))

    later(0, stop_slowly)

    response = client.delete("/sessions/agent-1")

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["sessionStopped"] is True
    assert repository.get_agent(engine(app), "agent-1") is None


def test_delete_when_the_host_never_answers_still_deletes_the_record(app, host, make_app):
    # a wait longer than the Redis socket timeout (5 s) ends as "not confirmed", not as a 503
    client = make_app(stop_wait_seconds=7).test_client()
    _record(app)
    host.registry.claim("agent-1", host.host_id, None)

    started = time.monotonic()
    response = client.delete("/sessions/agent-1")

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["deleted"] is True and response.get_json()["sessionStopped"] is False
    assert 6.9 <= time.monotonic() - started < 10


def test_delete_when_the_host_fails_to_stop_is_502_and_keeps_the_record(client, app, host):
    client.post("/sessions?wait=0", json=BODY)
    host.next_job()
    later(0, lambda: host.fail(host.next_job(), "chrome would not quit"))

    error = assert_error(client.delete("/sessions/agent-1"), 502, "BAD_GATEWAY")

    assert "chrome would not quit" in error["message"]
    assert repository.get_agent(engine(app), "agent-1") is not None


def test_delete_whose_owner_died_and_no_host_lives_does_not_wait(client, app, host_factory):
    # given: the agent's owner stopped heart-beating long ago and no other host runs
    dead = host_factory(register=False)
    dead.registry.register(dead.host_id, 10, now=time.time() - 600)
    dead.registry.claim("agent-1", dead.host_id, None)
    _record(app)

    started = time.monotonic()
    body = client.delete("/sessions/agent-1").get_json()

    assert time.monotonic() - started < 3
    assert body["deleted"] is True and body["sessionStopped"] is False
    assert dead.registry.owner_of("agent-1") is None
    assert dead.pending() == []


def test_delete_whose_owner_died_goes_to_the_host_taking_over(client, app, host_factory):
    dead = host_factory(register=False)
    dead.registry.register(dead.host_id, 10, now=time.time() - 600)
    dead.registry.claim("agent-1", dead.host_id, None)
    heir = host_factory()
    heir.serve({JobName.DESTROY: lambda job: heir.destroy("agent-1")})
    _record(app)

    body = client.delete("/sessions/agent-1?deleteAuth=true").get_json()

    assert body["deleted"] is True and body["sessionStopped"] is True and body["authDeleted"] is True
    assert [(name, job["deleteAuth"]) for name, job in heir.handled] == [(JobName.DESTROY, True)]
    assert dead.pending() == []


# --- POST /sessions/{agentId}/reconnect --------------------------------------------------


def test_reconnect_unknown_agent_is_404(client, host):
    assert_error(client.post("/sessions/nobody/reconnect"), 404, "SESSION_NOT_FOUND")
    assert host.pending() == []


def test_reconnect_stops_clears_login_starts_and_answers_the_new_qr(client, app, host):
    shows_qr_on_ensure(host, qrs=[QR, "2@new-qr"])
    client.post("/sessions", json=BODY)
    host.connect("agent-1")
    repository.set_status(engine(app), "agent-1", "connected")
    host.handled.clear()

    response = client.post("/sessions/agent-1/reconnect", headers={"X-Request-Id": "req-re-1"})

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert host.handled == [
        (
            JobName.DESTROY,
            {"agentId": "agent-1", "deleteAuth": True, "traceId": "req-re-1", "notBefore": None},
        ),
        (JobName.ENSURE, {"agentId": "agent-1", "traceId": "req-re-1", "notBefore": None}),
    ]
    assert body["status"] == "awaiting_qr" and body["agentId"] == "agent-1"
    assert body["liveState"]["qr"] == "2@new-qr" and body["liveState"]["isReady"] is False
    assert decode_png(body["qr"]["base64"]) == "2@new-qr"
    assert host.registry.owner_of("agent-1") == host.host_id


def test_reconnect_without_a_host_is_503(client, app):
    _record(app)

    assert_error(client.post("/sessions/agent-1/reconnect"), 503, "NO_SESSION_HOST")


def test_reconnect_when_the_host_does_not_stop_in_time_is_502(app, host, make_app):
    client = make_app(stop_wait_seconds=1).test_client()
    _record(app)
    host.registry.claim("agent-1", host.host_id, None)

    error = assert_error(client.post("/sessions/agent-1/reconnect"), 502, "BAD_GATEWAY")

    assert "in time" in error["message"]
    assert [job.func_name for job in host.pending()] == [JobName.DESTROY]


# --- POST /sessions/{agentId}/qr ------------------------------------------------------------


def _record(app, agent_id: str = "agent-1") -> None:
    repository.upsert_agent(
        engine(app), user_id="u", agent_id=agent_id, agent_name="n", api_key=None, endpoint_url_run="x"
    )


def test_qr_unknown_agent_is_404(client, host):
    assert_error(client.post("/sessions/nobody/qr"), 404, "SESSION_NOT_FOUND")
    assert host.pending() == []


def test_qr_returns_as_soon_as_the_host_writes_it(client, app, host):
    # given: the host shows the QR 1 s after it gets the ensure job; the wait allows 5 s
    _record(app)
    written: list[float] = []

    def ensure(job):
        def show():
            written.append(time.monotonic())
            host.show_qr("agent-1", QR)

        later(1.0, show)

    host.serve({JobName.ENSURE: ensure})

    response = client.post("/sessions/agent-1/qr")
    answered = time.monotonic()

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert set(body) == {"qr", "qrUpdatedAt", "traceId"}
    assert body["qr"]["contentType"] == "image/png"
    assert decode_png(body["qr"]["base64"]) == QR
    assert body["qrUpdatedAt"].endswith("Z")
    assert written and answered - written[0] < 1.0  # the deadline is 5 s away


def test_qr_already_shown_is_answered_at_once(client, app, host):
    _record(app)
    host.show_qr("agent-1", QR)

    started = time.monotonic()
    response = client.post("/sessions/agent-1/qr")

    assert response.status_code == 200
    assert time.monotonic() - started < 1
    assert decode_png(response.get_json()["qr"]["base64"]) == QR
    assert host.next_job().func_name == JobName.ENSURE


def test_qr_when_already_connected_is_409(client, app, host):
    _record(app)
    host.connect("agent-1")

    assert_error(client.post("/sessions/agent-1/qr"), 409, "ALREADY_CONNECTED")


def test_qr_that_never_comes_times_out_with_504(client, app, host):
    _record(app)
    host.serve({})

    started = time.monotonic()
    response = client.post("/sessions/agent-1/qr?wait=1.5")
    elapsed = time.monotonic() - started

    error = assert_error(response, 504, "QR_TIMEOUT")
    assert "1.5" in error["message"]
    assert 1.4 <= elapsed < 4


def test_qr_wait_longer_than_the_redis_socket_timeout(make_app, host):
    # the Redis client gives up on a silent socket after 5 s; a 60 s QR wait must not
    app = make_app(qr_wait_seconds=20)
    _record(app)

    def ensure(job):
        later(6.0, lambda: host.show_qr("agent-1", QR))

    host.serve({JobName.ENSURE: ensure})

    response = app.test_client().post("/sessions/agent-1/qr")

    assert response.status_code == 200, response.get_json()
    assert decode_png(response.get_json()["qr"]["base64"]) == QR


def test_qr_wait_is_capped_by_the_setting(make_app, host):
    # QR_WAIT_SECONDS=1: asking for 600 waits 1
    app = make_app(qr_wait_seconds=1)
    _record(app)
    host.serve({})

    started = time.monotonic()
    response = app.test_client().post("/sessions/agent-1/qr?wait=600")

    assert_error(response, 504, "QR_TIMEOUT")
    assert 0.9 <= time.monotonic() - started < 3


def test_qr_reports_an_auth_failure_instead_of_waiting(client, app, host):
    _record(app)

    def ensure(job):
        later(
            0.2, lambda: host.live.set_state("agent-1", SessionState.AUTH_FAILED, host="h", reason="banned")
        )

    host.serve({JobName.ENSURE: ensure})

    started = time.monotonic()
    error = assert_error(client.post("/sessions/agent-1/qr"), 504, "QR_TIMEOUT")

    assert "banned" in error["message"]
    assert time.monotonic() - started < 2


def test_qr_without_a_host_is_503(client, app):
    _record(app)

    assert_error(client.post("/sessions/agent-1/qr"), 503, "NO_SESSION_HOST")


# --- POST /sessions/{agentId}/pairing-code ----------------------------------------------


def test_pairing_code_is_requested_on_the_agent_queue(client, app, host):
    _record(app)
    host.serve({})

    def answer():
        job = host.next_job(queue=host.agent_queue("agent-1"))
        host.finish(job, {"code": "ABCD-1234"})

    worker = later(0, answer)

    response = client.post("/sessions/agent-1/pairing-code", json={"phoneNumber": "+62 812-3456-7890"})
    worker.join(5)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["code"] == "ABCD-1234" and body["phoneNumber"] == "6281234567890"
    # (the ensure job, served on another thread, may be recorded after it)
    assert JobName.PAIRING_CODE in [name for name, _payload in host.handled]
    assert host.handled[-1][1]["phoneNumber"] == "6281234567890"


def test_pairing_code_timeout_is_504(client, app, host):
    _record(app)
    host.serve({})

    assert_error(
        client.post("/sessions/agent-1/pairing-code?wait=1", json={"phoneNumber": "6281234"}),
        504,
        "QR_TIMEOUT",
    )


@pytest.mark.parametrize("payload", [{}, {"phoneNumber": "abc"}, {"phoneNumber": 62812345}])
def test_pairing_code_refuses_bad_phone_numbers(client, app, payload):
    _record(app)

    assert_error(client.post("/sessions/agent-1/pairing-code", json=payload), 400, "INVALID_PAYLOAD")


def test_pairing_code_unknown_agent_is_404(client):
    response = client.post("/sessions/nobody/pairing-code", json={"phoneNumber": "6281234567890"})

    assert_error(response, 404, "SESSION_NOT_FOUND")


def _at(hour: int):
    from datetime import UTC, datetime

    return datetime(2026, 1, 1, hour, tzinfo=UTC)
