"""Settings loading shared by every process: a bad variable stops start-up with one line."""

from __future__ import annotations

import sys
from typing import TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings

S = TypeVar("S", bound=BaseSettings)


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
