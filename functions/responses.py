"""Render a route's answer through its response model; the one place the traceId is added."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Response, jsonify
from pydantic import BaseModel

from functions.tracing import current_trace_id


def reply(
    model: type[BaseModel],
    data: Mapping[str, Any],
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """Validate `data` against `model`, add the traceId and answer it as JSON.

    Keys the data leaves out stay out (`exclude_unset`), so optional fields appear only when
    they mean something; a body that does not fit its model is a bug and fails loudly.
    """
    body = model.model_validate({**data, "traceId": current_trace_id()}).model_dump(
        mode="json", exclude_unset=True
    )
    body["traceId"] = body.pop("traceId")  # last, as every answer has always had it
    response = jsonify(body)
    response.status_code = status
    response.headers.update(headers or {})
    return response
