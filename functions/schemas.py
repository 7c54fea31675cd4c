"""Request models of the public API (they also feed the OpenAPI document)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

AGENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$"


class ApiModel(BaseModel):
    """Strict-enough request model: trims strings, ignores unknown keys."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore")


class CreateSessionRequest(ApiModel):
    """Body of `POST /sessions`."""

    userId: str = Field(min_length=1, max_length=128)
    # The agent id names a browser profile directory and Redis keys, so it is kept path-safe.
    agentId: str = Field(pattern=AGENT_ID_PATTERN)
    agentName: str = Field(min_length=1, max_length=256)
    apikey: str | None = Field(default=None, max_length=4096)


class DeleteSessionRequest(ApiModel):
    """Optional body of `DELETE /sessions/{agentId}`."""

    deleteAuth: bool = False


class PairingCodeRequest(ApiModel):
    """Body of `POST /sessions/{agentId}/pairing-code`."""

    phoneNumber: str = Field(pattern=r"^\+?[0-9 ()\-]{6,24}$")
