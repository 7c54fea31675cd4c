"""Settings validation at start, and the TEMP_DIR cleanup."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from session_host.cleanup import remove_old_files
from session_host.config import HostSettings, load_settings


def test_defaults_name_the_debian_binaries_and_real_whatsapp() -> None:
    settings = HostSettings(host_id="h1")
    assert settings.wa_web_url == "https://web.whatsapp.com"
    assert (settings.chrome_path, settings.chromedriver_path) == (
        "/usr/bin/chromium",
        "/usr/bin/chromedriver",
    )
    assert settings.use_undetected is True
    # headless by default, as Debian's chromium-headless-shell; a visible window needs Chromium
    assert settings.browser_path == "/usr/lib/chromium/chromium-headless-shell"
    assert HostSettings(host_id="h1", headless=False).browser_path == "/usr/bin/chromium"
    assert HostSettings(host_id="h1", browser_binary="chromium").browser_path == "/usr/bin/chromium"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("REDIS_URL", "localhost:6379", "REDIS_URL: must start with redis://"),
        ("MAX_SESSIONS", "0", "MAX_SESSIONS:"),
        ("WA_WEB_URL", "web.whatsapp.com", "WA_WEB_URL: must be an http:// or https:// URL"),
        ("CHROME_PATH", "/nowhere/chromium", "CHROME_PATH: /nowhere/chromium does not exist"),
        ("HEADLESS_SHELL_PATH", "/nowhere/shell", "HEADLESS_SHELL_PATH: /nowhere/shell does not exist"),
        ("BROWSER_BINARY", "firefox", "BROWSER_BINARY:"),
        ("HOST_ID", "bad host id", "HOST_ID:"),
    ],
)
def test_a_bad_variable_stops_start_up_with_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(SystemExit) as exited:
        load_settings()
    message = str(exited.value.code)
    assert message.startswith(f"configuration error: {expected}")
    assert "\n" not in message


def test_cleanup_removes_only_files_older_than_the_limit(tmp_path: Path) -> None:
    old = tmp_path / "a" / "old.jpg"
    new = tmp_path / "a" / "new.jpg"
    old.parent.mkdir()
    old.write_bytes(b"x")
    new.write_bytes(b"y")
    day_ago = time.time() - 25 * 3600
    os.utime(old, (day_ago, day_ago))

    removed = remove_old_files(tmp_path, 24 * 3600)

    assert removed == 1
    assert not old.exists()
    assert new.exists() and new.parent.is_dir()
    assert remove_old_files(tmp_path / "missing", 1) == 0
