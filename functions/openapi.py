"""The OpenAPI 3.0 document, generated from the pydantic models in `functions.schemas`."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from functions import schemas

REF = "#/components/schemas/{model}"
_AGENT = {"name": "agentId", "in": "path", "required": True, "schema": {"type": "string"}}
_JOB = {"name": "jobId", "in": "path", "required": True, "schema": {"type": "string"}}
_IDEMPOTENCY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": "Retrying with the same key returns the first result instead of sending twice.",
    "schema": {"type": "string", "maxLength": 255},
}
_ERRORS = {
    "400": "INVALID_PAYLOAD",
    "401": "UNAUTHORIZED",
    "404": "SESSION_NOT_FOUND",
    "409": "SESSION_NOT_READY",
    "413": "MEDIA_TOO_LARGE / PAYLOAD_TOO_LARGE",
    "429": "RATE_LIMITED",
    "502": "BAD_GATEWAY / AI_DOWNSTREAM_ERROR",
    "503": "SERVICE_UNAVAILABLE / NO_SESSION_HOST",
    "504": "AI_TIMEOUT / QR_TIMEOUT",
}
_OPEN = {"type": "object", "additionalProperties": True}


def _nullable(node: Any) -> Any:
    """Rewrite JSON Schema's `anyOf: [X, null]` as OpenAPI 3.0's `nullable: true`."""
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable(value) for key, value in node.items()}
    options = node.get("anyOf")
    if isinstance(options, list) and {"type": "null"} in options:
        rest = [option for option in options if option != {"type": "null"}]
        node.pop("anyOf")
        node.update(rest[0] if len(rest) == 1 else {"anyOf": rest})
        node["nullable"] = True
    if isinstance(node.get("examples"), list) and "type" in node:
        node["example"] = node.pop("examples")[0]
    return node


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _operation(
    summary: str,
    ok: dict[str, Any],
    *,
    body: type[BaseModel] | None = None,
    params: list[dict[str, Any]] | None = None,
    errors: tuple[str, ...] = (),
    security: str | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {"summary": summary, "parameters": params or [], "responses": dict(ok)}
    if body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body)}}}
    for status in errors:
        operation["responses"][status] = _json(_ref(schemas.ErrorResponse), _ERRORS[status])
    operation["security"] = [{security: []}] if security else []
    return operation


def _paths() -> dict[str, Any]:
    send_ok = {
        "200": _json(_ref(schemas.SendResponse), "WhatsApp accepted the message."),
        "202": _json(_ref(schemas.SendResponse), "Queued; poll the job (delivered: false)."),
    }
    media_ok = {
        "200": _json(_ref(schemas.MediaResponse), "WhatsApp accepted the file."),
        "202": _json(_ref(schemas.MediaResponse), "Queued; poll the job (delivered: false)."),
    }
    send_errors = ("400", "401", "404", "409", "429", "502", "503")
    session_ok = {"200": _json(_OPEN, "The record and its live state.")}
    query = [
        {"name": name, "in": "query", "required": False, "schema": schema, "description": text}
        for name, schema, text in (
            ("status", {"type": "string"}, "Only records with this status."),
            ("host", {"type": "string"}, "Only agents owned by this session host."),
            ("limit", {"type": "integer", "minimum": 1, "maximum": 200}, "Page size (default 50)."),
            ("cursor", {"type": "string"}, "nextCursor of the previous page."),
        )
    ]
    return {
        "/sessions": {
            "get": _operation(
                "List sessions with their live state (admin), paginated",
                {"200": _json(_OPEN, "`{sessions: [...], nextCursor, traceId}`.")},
                params=query,
                errors=("400", "401"),
            ),
            "post": _operation(
                "Create or update an agent's session; wait for its QR",
                {**session_ok, "201": _json(_OPEN, "Created.")},
                body=schemas.CreateSessionRequest,
                errors=("400", "503"),
            ),
        },
        "/sessions/{agentId}": {
            "get": _operation("Session record and live state", session_ok, params=[_AGENT], errors=("404",)),
            "delete": _operation("Stop and delete a session", session_ok, params=[_AGENT], errors=("502",)),
        },
        "/sessions/{agentId}/reconnect": {
            "post": _operation(
                "Restart from a fresh login", session_ok, params=[_AGENT], errors=("404", "502")
            )
        },
        "/sessions/{agentId}/qr": {
            "post": _operation(
                "QR code as a PNG (base64)", session_ok, params=[_AGENT], errors=("404", "504")
            )
        },
        "/sessions/{agentId}/pairing-code": {
            "post": _operation(
                "8-character code to link by phone number instead of a QR",
                session_ok,
                body=schemas.PairingCodeRequest,
                params=[_AGENT],
                errors=("400", "404", "502", "504"),
            )
        },
        "/sessions/{agentId}/jobs": {
            "get": _operation(
                "An agent's jobs (admin); status=failed lists failed sends with their reason",
                {"200": _json(_OPEN, "`{jobs: [...], traceId}`.")},
                params=[_AGENT, query[0], query[2]],
                errors=("400", "401", "404"),
            )
        },
        "/sessions/{agentId}/logout": {
            "post": _operation(
                "Log the linked device out of WhatsApp (the record stays)",
                session_ok,
                params=[_AGENT],
                errors=("401", "404", "502"),
            )
        },
        "/jobs/{jobId}/requeue": {
            "post": _operation(
                "Put a failed job back on its queue (admin)",
                {"200": _json(_OPEN, "`{job, traceId}`.")},
                params=[_JOB],
                errors=("401", "404", "409"),
            )
        },
        "/agents/{agentId}/run": {
            "post": _operation(
                "Ask the agent's AI and send its reply to the chat",
                {"200": _json(_ref(schemas.RunResponse), "The AI's reply and whether it was sent.")},
                body=schemas.RunRequest,
                params=[_AGENT],
                errors=("400", "401", "404", "502", "504"),
                security="bearer",
            )
        },
        "/agents/{agentId}/messages": {
            "post": _operation(
                "Send a text message",
                send_ok,
                body=schemas.SendMessageRequest,
                params=[_AGENT, _IDEMPOTENCY],
                errors=send_errors,
                security="bearer",
            )
        },
        "/agents/{agentId}/media": {
            "post": _operation(
                "Send a file from base64 or a URL (at most 10 MB)",
                media_ok,
                body=schemas.SendMediaRequest,
                params=[_AGENT, _IDEMPOTENCY],
                errors=(*send_errors, "413"),
                security="bearer",
            )
        },
        "/agents/{agentId}/jobs/{jobId}": {
            "get": _operation(
                "State of a send job",
                {"200": _json(_ref(schemas.JobResponse), "The job.")},
                params=[_AGENT, _JOB],
                errors=("401", "404"),
                security="bearer",
            )
        },
        "/health": {"get": _operation("Liveness", {"200": _json(_ref(schemas.HealthResponse), "Serving.")})},
        "/metrics": {
            "get": _operation(
                "Prometheus metrics of the whole deployment",
                {
                    "200": {
                        "description": "Prometheus text",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            )
        },
    }


MODELS: tuple[type[BaseModel], ...] = (
    schemas.CreateSessionRequest,
    schemas.PairingCodeRequest,
    schemas.RunRequest,
    schemas.SendMessageRequest,
    schemas.SendMediaRequest,
    schemas.RunResponse,
    schemas.SendResponse,
    schemas.MediaResponse,
    schemas.JobResponse,
    schemas.HealthResponse,
    schemas.ErrorResponse,
)


def document(server_url: str | None = None) -> dict[str, Any]:
    """Return the OpenAPI document of the gateway."""
    paths = _paths()
    for path, item in paths.items():
        if path.startswith(("/sessions", "/jobs")):
            for operation in item.values():
                operation["security"] = [{"admin": []}]
    components: dict[str, Any] = {}
    for model in MODELS:
        mode = "validation" if issubclass(model, schemas.ApiModel) else "serialization"
        schema = model.model_json_schema(ref_template=REF, mode=mode)
        components.update(schema.pop("$defs", {}))
        components[model.__name__] = schema
    doc = {
        "openapi": "3.0.3",
        "info": {
            "title": "WhatsApp Agent Gateway",
            "version": "0.1.0",
            "description": "Links a WhatsApp account to each AI agent: sessions, sends and the AI proxy.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "The agent's API key."},
                "admin": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "ADMIN_TOKEN; required on /sessions only when it is set.",
                },
            },
        },
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return _nullable(doc)
