"""Turn request bodies into pydantic models, or a clear INVALID_PAYLOAD error."""

from __future__ import annotations

import json
from typing import TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from functions.errors import InvalidPayload, PayloadTooLarge

M = TypeVar("M", bound=BaseModel)


def describe(exc: ValidationError) -> str:
    """Summarise a pydantic error as one readable sentence."""
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error["loc"]) or "body"
        parts.append(f"{where}: {error['msg']}")
    return "; ".join(parts)


def parse_body(model: type[M], *, allow_empty: bool = False) -> M:
    """Validate the JSON body against `model`; non-JSON or wrong shapes are INVALID_PAYLOAD."""
    raw = request.get_data(cache=True)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(raw) >= limit:
        # A chunked body is cut at the limit by Werkzeug instead of refused: refuse it here.
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    if not raw.strip():
        if allow_empty:
            return model.model_validate({})
        raise InvalidPayload("request body must be a JSON object")
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidPayload("request body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise InvalidPayload("request body must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidPayload(describe(exc)) from exc
