"""Build the WhatsApp session of an agent with the engine BROWSER_ENGINE names."""

from __future__ import annotations

from collections.abc import Callable

from session_host.auth_store import AuthStore
from session_host.browser import chrome
from session_host.browser.base import SessionListener, WhatsAppSession
from session_host.browser.session import ChromeSession
from session_host.config import HostSettings

SessionFactory = Callable[[str], WhatsAppSession]


class UnknownEngine(ValueError):
    """Raised when BROWSER_ENGINE names no engine this host can build."""


def _chrome(settings: HostSettings, listener: SessionListener, auth: AuthStore) -> SessionFactory:
    user_agent = chrome.desktop_user_agent(settings)
    return lambda agent_id: ChromeSession(agent_id, settings, listener, auth, user_agent)


_BUILDERS: dict[str, Callable[[HostSettings, SessionListener, AuthStore], SessionFactory]] = {
    "chrome": _chrome,
}


def session_factory(settings: HostSettings, listener: SessionListener, auth: AuthStore) -> SessionFactory:
    """Return a function building an agent's session with the configured engine."""
    try:
        builder = _BUILDERS[settings.browser_engine]
    except KeyError:
        known = ", ".join(sorted(_BUILDERS))
        raise UnknownEngine(f"unknown BROWSER_ENGINE {settings.browser_engine!r}; known: {known}") from None
    return builder(settings, listener, auth)
