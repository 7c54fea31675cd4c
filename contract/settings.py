"""Settings loading shared by every process: a bad variable stops start-up with one line."""

from __future__ import annotations

import sys
from typing import Annotated, Literal, TypeVar

from pydantic import AfterValidator, BeforeValidator, ValidationError
from pydantic_settings import BaseSettings

S = TypeVar("S", bound=BaseSettings)


def _redis_url(value: str) -> str:
    if not value.startswith(("redis://", "rediss://", "unix://")):
        raise ValueError("must start with redis://, rediss:// or unix://")
    return value


def _upper(value: object) -> object:
    return value.upper() if isinstance(value, str) else value


RedisUrl = Annotated[str, AfterValidator(_redis_url)]
LogLevel = Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR"], BeforeValidator(_upper)]


def load_or_exit(cls: type[S], **overrides: object) -> S:
    """Build `cls` from the environment or exit with one line naming the bad variable."""
    try:
        return cls(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        message = first["msg"].removeprefix("Value error, ")
        name = ".".join(str(p) for p in first["loc"]).upper()
        # Whole-object checks (loc is empty) name their variables in the message itself.
        sys.exit(f"configuration error: {name}: {message}" if name else f"configuration error: {message}")
