"""One validated settings object for the session host: every variable, its default and meaning.

Order of precedence: explicit keyword argument, then environment, then the default here.
A missing or malformed variable stops start-up with one line naming it.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contract.hosts import DEFAULT_HOST_TTL_SECONDS
from contract.settings import LogLevel, RedisUrl, load_or_exit

DEV_EVENTS_SECRET = "dev-only-events-secret-change-me"  # noqa: S105 - same dev default as the functions
DESKTOP_USER_AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/{major}.0.0.0 Safari/537.36"
)
# Names session_host.engines can build; kept here so the settings check needs no browser import.
BROWSER_ENGINES = ("chrome",)
# Debian's chromium-headless-shell: the "old headless" build of the same Chromium, about half
# the memory per session of `chromium --headless=new`.
HEADLESS_SHELL = "headless-shell"
BrowserBinary = Literal["headless-shell", "chromium"]


class HostSettings(BaseSettings):
    """Configuration of one session host daemon, read from the environment."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False)

    host_id: str = Field(
        default_factory=socket.gethostname, pattern=r"^[A-Za-z0-9._-]{1,64}$", description="Unique host name."
    )
    max_sessions: int = Field(20, ge=1, le=500, description="Sessions (Chromes) this host accepts.")
    redis_url: RedisUrl = Field(
        "redis://127.0.0.1:6379/0", description="Redis for jobs, live state, registry."
    )
    wa_web_url: str = Field("https://web.whatsapp.com", description="WhatsApp Web, or the simulator's URL.")
    wa_auth_dir: Path = Field(
        Path("var/auth"), description="Profiles `session-<agentId>` (shared for takeover)."
    )
    temp_dir: Path = Field(Path("var/tmp"), description="Media previews; files older than 24 h are removed.")
    events_url: str = Field("http://127.0.0.1:8080", description="Base URL of the functions (events POST).")
    events_secret: str = Field(DEV_EVENTS_SECRET, description="HMAC secret shared with the functions.")
    browser_engine: str = Field("chrome", description="WhatsApp session engine (BROWSER_ENGINES).")
    browser_binary: BrowserBinary = Field(
        HEADLESS_SHELL,
        description="headless-shell (default, with HEADLESS=true) or chromium (full Chromium).",
    )
    chrome_path: str = Field("/usr/bin/chromium", description="Full Chromium binary (never downloaded).")
    headless_shell_path: str = Field(
        "/usr/lib/chromium/chromium-headless-shell", description="Debian's chromium-headless-shell binary."
    )
    chromedriver_path: str = Field(
        "/usr/bin/chromedriver", description="chromedriver binary (copied per run)."
    )
    use_undetected: bool = Field(True, description="undetected-chromedriver; false = plain Selenium.")
    headless: bool = Field(True, description="Run Chrome without a display.")
    user_agent: str | None = Field(
        None, description="User agent; default: desktop Chrome of the same version."
    )
    metrics_port: int = Field(9108, ge=0, le=65535, description="Local /metrics port (0 = disabled).")
    metrics_host: str = Field("127.0.0.1", description="Address /metrics binds to.")
    log_level: LogLevel = Field("INFO", description="Log level.")
    host_ttl_seconds: float = Field(DEFAULT_HOST_TTL_SECONDS, gt=0, description="Silence before takeover.")
    heartbeat_seconds: float = Field(3.0, gt=0, description="Interval of heartbeats and takeover checks.")
    load_timeout_seconds: float = Field(45.0, gt=0, description="WhatsApp Web must load within this.")
    restart_backoff_max_seconds: float = Field(
        60.0, gt=0, description="Cap of crashed-Chrome restart backoff."
    )
    send_ready_wait_seconds: float = Field(30.0, ge=0, description="How long a send waits for a reconnect.")
    event_outbox_max: int = Field(10000, ge=10, description="Undelivered events kept per agent.")
    temp_max_age_hours: float = Field(24.0, gt=0, description="Age after which TEMP_DIR files are deleted.")
    temp_cleanup_minutes: float = Field(30.0, gt=0, description="Interval of the TEMP_DIR cleanup.")
    media_bucket: str | None = Field(None, description="S3 bucket the functions store media in (optional).")
    cloudwatch_namespace: str = Field(
        "", description="CloudWatch namespace for SessionsPerHost (empty = not published)."
    )
    autoscaling_group_name: str = Field(
        "", description="Auto Scaling group of this host: the metric's dimension, scale-in protection."
    )
    scale_in_protection: bool = Field(
        False, description="Protect this instance (HOST_ID) from scale-in while it runs sessions."
    )
    metrics_publish_seconds: float = Field(60.0, gt=0, description="Interval of CloudWatch publishing.")

    @model_validator(mode="after")
    def _protection_needs_a_group(self) -> HostSettings:
        if self.scale_in_protection and not self.autoscaling_group_name:
            raise ValueError("SCALE_IN_PROTECTION needs AUTOSCALING_GROUP_NAME")
        return self

    @field_validator("wa_web_url", "events_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("browser_engine")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        if value not in BROWSER_ENGINES:
            raise ValueError(f"unknown engine {value!r}; known: {', '.join(BROWSER_ENGINES)}")
        return value

    @field_validator("chromedriver_path")
    @classmethod
    def _executable(cls, value: str) -> str:
        if not Path(value).is_file():
            raise ValueError(f"{value} does not exist (install Debian chromium and chromium-driver)")
        return value

    @property
    def uses_headless_shell(self) -> bool:
        """Tell whether Chrome runs as the headless shell (a visible window needs full Chromium)."""
        return self.headless and self.browser_binary == HEADLESS_SHELL

    @property
    def browser_path(self) -> str:
        """Return the binary the host launches."""
        return self.headless_shell_path if self.uses_headless_shell else self.chrome_path

    @model_validator(mode="after")
    def _browser_installed(self) -> HostSettings:
        for name in ("chrome_path", "headless_shell_path"):  # a path given must exist, used or not
            if name in self.model_fields_set and not Path(getattr(self, name)).is_file():
                raise ValueError(f"{name.upper()}: {getattr(self, name)} does not exist")
        if not Path(self.browser_path).is_file():
            variable = "HEADLESS_SHELL_PATH" if self.uses_headless_shell else "CHROME_PATH"
            package = "chromium-headless-shell" if self.uses_headless_shell else "chromium"
            raise ValueError(f"{variable}: {self.browser_path} does not exist (install Debian {package})")
        return self


def load_settings(**overrides: object) -> HostSettings:
    """Build settings or exit with a one-line message naming the bad variable."""
    return load_or_exit(HostSettings, **overrides)
