"""Secrets read at run time from AWS Secrets Manager (SECRETS_ARN), so a rotation needs no redeploy.

The secret is one JSON object keyed by environment variable name (`EVENTS_SECRET`,
`ADMIN_TOKEN`, `DATABASE_URL`, …), the same object the session hosts read at boot. At cold
start its values replace the settings' (so connections open with them); afterwards the
checks that use a secret on every request (the admin token, the hosts' event signature) ask
`current()`, which re-reads the secret once SECRETS_TTL_SECONDS have passed. A failed re-read
keeps the last values (logged) rather than locking every caller out.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask

from contract import logs
from functions.config import Settings

log = logs.get_logger(__name__)

# Settings fields a deployment may keep in the secret, by their environment variable names.
FIELDS = {
    "DATABASE_URL": "database_url",
    "REDIS_URL": "redis_url",
    "EVENTS_SECRET": "events_secret",
    "ADMIN_TOKEN": "admin_token",
    "WEBHOOK_SECRET": "webhook_secret",
}


class RuntimeSecrets:
    """One secret's values, cached for `ttl_seconds`."""

    def __init__(
        self,
        arn: str,
        ttl_seconds: float,
        client: Any | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.arn = arn
        self.ttl = ttl_seconds
        self._client = client
        self._clock = clock
        self._lock = threading.Lock()
        self._values: dict[str, str] | None = None
        self._read_at = 0.0

    def _fetch(self) -> dict[str, str]:
        if self._client is None:
            import boto3  # the Lambda runtime ships it; only deployments with SECRETS_ARN need it

            self._client = boto3.client("secretsmanager")
        raw = self._client.get_secret_value(SecretId=self.arn)["SecretString"]
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise ValueError("the secret must be a JSON object of NAME: value")
        return {str(name): str(value) for name, value in data.items() if value is not None}

    def values(self) -> dict[str, str]:
        """Return the secret's values, read again once they are older than the TTL."""
        with self._lock:
            stale = self._values is None or self._clock() - self._read_at >= self.ttl
            if stale:
                try:
                    self._values = self._fetch()
                    self._read_at = self._clock()
                except Exception as exc:
                    if self._values is None:
                        raise
                    # Keep serving with what we had; try again on the next call past the TTL.
                    self._read_at = self._clock()
                    log.error("could not re-read the runtime secret; keeping the last values", error=str(exc))
            return dict(self._values or {})

    def expire(self) -> None:
        """Read the secret again on the next use (the last values stay as the fallback)."""
        with self._lock:
            self._read_at = float("-inf")

    def settings_update(self) -> dict[str, str]:
        """Return the Settings fields the secret sets."""
        return {field: self.values()[name] for name, field in FIELDS.items() if name in self.values()}


def apply(settings: Settings, client: Any | None = None) -> tuple[Settings, RuntimeSecrets | None]:
    """Return the settings with the secret's values (when SECRETS_ARN is set) and the cache."""
    if not settings.secrets_arn:
        return settings, None
    store = RuntimeSecrets(settings.secrets_arn, settings.secrets_ttl_seconds, client)
    updated = Settings.model_validate({**settings.model_dump(), **store.settings_update()})
    return updated, store


def current(app: Flask, field: str) -> Any:
    """Return a secret setting's value now: from the secret's cache when there is one."""
    store: RuntimeSecrets | None = app.extensions.get("runtime_secrets")
    if store is not None:
        name = next(n for n, f in FIELDS.items() if f == field)
        values = store.values()
        if name in values:
            return values[name]
    return getattr(app.config["SETTINGS"], field)
