"""AI proxy client against a real local HTTP server playing the AI backend."""

from __future__ import annotations

import time

import pytest

from contract import metrics
from functions.ai import MAX_BODY_BYTES, call_ai, endpoint_for, extract_reply
from functions.errors import AiDownstreamError, AiTimeout
from tests.functions.agents.conftest import FakeServer, reply

PATH = "/agents/a1/execute"
PAYLOAD = {"input": "hi", "parameters": {"max_steps": 5}, "session_id": "628123@c.us", "metadata": {}}


def test_endpoint_prefers_the_record_then_the_backend_default():
    assert endpoint_for("https://ai.example/run", "a1", "http://x") == "https://ai.example/run"
    assert endpoint_for(None, "a1", "http://ai:8090/") == "http://ai:8090/agents/a1/execute"
    assert endpoint_for("  ", "a1", "http://ai:8090") == "http://ai:8090/agents/a1/execute"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"reply": "hello"}, "hello"),
        ({"output": "out"}, "out"),
        ({"response": "resp"}, "resp"),
        ({"data": {"reply": "nested"}}, "nested"),
        ({"data": {"output": {"reply": "deep"}}}, "deep"),
        ("plain text", "plain text"),
        ({"reply": "   "}, None),
        ({"something": "else"}, None),
        ([1, 2], None),
    ],
)
def test_reply_shapes(body, expected):
    assert extract_reply(body) == expected


def test_call_sends_bearer_and_payload_and_records_latency(ai_backend: FakeServer, redis_client):
    # given
    ai_backend.json_route("POST", PATH, 200, {"data": {"reply": "Halo!"}})
    # when
    result = call_ai(
        endpoint=ai_backend.url + PATH, api_key="k-1", payload=PAYLOAD, timeout=5, redis_client=redis_client
    )
    # then
    assert result.reply == "Halo!"
    assert result.raw == {"data": {"reply": "Halo!"}}
    assert result.latency_seconds > 0
    seen = ai_backend.seen[-1]
    assert seen.headers["Authorization"] == "Bearer k-1"
    assert seen.json() == PAYLOAD
    assert redis_client.hget(metrics.histogram_key(metrics.AI_LATENCY), "count") == "1"


def test_plain_text_body_is_the_reply(ai_backend: FakeServer):
    ai_backend.route("POST", PATH, lambda r: reply(r, 200, "just words", content_type="text/plain"))
    result = call_ai(endpoint=ai_backend.url + PATH, api_key=None, payload=PAYLOAD, timeout=5)
    assert result.reply == "just words"
    assert "Authorization" not in ai_backend.seen[-1].headers


def test_timeout_maps_to_ai_timeout(ai_backend: FakeServer, redis_client):
    ai_backend.json_route("POST", PATH, 200, {"reply": "late"}, delay=1.5)
    with pytest.raises(AiTimeout):
        call_ai(
            endpoint=ai_backend.url + PATH,
            api_key="k",
            payload=PAYLOAD,
            timeout=0.3,
            redis_client=redis_client,
        )
    assert redis_client.hget(metrics.histogram_key(metrics.AI_LATENCY), "count") == "1"


@pytest.mark.parametrize("status", [400, 401, 500, 503])
def test_non_2xx_maps_to_downstream_error(ai_backend: FakeServer, status):
    ai_backend.json_route("POST", PATH, status, {"error": "nope"})
    with pytest.raises(AiDownstreamError, match=str(status)):
        call_ai(endpoint=ai_backend.url + PATH, api_key="k", payload=PAYLOAD, timeout=5)


def test_unreadable_json_maps_to_downstream_error(ai_backend: FakeServer):
    ai_backend.route("POST", PATH, lambda r: reply(r, 200, b"{not json", content_type="application/json"))
    with pytest.raises(AiDownstreamError, match="not valid JSON"):
        call_ai(endpoint=ai_backend.url + PATH, api_key="k", payload=PAYLOAD, timeout=5)


def test_connection_refused_maps_to_downstream_error(ai_backend: FakeServer):
    url = ai_backend.url + PATH
    ai_backend.stop()
    with pytest.raises(AiDownstreamError, match="could not be reached"):
        call_ai(endpoint=url, api_key="k", payload=PAYLOAD, timeout=5)


def _trickle(request):
    request.send_response(200)
    request.send_header("Content-Type", "application/json")
    request.send_header("Content-Length", "400")
    request.end_headers()
    for _ in range(40):
        request.wfile.write(b" " * 10)
        request.wfile.flush()
        time.sleep(0.05)


def test_a_trickling_body_still_times_out(ai_backend: FakeServer):
    ai_backend.route("POST", PATH, _trickle)
    started = time.monotonic()
    with pytest.raises(AiTimeout):
        call_ai(endpoint=ai_backend.url + PATH, api_key="k", payload=PAYLOAD, timeout=0.5)
    assert time.monotonic() - started < 1.5


def test_text_without_charset_is_utf8(ai_backend: FakeServer):
    ai_backend.route("POST", PATH, lambda r: reply(r, 200, "Halo 👋 apa kabar?".encode(), "text/plain"))
    result = call_ai(endpoint=ai_backend.url + PATH, api_key="k", payload=PAYLOAD, timeout=5)
    assert result.reply == "Halo 👋 apa kabar?"


def test_an_oversized_body_is_a_downstream_error(ai_backend: FakeServer):
    ai_backend.route("POST", PATH, lambda r: reply(r, 200, b"x" * (MAX_BODY_BYTES + 1), "text/plain"))
    with pytest.raises(AiDownstreamError, match="more than"):
        call_ai(endpoint=ai_backend.url + PATH, api_key="k", payload=PAYLOAD, timeout=5)
