"""The WhatsApp session abstraction the host drives; Chrome + wa-js is one implementation."""

from __future__ import annotations

import abc
from typing import Any, Protocol


class SessionError(RuntimeError):
    """Raised when a session cannot do what was asked (the message says why)."""


class LoadFailed(SessionError):
    """Raised when WhatsApp Web cannot be loaded (no network, blocked, outdated)."""


class BridgeError(SessionError):
    """Raised when the page refuses a command (e.g. unknown chat, not logged in)."""


class SessionListener(Protocol):
    """Receives what a session reports, on whatever thread noticed it."""

    def on_event(self, agent_id: str, event: dict[str, Any]) -> None:
        """Handle one bridge event (`type` plus fields, see bridge/PROTOCOL.md)."""

    def on_crash(self, agent_id: str, reason: str) -> None:
        """Handle the browser dying under a running session."""


class WhatsAppSession(abc.ABC):
    """One agent's linked WhatsApp device."""

    agent_id: str

    @abc.abstractmethod
    def start(self) -> None:
        """Open WhatsApp Web and install the bridge; raise LoadFailed when it cannot load."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Close the browser and everything it started."""

    @abc.abstractmethod
    def kill(self) -> None:
        """End the session's processes at once, without an orderly close (second SIGTERM)."""

    @abc.abstractmethod
    def healthy(self) -> bool:
        """Tell whether the browser and the event channel are still alive."""

    @abc.abstractmethod
    def command(self, name: str, *args: Any, timeout: float = 60.0) -> Any:
        """Call `window.__wagw.<name>(...args)` in the page and return its value."""

    @abc.abstractmethod
    def memory_bytes(self) -> int:
        """Return the memory (PSS) the session's processes use."""

    @abc.abstractmethod
    def pids(self) -> list[int]:
        """Return the ids of the session's processes."""
