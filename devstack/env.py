"""Child environments built from the settings classes, so a misspelt variable fails here."""

from __future__ import annotations

import os
from collections.abc import Mapping

from pydantic_settings import BaseSettings

# Variables a developer's shell may carry that would point a stack's children elsewhere.
_FOREIGN_PREFIXES = ("WA_", "EVENTS_", "HOST_")


def env_for(settings_class: type[BaseSettings], values: Mapping[str, object]) -> dict[str, str]:
    """Return the environment variables that give `settings_class` these field values."""
    env: dict[str, str] = {}
    for name, value in values.items():
        if name not in settings_class.model_fields:
            raise KeyError(f"{settings_class.__name__} has no setting {name!r}")
        if value is None:
            continue
        env[name.upper()] = str(value).lower() if isinstance(value, bool) else str(value)
    return env


def settings_env(settings: BaseSettings, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return an environment (on top of `base`, default os.environ) that recreates `settings`."""
    env = dict(os.environ if base is None else base)
    env.update(env_for(type(settings), settings.model_dump()))
    return env


def clean_env() -> dict[str, str]:
    """Return this process's environment without the gateway variables that would leak into a stack."""
    return {k: v for k, v in os.environ.items() if not k.startswith(_FOREIGN_PREFIXES)}
