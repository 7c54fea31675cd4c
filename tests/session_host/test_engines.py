"""The engine factory: BROWSER_ENGINE picks the WhatsApp session implementation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from session_host.auth_store import LocalAuthStore
from session_host.browser.session import ChromeSession
from session_host.config import HostSettings, load_settings
from session_host.engines import UnknownEngine, session_factory


class Listener:
    """Collects what sessions report (nothing here: no browser is started)."""

    def on_event(self, agent_id: str, event: dict[str, Any]) -> None:
        """Ignore events."""

    def on_crash(self, agent_id: str, reason: str) -> None:
        """Ignore crashes."""


def test_chrome_is_the_default_engine(tmp_path: Path) -> None:
    settings = HostSettings(host_id="h1", wa_auth_dir=tmp_path, user_agent="UA/1")
    assert settings.browser_engine == "chrome"
    auth = LocalAuthStore(tmp_path)
    session = session_factory(settings, Listener(), auth)("a1")
    assert isinstance(session, ChromeSession)
    assert (session.agent_id, session.auth, session.user_agent) == ("a1", auth, "UA/1")
    assert not session.healthy()


def test_an_unknown_engine_stops_start_up_naming_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BROWSER_ENGINE", "firefox")
    with pytest.raises(SystemExit) as exited:
        load_settings()
    assert "BROWSER_ENGINE" in str(exited.value.code)
    assert "unknown engine 'firefox'; known: chrome" in str(exited.value.code)


def test_the_factory_refuses_an_engine_it_cannot_build(tmp_path: Path) -> None:
    settings = HostSettings(host_id="h1", user_agent="UA/1").model_copy(update={"browser_engine": "webkit"})
    with pytest.raises(UnknownEngine, match="unknown BROWSER_ENGINE 'webkit'; known: chrome"):
        session_factory(settings, Listener(), LocalAuthStore(tmp_path))
