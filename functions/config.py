"""One validated settings object for the functions: every variable, its default and meaning.

Order of precedence: explicit keyword argument, then environment, then the default here.
A missing or malformed variable stops start-up with one line naming it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contract.settings import LogLevel, RedisUrl, load_or_exit
from functions.webhooks.schema import check_secret, check_url_form, parse_events

DEV_EVENTS_SECRET = "dev-only-events-secret-change-me"  # noqa: S105 - refused in production


class Settings(BaseSettings):
    """Configuration of the API and its workers, read from the environment."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    app_env: Literal["development", "test", "production"] = Field(
        "development", description="Deployment kind; production makes secrets mandatory."
    )
    port: int = Field(8080, ge=1, le=65535, description="Port gunicorn listens on locally.")
    database_url: str = Field(
        "sqlite:///var/gateway.db", description="postgres://… (production) or sqlite:///path."
    )
    database_iam_auth: bool = Field(
        False,
        description="Log in to PostgreSQL with a fresh IAM token per connection (RDS Proxy), no password.",
    )
    db_pool_size: int = Field(5, ge=1, le=100, description="Connections per process (Postgres).")
    redis_url: RedisUrl = Field("redis://127.0.0.1:6379/0", description="Redis for state, jobs, limits.")
    admin_token: str | None = Field(
        None, description="Bearer token required on /sessions*; set it in production."
    )
    events_secret: str = Field(
        DEV_EVENTS_SECRET, description="HMAC secret shared with session hosts for /internal/events."
    )
    ai_backend_url: str = Field(
        "http://127.0.0.1:8090", description="Base URL of the AI backend (agent default endpoint)."
    )
    ai_timeout_seconds: float = Field(60.0, gt=0, description="Timeout of one AI backend call.")
    developer_jid: str | None = Field(None, description="WhatsApp JID alerted on inbound failures.")
    alert_throttle_seconds: float = Field(
        300.0, ge=0, description="At most one developer alert per agent in this many seconds."
    )
    inbound_lease_seconds: float = Field(
        15.0, gt=0, description="A dead worker's in-flight inbound message is retried after this long."
    )
    inbound_sweep_seconds: float = Field(
        5.0, gt=0, description="How often each worker looks for chats a dead worker left unfinished."
    )
    inbound_max_attempts: int = Field(
        5, ge=1, description="Tries of one inbound message on unexpected errors before giving up."
    )
    temp_dir: str = Field("var/tmp", description="Where media previews are written (24 h).")
    media_bucket: str | None = Field(None, description="S3 bucket for media instead of TEMP_DIR.")
    media_max_bytes: int = Field(10 * 1024 * 1024, gt=0, description="Largest media accepted.")
    media_url_allowlist: str = Field(
        "", description="Comma-separated hosts/CIDRs a media URL may resolve to despite being private."
    )
    qr_wait_seconds: float = Field(60.0, gt=0, le=900, description="How long QR requests wait.")
    send_wait_seconds: float = Field(
        25.0, ge=0, le=900, description="How long a send waits for delivery before answering 202."
    )
    stop_wait_seconds: float = Field(
        20.0, ge=0, le=900, description="How long DELETE/reconnect wait for the host to stop a session."
    )
    host_ttl_seconds: float = Field(
        15.0, gt=0, description="A session host silent for this long is considered dead."
    )
    rate_limit_per_minute: int = Field(100, gt=0, description="Messages per agent per minute.")
    rate_limit_burst: int = Field(100, gt=0, description="Bucket size of the per-agent limiter.")
    rate_limit_max_waiting: int = Field(500, ge=0, description="Queued sends per agent before 429.")
    auth_resync_debounce_seconds: float = Field(
        60.0, gt=0, description="At most one api_keys re-sync per agent per this many seconds."
    )
    idempotency_ttl_seconds: int = Field(
        86400, gt=0, description="How long an Idempotency-Key keeps returning its first result."
    )
    media_fetch_timeout_seconds: float = Field(
        20.0, gt=0, description="Connect/read timeout when downloading a media URL."
    )
    max_body_bytes: int = Field(
        16 * 1024 * 1024, gt=0, description="Largest request body (10 MB media as base64 fits)."
    )
    secrets_arn: str | None = Field(
        None,
        description="Secrets Manager secret (JSON NAME: value) read at start and each SECRETS_TTL_SECONDS.",
    )
    secrets_ttl_seconds: float = Field(
        300.0, gt=0, description="How long secrets read from SECRETS_ARN are used before they are read again."
    )
    mark_seen_on_reply: bool = Field(
        True, description="Mark the chat read right before the AI's answer starts typing, as a person would."
    )
    inbound_media: bool = Field(
        False, description="Send inbound images, audio, video, documents and locations to the AI too."
    )
    inbound_media_url_ttl_seconds: int = Field(
        900, gt=0, le=7 * 86400, description="How long the AI's link to an inbound media file works."
    )
    public_url: str | None = Field(
        None,
        description="Base URL the AI backend reaches this API at (media links); default http://127.0.0.1:$PORT.",
    )
    message_status_ttl_seconds: int = Field(
        7 * 86400, gt=0, description="How long a message's status (GET /agents/{id}/messages/{id}) is kept."
    )
    webhook_url: str | None = Field(
        None, description="Deployment-wide webhook receiving every agent's events (besides per-agent ones)."
    )
    webhook_secret: str | None = Field(
        None, description="whsec_<base64> secret signing WEBHOOK_URL deliveries (required with it)."
    )
    webhook_events: str = Field(
        "*", description="Comma-separated event types sent to WEBHOOK_URL (* for all)."
    )
    webhook_url_allowlist: str = Field(
        "", description="Comma-separated hosts/CIDRs a webhook URL may resolve to despite being private."
    )
    webhook_retry_schedule: str = Field(
        "5s,30s,2m,10m,1h,6h,24h",
        description="Delays between tries of a failing webhook delivery (jittered); then it fails for good.",
    )
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=60, description="Timeout of one webhook POST.")
    webhook_lease_seconds: float = Field(
        15.0, gt=0, description="A dead worker's in-flight webhook delivery is retried after this long."
    )
    webhook_sweep_seconds: float = Field(
        1.0, gt=0, description="How often each worker looks for webhook deliveries due for a retry."
    )
    cloudwatch_namespace: str = Field(
        "", description="CloudWatch namespace the workers publish deployment gauges to (empty = none)."
    )
    metrics_publish_seconds: float = Field(60.0, gt=0, description="Interval of CloudWatch publishing.")
    log_level: LogLevel = Field("INFO", description="Log level of every process.")

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if not value.startswith(("postgres://", "postgresql://", "postgresql+psycopg2://", "sqlite:///")):
            raise ValueError("must start with postgres://, postgresql:// or sqlite:///")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _whsec(cls, value: str | None) -> str | None:
        return None if value is None else check_secret(value)

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        return value and check_url_form(value)

    @field_validator("webhook_events")
    @classmethod
    def _webhook_events(cls, value: str) -> str:
        parse_events([name.strip() for name in value.split(",") if name.strip()])
        return value

    @field_validator("webhook_retry_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        parse_schedule(value)
        return value

    @model_validator(mode="after")
    def _deployment_webhook(self) -> Settings:
        if self.webhook_url and not self.webhook_secret:
            raise ValueError("WEBHOOK_SECRET must be set with WEBHOOK_URL")
        return self

    @model_validator(mode="after")
    def _production_secrets(self) -> Settings:
        if self.app_env == "production" and self.events_secret == DEV_EVENTS_SECRET:
            raise ValueError("EVENTS_SECRET must be set in production")
        return self


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_schedule(value: str) -> tuple[float, ...]:
    """Parse `5s,30s,2m,1h` into seconds; raise ValueError on a malformed item."""
    delays = []
    for item in (part.strip().lower() for part in value.split(",")):
        number, unit = item[:-1], item[-1:]
        if unit not in _UNITS:
            number, unit = item, "s"
        try:
            seconds = float(number) * _UNITS[unit]
        except ValueError:
            raise ValueError(f"{item!r} is not a delay like 5s, 2m or 1h") from None
        if seconds < 0:
            raise ValueError(f"{item!r} is negative")
        delays.append(seconds)
    return tuple(delays)


def load_settings(**overrides: object) -> Settings:
    """Build settings or exit with a one-line message naming the bad variable."""
    return load_or_exit(Settings, **overrides)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return this process's settings, loaded once."""
    return load_settings()
