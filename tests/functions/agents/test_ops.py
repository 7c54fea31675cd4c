"""/metrics, /openapi.json and /docs on the test client."""

from __future__ import annotations

import json

from contract import metrics
from tests.functions.agents.conftest import Agent

BODY = {"to": "6281234567890", "message": "hi"}


def _value(text: str, series: str) -> float | None:
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def test_metrics_are_the_deployment_totals_in_redis(make_client, ready_agent: Agent, redis_client):
    # given counts made by other processes (hosts, workers) into Redis
    metrics.incr(redis_client, metrics.MESSAGES_SENT, amount=7)
    metrics.incr(redis_client, metrics.MESSAGES_RECEIVED, amount=3)
    metrics.observe(redis_client, metrics.AI_LATENCY, 0.2)
    metrics.observe(redis_client, metrics.AI_LATENCY, 3.0)
    client = make_client()
    # and an error answered here
    assert client.post(f"/agents/{ready_agent.agent_id}/messages", json=BODY).status_code == 401
    client.get("/health")
    # when
    response = client.get("/metrics")
    # then
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert _value(text, "sessions_active") == 1
    assert _value(text, "messages_sent_total") == 7
    assert _value(text, "messages_received_total") == 3
    assert _value(text, 'errors_total{code="UNAUTHORIZED"}') == 1
    assert _value(text, 'ai_latency_seconds_bucket{le="0.25"}') == 1
    assert _value(text, 'ai_latency_seconds_bucket{le="5.0"}') == 2
    assert _value(text, "ai_latency_seconds_count") == 2
    assert _value(text, "ai_latency_seconds_sum") == 3.2
    assert _value(text, 'flask_http_request_total{method="GET",status="200"}') == 1
    assert "# TYPE ai_latency_seconds histogram" in text


def test_metrics_on_an_empty_deployment_show_zeros(make_client):
    text = make_client().get("/metrics").get_data(as_text=True)
    for series in ("sessions_active", "messages_sent_total", "messages_received_total", "errors_total"):
        assert _value(text, series) == 0, series
    assert _value(text, "ai_latency_seconds_count") == 0


def test_openapi_document_describes_every_endpoint(make_client):
    doc = make_client(admin_token="operator-secret").get("/openapi.json").get_json()
    assert doc["openapi"] == "3.1.0"
    assert set(doc["paths"]) >= {
        "/sessions",
        "/sessions/{agentId}",
        "/agents/{agentId}/run",
        "/agents/{agentId}/messages",
        "/agents/{agentId}/media",
        "/agents/{agentId}/jobs/{jobId}",
        "/sessions/{agentId}/jobs",
        "/sessions/{agentId}/logout",
        "/jobs/{jobId}/requeue",
        "/health",
        "/metrics",
    }
    # The UI pages, the internal host callbacks and the document itself are not public API.
    assert not [path for path in doc["paths"] if path.startswith(("/ui", "/internal", "/docs", "/openapi"))]
    listing = doc["paths"]["/sessions"]["get"]
    assert {p["name"] for p in listing["parameters"]} == {"status", "host", "limit", "cursor"}
    assert doc["paths"]["/jobs/{jobId}/requeue"]["post"]["security"] == [{"admin": []}]
    schemas = doc["components"]["schemas"]
    assert schemas["SendMessageRequest"]["required"] == ["to", "message"]
    assert schemas["SendMediaRequest"]["properties"]["save_to_temp"]["default"] is True
    media = doc["paths"]["/agents/{agentId}/media"]["post"]
    assert "413" in media["responses"]
    assert media["security"] == [{"bearer": []}]
    assert doc["paths"]["/sessions"]["post"]["security"] == [{"admin": []}]
    # every reference resolves
    text = json.dumps(doc)
    for ref in {part.split('"')[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}:
        assert ref in schemas, ref


def test_openapi_answers_are_typed_and_list_their_error_codes(make_client):
    doc = make_client(admin_token="operator-secret").get("/openapi.json").get_json()
    untyped = []
    for path, item in doc["paths"].items():
        for method, op in item.items():
            for status, answer in op["responses"].items():
                schema = next(iter(answer.get("content", {}).values()), {}).get("schema", {})
                if "$ref" not in schema and path not in ("/metrics", "/media/{token}"):
                    untyped.append((method, path, status))
                if status.startswith(("4", "5")):
                    assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, (method, path, status)
    assert untyped == []
    media = doc["paths"]["/media/{token}"]["get"]["responses"]["200"]["content"]
    assert media == {"*/*": {"schema": {"type": "string", "format": "binary"}}}
    paths = doc["paths"]
    assert paths["/sessions/{agentId}"]["delete"]["responses"]["200"]["content"]["application/json"] == {
        "schema": {"$ref": "#/components/schemas/DeleteSessionResponse"}
    }
    qr = paths["/sessions/{agentId}/qr"]["post"]["responses"]
    assert qr["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/QrResponse")
    assert "ALREADY_CONNECTED" in qr["409"]["description"]
    messages = paths["/agents/{agentId}/messages"]["post"]["responses"]
    assert "IDEMPOTENCY_KEY_REUSED" in messages["422"]["description"]
    assert "IDEMPOTENCY_IN_PROGRESS" in messages["409"]["description"]
    assert "SERVICE_UNAVAILABLE" in messages["503"]["description"]
    agent = next(p for p in paths["/sessions/{agentId}"]["get"]["parameters"] if p["name"] == "agentId")
    assert agent["schema"]["pattern"].startswith("^[A-Za-z0-9]")


def test_openapi_declares_the_admin_scheme_only_when_admin_token_is_set(make_client):
    open_doc = make_client().get("/openapi.json").get_json()
    assert set(open_doc["components"]["securitySchemes"]) == {"bearer"}
    assert open_doc["paths"]["/sessions"]["post"]["security"] == []
    assert "401" not in open_doc["paths"]["/sessions/{agentId}"]["get"]["responses"]
    assert open_doc["paths"]["/agents/{agentId}/run"]["post"]["security"] == [{"bearer": []}]
    guarded = make_client(admin_token="operator-secret").get("/openapi.json").get_json()
    assert set(guarded["components"]["securitySchemes"]) == {"bearer", "admin"}
    assert "401" in guarded["paths"]["/sessions/{agentId}"]["get"]["responses"]


def test_swagger_ui_is_served_locally(make_client):
    client = make_client()
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '"/openapi.json"' in html
    assert "/docs/swagger-ui-bundle.js" in html
    asset = client.get("/docs/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert b"SwaggerUIBundle" in asset.get_data()
    asset.close()
    assert client.get("/docs/../functions/config.py").status_code == 404
