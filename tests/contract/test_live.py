"""Live session state on a real Redis: the one setter, its published changes, and waiting."""

from __future__ import annotations

import json
import time

import pytest
import redis

from contract.live import (
    ACTIVE_KEY,
    LOGGED_OUT_REASON,
    LiveStateStore,
    SessionState,
    live_channel,
    live_key,
    timestamps,
)
from tests.support.host import later


@pytest.fixture
def store(redis_client) -> LiveStateStore:
    return LiveStateStore(redis_client)


def test_no_state_until_a_host_reports_one(store):
    assert store.get("a1") is None
    assert timestamps(None) == {"qrUpdatedAt": None, "readyAt": None, "updatedAt": None}


def test_set_state_stores_and_publishes(store, redis_client):
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(live_channel("a1"))

    written = store.set_state("a1", SessionState.AWAITING_QR, host="h1", qr="2@abc,def")

    assert store.get("a1") == written
    assert written.qr == "2@abc,def" and written.qr_updated_at is not None
    assert not written.is_ready
    message = None
    deadline = time.monotonic() + 5
    while message is None and time.monotonic() < deadline:
        message = pubsub.get_message(timeout=1)
    assert message is not None
    assert json.loads(message["data"])["qr"] == "2@abc,def"
    pubsub.close()


def test_connecting_clears_the_qr_and_counts_as_active(store):
    shown = store.set_state("a1", SessionState.AWAITING_QR, host="h1", qr="2@abc")

    ready = store.set_state("a1", SessionState.CONNECTED, host="h1", qr="ignored")

    assert ready.is_ready and ready.qr is None and ready.ready_at is not None
    # when the last QR was shown is kept for the API's timestamps (a QR outside awaiting_qr is not one)
    assert ready.qr_updated_at == shown.qr_updated_at
    assert store.active_count() == 1
    store.set_state("a1", SessionState.DISCONNECTED, host="h1", reason="logged out")
    assert store.active_count() == 0
    assert store.get("a1").reason == "logged out"


def test_clear_forgets_the_state(store, redis_client):
    store.set_state("a1", SessionState.CONNECTED, host="h1")

    store.clear("a1", host="h1")

    assert store.get("a1") is None
    assert not redis_client.exists(live_key("a1"))
    assert not redis_client.sismember(ACTIVE_KEY, "a1")


def test_wait_for_returns_as_soon_as_the_qr_is_written(store):
    # given: the host writes a QR 0.5 s from now; the wait allows 10 s
    written_at: list[float] = []

    def host_writes_qr() -> None:
        written_at.append(time.monotonic())
        store.set_state("a1", SessionState.AWAITING_QR, host="h1", qr="2@qr")

    writer = later(0.5, host_writes_qr)

    # when
    started = time.monotonic()
    state = store.wait_for("a1", lambda s: bool(s.qr), timeout=10)
    returned = time.monotonic()
    writer.join(5)

    # then: it returned right after the write, far from the 10 s deadline
    assert state is not None and state.qr == "2@qr"
    assert written_at and returned - written_at[0] < 1.0
    assert returned - started < 3.0


def test_wait_for_ignores_changes_that_do_not_match(store):
    first = later(0.2, lambda: store.set_state("a1", SessionState.STARTING, host="h1"))
    second = later(0.4, lambda: store.set_state("a1", SessionState.AWAITING_QR, host="h1", qr="2@late"))

    state = store.wait_for("a1", lambda s: bool(s.qr), timeout=10)
    first.join(5)
    second.join(5)

    assert state is not None and state.qr == "2@late"


def test_wait_for_returns_the_current_state_at_once(store):
    store.set_state("a1", SessionState.CONNECTED, host="h1")

    started = time.monotonic()
    state = store.wait_for("a1", lambda s: s.is_ready, timeout=10)

    assert state is not None and state.is_ready
    assert time.monotonic() - started < 1.0


def test_wait_for_times_out_cleanly(store, redis_client):
    started = time.monotonic()

    state = store.wait_for("a1", lambda s: bool(s.qr), timeout=1.0)

    elapsed = time.monotonic() - started
    assert state is None
    assert 0.9 <= elapsed < 3.0
    # the subscription was closed: nobody is left listening on the channel
    assert redis_client.pubsub_numsub(live_channel("a1")) == [(live_channel("a1"), 0)]


def test_wait_for_survives_pubsub_health_checks(redis_url):
    # the API pings idle connections (every 15 s there); a long QR wait must skip the pongs
    client = redis.Redis.from_url(redis_url, decode_responses=True, health_check_interval=1, socket_timeout=5)
    store = LiveStateStore(client)
    writer = later(2.5, lambda: store.set_state("a1", SessionState.AWAITING_QR, host="h1", qr="2@pinged"))

    state = store.wait_for("a1", lambda s: bool(s.qr), timeout=10)
    writer.join(5)
    client.close()

    assert state is not None and state.qr == "2@pinged"


def test_logged_in_follows_connect_and_is_lost_to_a_qr_logout_or_auth_failure(store):
    assert not store.set_state("a1", SessionState.STARTING, host="h1").logged_in
    assert store.set_state("a1", SessionState.CONNECTED, host="h1").logged_in
    # kept through a host restart, a crash and a takeover by another host
    stopped = store.set_state("a1", SessionState.DISCONNECTED, host="h1", reason="session host stopped")
    assert stopped.logged_in and stopped.resuming
    starting = store.set_state("a1", SessionState.STARTING, host="h2")
    assert starting.logged_in and starting.resuming
    assert store.get("a1").resuming
    # lost when the device is logged out, and stays lost until WhatsApp accepts a login again
    assert not store.set_state("a1", SessionState.DISCONNECTED, host="h2", reason=LOGGED_OUT_REASON).logged_in
    assert not store.set_state("a1", SessionState.STARTING, host="h2").resuming
    store.set_state("a1", SessionState.CONNECTED, host="h2")
    assert not store.set_state("a1", SessionState.AUTH_FAILED, host="h2", reason="unpaired").logged_in
    store.set_state("a1", SessionState.CONNECTED, host="h2")
    assert not store.set_state("a1", SessionState.AWAITING_QR, host="h2", qr="2@x").logged_in
    # a failed start is not being reopened, whatever the login
    store.set_state("a1", SessionState.CONNECTED, host="h2")
    failed = store.set_state("a1", SessionState.FAILED, host="h2", reason="no page")
    assert failed.logged_in and not failed.resuming


def test_the_linked_number_is_kept_while_logged_in_and_dropped_on_logout(store):
    store.set_state("a1", SessionState.CONNECTED, host="h1", phone="628123")
    assert store.set_state("a1", SessionState.DISCONNECTED, host="h1", reason="network").phone == "628123"
    assert store.set_state("a1", SessionState.CONNECTED, host="h1").phone == "628123"
    logged_out = store.set_state("a1", SessionState.DISCONNECTED, host="h1", reason=LOGGED_OUT_REASON)
    assert logged_out.phone is None


def test_restore_writes_back_a_lost_state_but_never_over_a_newer_one(store, redis_client):
    written = store.set_state("a1", SessionState.CONNECTED, host="h1", phone="628123")
    assert store.restore(written) is False  # still there: nothing to do
    redis_client.flushall()
    assert store.restore(written) is True
    again = store.get("a1")
    assert again is not None and again.is_ready and again.phone == "628123"
    assert redis_client.sismember(ACTIVE_KEY, "a1")
