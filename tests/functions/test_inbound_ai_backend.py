"""The demo AI backend: echo, shapes, told to fail, requests recorded (WSGI test client)."""

from __future__ import annotations

import pytest

from simulator.ai_backend import create_app


@pytest.fixture
def backend():
    return create_app().test_client()


def run(backend, agent_id: str = "a1", text: str = "hi", **headers: str):
    return backend.post(f"/agents/{agent_id}/execute", json={"input": text}, headers=headers)


def test_it_echoes_and_records_the_request(backend):
    response = run(backend, text="Halo", Authorization="Bearer k1")
    assert response.status_code == 200
    assert response.get_json() == {"reply": "Echo: Halo"}
    (seen,) = backend.get("/control/requests?agentId=a1").get_json()
    assert seen["authorization"] == "Bearer k1"
    assert seen["body"] == {"input": "Halo"}
    assert seen["path"] == "/agents/a1/execute"
    assert seen["receivedAt"] > 0


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ("output", {"output": "Echo: hi"}),
        ("response", {"response": "Echo: hi"}),
        ("data", {"data": {"reply": "Echo: hi"}}),
    ],
)
def test_reply_shapes(backend, shape, expected):
    assert backend.put("/control/behaviour", json={"shape": shape}).status_code == 200
    assert run(backend).get_json() == expected


def test_one_agent_can_be_told_to_fail_while_others_echo(backend):
    backend.put("/control/behaviour", json={"agentId": "bad", "status": 500})
    assert run(backend, "bad").status_code == 500
    assert run(backend, "good").get_json() == {"reply": "Echo: hi"}


def test_a_fixed_or_empty_reply(backend):
    backend.put("/control/behaviour", json={"reply": ""})
    assert run(backend).get_json() == {"reply": ""}


def test_bad_control_input_is_refused(backend):
    assert backend.put("/control/behaviour", json={"shape": "xml"}).status_code == 400
    assert backend.put("/control/behaviour", data="nope").status_code == 400


def test_reset_forgets_requests_and_behaviours(backend):
    backend.put("/control/behaviour", json={"status": 503})
    run(backend)
    backend.post("/control/reset")
    assert backend.get("/control/requests").get_json() == []
    assert run(backend).status_code == 200
