"""Where each agent's WhatsApp login lives: a strategy object, like whatsapp-web.js's LocalAuth.

Lanes and browsers ask the store for a profile directory and tell it when to release, clear
or delete it; a store that syncs profiles to shared storage can replace LocalAuthStore
without any change to them.
"""

from __future__ import annotations

import abc
import contextlib
import os
import shutil
import socket
from pathlib import Path

import psutil

from contract import logs
from session_host.browser.chrome import kill_tree

log = logs.get_logger(__name__)

LOCK_FILES = ("SingletonLock", "SingletonCookie", "SingletonSocket")


class AuthStore(abc.ABC):
    """Keeps the saved login (browser profile) of each agent."""

    @abc.abstractmethod
    def path(self, agent_id: str) -> Path:
        """Return the agent's profile directory (not necessarily existing)."""

    @abc.abstractmethod
    def prepare(self, agent_id: str) -> Path:
        """Make the profile ready for a browser to open: create it, release stale locks."""

    @abc.abstractmethod
    def release_lock(self, agent_id: str) -> None:
        """End a browser orphaned on the profile and remove its lock files."""

    @abc.abstractmethod
    def clear(self, agent_id: str) -> None:
        """Forget the saved login but keep an empty profile for the next start."""

    @abc.abstractmethod
    def delete(self, agent_id: str) -> bool:
        """Remove the profile entirely; return True when nothing is left."""


class LocalAuthStore(AuthStore):
    """Profiles as directories `<root>/session-<agentId>` on a (possibly shared) filesystem."""

    def __init__(self, root: Path):
        self.root = root

    def path(self, agent_id: str) -> Path:
        """Return `<root>/session-<agentId>`."""
        return self.root / f"session-{agent_id}"

    def prepare(self, agent_id: str) -> Path:
        """Create the profile directory and release a stale lock on it."""
        profile = self.path(agent_id)
        profile.mkdir(parents=True, exist_ok=True)
        self.release_lock(agent_id)
        return profile

    def release_lock(self, agent_id: str) -> None:
        """End a Chrome orphaned by a crashed host on this profile and remove its lock files.

        Only the owner of an agent launches on its profile, so a Chrome still holding the lock
        belongs to a previous, dead incarnation; two Chromes on one profile would corrupt it.
        """
        profile = self.path(agent_id)
        with contextlib.suppress(OSError, ValueError, psutil.Error):
            owner_host, _, pid = os.readlink(profile / "SingletonLock").rpartition("-")
            if owner_host == socket.gethostname():
                orphan = psutil.Process(int(pid))
                if "chrom" in orphan.name():
                    log.warning(
                        "ending an orphaned Chrome on the profile", pid=orphan.pid, profile=str(profile)
                    )
                    kill_tree([orphan, *orphan.children(recursive=True)])
        for name in LOCK_FILES:
            with contextlib.suppress(FileNotFoundError):
                (profile / name).unlink()

    def clear(self, agent_id: str) -> None:
        """Remove the saved login and leave an empty profile directory."""
        self.delete(agent_id)
        self.path(agent_id).mkdir(parents=True, exist_ok=True)

    def delete(self, agent_id: str) -> bool:
        """Remove the profile directory; return True when it is gone."""
        profile = self.path(agent_id)
        shutil.rmtree(profile, ignore_errors=True)
        return not profile.exists()
