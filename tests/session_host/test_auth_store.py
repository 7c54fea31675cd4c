"""The local auth store: one profile directory per agent, lock release, clear and delete."""

from __future__ import annotations

import os
import socket
from pathlib import Path

from session_host.auth_store import LOCK_FILES, LocalAuthStore


def test_each_agent_gets_session_dash_id_under_the_root(tmp_path: Path) -> None:
    store = LocalAuthStore(tmp_path)
    assert store.path("agent-1") == tmp_path / "session-agent-1"
    assert store.path("agent-2") != store.path("agent-1")


def test_prepare_creates_the_profile_and_removes_stale_locks(tmp_path: Path) -> None:
    # given a profile left behind by a dead Chrome (a lock naming a pid that no longer runs)
    store = LocalAuthStore(tmp_path)
    profile = store.path("a1")
    profile.mkdir()
    os.symlink(f"{socket.gethostname()}-999999999", profile / "SingletonLock")
    (profile / "SingletonCookie").write_text("x")
    (profile / "Cookies").write_text("login")
    # when it is prepared for the next browser
    assert store.prepare("a1") == profile
    # then the locks are gone and the saved login stays
    assert not any((profile / name).is_symlink() or (profile / name).exists() for name in LOCK_FILES)
    assert (profile / "Cookies").read_text() == "login"


def test_prepare_creates_a_missing_profile(tmp_path: Path) -> None:
    store = LocalAuthStore(tmp_path / "auth")
    assert store.prepare("new").is_dir()


def test_clear_forgets_the_login_but_keeps_an_empty_profile(tmp_path: Path) -> None:
    store = LocalAuthStore(tmp_path)
    (store.prepare("a1") / "Default").mkdir()
    (store.path("a1") / "Default" / "Local Storage").write_text("login")
    store.clear("a1")
    assert store.path("a1").is_dir()
    assert list(store.path("a1").iterdir()) == []


def test_delete_removes_only_that_agents_profile(tmp_path: Path) -> None:
    store = LocalAuthStore(tmp_path)
    (store.prepare("a1") / "Cookies").write_text("one")
    (store.prepare("a2") / "Cookies").write_text("two")
    assert store.delete("a1") is True
    assert not store.path("a1").exists()
    assert (store.path("a2") / "Cookies").read_text() == "two"
    assert store.delete("never-there") is True
