"""Events out, end to end: message status and signed webhooks, with real processes throughout.

One stack for the module: Redis, PostgreSQL, the simulator (playing the peers' phones),
gunicorn, one session host with Chromium, one worker delivering webhooks (and answering
inbound messages through the demo AI), and local receivers that verify every signature with
the `standardwebhooks` library.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from rq.registry import FailedJobRegistry

from contract import jobs
from devstack.ai import AiBackend
from devstack.process import wait_until
from devstack.receiver import Delivery, Receiver
from devstack.stack import Stack, inbound_stack
from devstack.workers import Workers
from functions.webhooks.schema import new_secret

pytestmark = pytest.mark.e2e

USER = "6281234577001"
USER_JID = f"{USER}@c.us"
GROUP = "120363000000000555@g.us"
PHONES = itertools.count(6281377000001)
# Quick retries, so a receiver that recovers is retried within seconds (the default waits minutes).
SCHEDULE = "1,2,3,5,5,5,5,5,5,5,5,5,5,5"
OUTAGE_SECONDS = 30


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> Iterator[tuple[Stack, AiBackend, Workers]]:
    run_dir = tmp_path_factory.mktemp("e2e-webhooks")
    api = {
        "webhook_url_allowlist": "127.0.0.1",
        "webhook_retry_schedule": SCHEDULE,
        "webhook_lease_seconds": 3,
        "webhook_timeout_seconds": 2,
        "rate_limit_burst": 300,
    }
    with inbound_stack(run_dir, pg_url, workers=1, **api) as running:
        yield running


@pytest.fixture(scope="module")
def stack(rig) -> Stack:
    return rig[0]


@pytest.fixture(autouse=True)
def peers_ack_nothing_by_default(stack: Stack) -> None:
    """Each test says how the peers' phones answer; by default they acknowledge nothing."""
    stack.sim("POST", "/control/peers", json={"ackDelay": None, "readDelay": None})


class Agent:
    """A linked agent with its own receiver."""

    def __init__(self, stack: Stack, name: str, events: list[str]):
        self.stack = stack
        self.id = f"hooks-{name}"
        self.key = f"key-{name}"
        self.phone = str(next(PHONES))
        self.secret = new_secret()
        self.receiver = Receiver(self.secret)
        stack.link(self.id, self.phone, self.key)
        answer = self.put_webhooks([{"url": self.receiver.url, "events": events, "secret": self.secret}])
        assert answer.status_code == 200, answer.text

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def put_webhooks(self, webhooks: list[dict[str, Any]]):
        return self.stack.api(
            "PUT", f"/agents/{self.id}/webhooks", json={"webhooks": webhooks}, headers=self.auth
        )

    def send(self, text: str, to: str = USER) -> str:
        response = self.stack.api(
            "POST", f"/agents/{self.id}/messages", json={"to": to, "message": text}, headers=self.auth
        )
        assert response.status_code == 200, response.text
        return response.json()["messageId"]

    def status(self, message_id: str) -> dict[str, Any]:
        response = self.stack.api("GET", f"/agents/{self.id}/messages/{message_id}", headers=self.auth)
        assert response.status_code == 200, response.text
        return response.json()

    def inbound(self, **body: Any) -> str:
        return self.stack.sim("POST", f"/control/accounts/{self.phone}/inbound", json=body)["id"]

    def on_message(self, message_id: str, action: str, **body: Any) -> dict[str, Any]:
        return self.stack.sim(
            "POST", f"/control/accounts/{self.phone}/messages/{message_id}/{action}", json=body
        )

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Return the distinct events received (by webhook-id), in first-arrival order."""
        seen: dict[str, dict[str, Any]] = {}
        for delivery in self.receiver.accepted():
            seen.setdefault(delivery.webhook_id, delivery.body)
        return [e for e in seen.values() if kind is None or e["type"] == kind]

    def wait_events(
        self, predicate, timeout: float = 30, message: str = "webhook events"
    ) -> list[dict[str, Any]]:
        return wait_until(
            lambda: (found := self.events()) and predicate(found) and found, timeout, message=message
        )


@pytest.fixture(scope="module")
def status_agent(stack: Stack) -> Iterator[Agent]:
    agent = Agent(stack, "status", ["message.sent", "message.ack"])
    yield agent
    agent.receiver.close()


def acks_of(events: list[dict[str, Any]], message_id: str) -> list[str]:
    return [
        e["data"]["status"]
        for e in events
        if e["type"] == "message.ack" and e["data"]["messageId"] == message_id
    ]


def test_a_sent_text_reports_sent_then_delivered_then_read_signed(stack, status_agent):
    # given peers whose phones receive at once and read a moment later
    stack.sim("POST", "/control/peers", json={"ackDelay": 0.05, "readDelay": 0.3})
    # when the agent sends a text
    message_id = status_agent.send("hello, status")
    # then its receiver hears sent, then delivered, then read, each signed
    events = status_agent.wait_events(lambda found: "read" in acks_of(found, message_id), message="read ack")
    mine = [e for e in events if e["data"]["messageId"] == message_id]
    assert [(e["type"], e["data"]["status"]) for e in mine] == [
        ("message.sent", "sent"),
        ("message.ack", "delivered"),
        ("message.ack", "read"),
    ]
    assert all(d.verified for d in status_agent.receiver.all()), "every delivery carries a valid signature"
    assert all(e["agentId"] == status_agent.id and e["id"].startswith("evt_") for e in mine)
    sequences = [e["sequence"] for e in mine]
    assert sequences == sorted(sequences) and len(set(sequences)) == 3
    # and the message's status says read, with when it got there
    status = status_agent.status(message_id)
    assert (status["status"], status["direction"], status["chatId"], status["type"]) == (
        "read",
        "out",
        USER_JID,
        "chat",
    )
    assert {"pending", "sent", "delivered", "read"} <= set(status["timestamps"])
    assert status["timestamps"]["sent"] <= status["timestamps"]["delivered"] <= status["timestamps"]["read"]
    # and the send's job id finds the same record
    assert status_agent.status(status["jobId"])["messageId"] == message_id


def test_acks_out_of_order_or_repeated_never_move_the_status_back(stack, status_agent):
    message_id = status_agent.send("hello, out of order")
    marker = status_agent.send("a marker")
    # when the peer's phone reports read before delivered, and delivered twice
    for level in ("read", "delivered", "delivered"):
        status_agent.on_message(message_id, "ack", status=level)
    # (acks travel in order: once the marker's ack is in, the ones before it were applied)
    status_agent.on_message(marker, "ack", status="delivered")
    status_agent.wait_events(lambda found: acks_of(found, marker) == ["delivered"], message="marker ack")
    # then the status is read, and never went back
    status = status_agent.status(message_id)
    assert status["status"] == "read"
    assert "delivered" in status["timestamps"], "the late ack still says when it was delivered"
    assert acks_of(status_agent.events(), message_id) == ["read"]


def test_an_unknown_message_is_404_in_the_envelope(stack, status_agent):
    response = stack.api(
        "GET", f"/agents/{status_agent.id}/messages/false_nobody@c.us_NOPE", headers=status_agent.auth
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "MESSAGE_NOT_FOUND"


def test_reactions_edits_and_revokes_reach_the_receiver(stack):
    agent = Agent(stack, "changes", ["message.reaction", "message.edited", "message.revoked"])
    try:
        ours = agent.send("react to me")
        theirs = agent.inbound(**{"from": USER, "body": "typo hre"})
        # when the user reacts to our message, fixes their own message, then deletes it
        agent.on_message(ours, "reaction", **{"from": USER, "emoji": "👍"})
        agent.on_message(theirs, "edit", body="typo here")
        agent.on_message(theirs, "revoke")
        events = agent.wait_events(lambda found: len(found) >= 3, message="three changes")
        # then each arrives once, in order, with what changed
        assert [e["type"] for e in events] == ["message.reaction", "message.edited", "message.revoked"]
        reaction, edit, revoke = (e["data"] for e in events)
        assert (reaction["messageId"], reaction["reaction"], reaction["from"]) == (ours, "👍", USER_JID)
        assert (edit["messageId"], edit["body"], edit["fromMe"]) == (theirs, "typo here", False)
        assert revoke["messageId"] == theirs
    finally:
        agent.receiver.close()


def test_every_inbound_message_is_an_event_but_the_ai_answers_only_what_it_should(stack, rig):
    ai: AiBackend = rig[1]
    agent = Agent(stack, "inbound", ["message", "ai.reply"])
    try:
        text = agent.inbound(**{"from": USER, "body": "what's new?"})
        image = agent.inbound(**{"from": USER, "type": "image", "body": "a photo"})
        group = agent.inbound(**{"from": USER, "body": "hi all", "group": {"id": GROUP, "name": "Team"}})
        events = agent.wait_events(
            lambda found: (
                len([e for e in found if e["type"] == "message"]) >= 3
                and any(e["type"] == "ai.reply" for e in found)
            ),
            message="three messages and the AI's reply",
        )
        messages = {e["data"]["id"]: e["data"] for e in events if e["type"] == "message"}
        assert set(messages) == {text, image, group}
        assert (messages[text]["type"], messages[text]["aiIgnored"]) == ("chat", None)
        assert (messages[image]["type"], messages[image]["aiIgnored"]) == ("image", "not_text")
        assert (messages[group]["isGroup"], messages[group]["aiIgnored"]) == (True, "group_without_mention")
        assert messages[group]["from"] == USER_JID and messages[group]["chatId"] == GROUP
        (reply,) = [e["data"] for e in events if e["type"] == "ai.reply"]
        assert (reply["messageId"], reply["reply"]) == (text, "Echo: what's new?")
        # and the AI saw only the text
        assert [r["body"]["input"] for r in ai.received(agent.id)] == ["what's new?"]
        # and the inbound message's status is recorded
        assert agent.status(text)["direction"] == "in"
    finally:
        agent.receiver.close()


def failed_webhook_jobs(stack: Stack) -> list[str]:
    connection = redis.Redis.from_url(stack.redis_url)
    registry = FailedJobRegistry(jobs.WEBHOOKS_QUEUE, connection=connection, serializer=jobs.SERIALIZER)
    return registry.get_job_ids()


def test_a_receiver_down_for_thirty_seconds_gets_everything_afterwards_with_the_same_ids(stack):
    agent = Agent(stack, "down", ["message"])
    try:
        agent.receiver.status = 500
        sent = [
            agent.inbound(**{"from": USER, "body": f"while down {i}", "group": {"id": GROUP}})
            for i in range(5)
        ]

        def down_long_enough() -> bool:
            tries = agent.receiver.all()
            return len(tries) >= 2 and tries[-1].at - tries[0].at >= OUTAGE_SECONDS

        # the receiver answers 500 to every retry for 30 s
        wait_until(down_long_enough, OUTAGE_SECONDS + 30, message="retries across the outage")
        agent.receiver.status = 200
        events = agent.wait_events(lambda found: len(found) >= 5, timeout=30, message="all after recovery")
        assert [e["data"]["id"] for e in events] == sent, "every event arrives, in order"
        refused = {d.webhook_id for d in agent.receiver.all() if d.status == 500}
        accepted = [d.webhook_id for d in agent.receiver.accepted()]
        assert refused <= set(accepted), "a redelivery keeps its webhook-id"
        assert len(accepted) == len(set(accepted)) == 5
    finally:
        agent.receiver.close()


def test_a_receiver_answering_404_is_not_retried_and_lands_in_the_failed_registry(stack):
    agent = Agent(stack, "gone", ["message"])
    try:
        agent.receiver.status = 404
        before = set(failed_webhook_jobs(stack))
        agent.inbound(**{"from": USER, "body": "nobody home", "group": {"id": GROUP}})
        failed = wait_until(
            lambda: set(failed_webhook_jobs(stack)) - before, 20, message="failed registry entry"
        )
        (job_id,) = failed
        # when the receiver works again, the next event is delivered: the refused one was not
        # retried (a retry would hold the head of the line and come first)
        agent.receiver.status = 200
        agent.inbound(**{"from": USER, "body": "anyone now?", "group": {"id": GROUP}})
        wait_until(lambda: agent.receiver.accepted(), 20, message="the next event")
        refused, next_one = agent.receiver.all()
        assert (refused.status, refused.body["data"]["body"]) == (404, "nobody home")
        assert next_one.body["data"]["body"] == "anyone now?"
        # and an operator requeues the refused one from the failed registry: same id, delivered
        response = stack.api("POST", f"/jobs/{job_id}/requeue", headers=stack.admin_headers)
        assert response.status_code == 200, response.text
        wait_until(lambda: len(agent.receiver.accepted()) == 2, 20, message="redelivery after requeue")
        assert agent.receiver.all()[-1].webhook_id == refused.webhook_id
    finally:
        agent.receiver.close()


def test_a_worker_killed_during_a_burst_of_500_loses_nothing(stack, rig):
    workers: Workers = rig[2]
    agent = Agent(stack, "burst", ["message"])
    try:
        ids = [
            agent.inbound(**{"from": USER, "body": f"burst {i}", "group": {"id": GROUP}}) for i in range(500)
        ]
        wait_until(lambda: len(agent.receiver.accepted()) >= 50, 60, message="the burst under way")
        workers.kill_all()
        workers.start(1)
        events = agent.wait_events(lambda found: len(found) >= 500, timeout=120, message="all 500")
        assert sorted(e["data"]["id"] for e in events) == sorted(ids)
        by_id: dict[str, list[Delivery]] = {}
        for delivery in agent.receiver.accepted():
            by_id.setdefault(delivery.webhook_id, []).append(delivery)
        assert len(by_id) == 500
        assert all(len({d.body["id"] for d in group}) == 1 for group in by_id.values())
    finally:
        agent.receiver.close()


@pytest.mark.parametrize(
    ("webhook", "expected"),
    [
        ({"url": "http://10.1.2.3/hook", "events": ["message"]}, "non-public"),
        ({"url": "http://169.254.169.254/latest", "events": ["message"]}, "non-public"),
        ({"url": "ftp://example.com/hook", "events": ["message"]}, "http"),
        ({"url": "https://example.com/hook", "events": ["message.nope"]}, "unknown event"),
        ({"url": "https://example.com/hook", "events": ["message"], "secret": "whsec_%%%"}, "base64"),
    ],
)
def test_bad_webhooks_are_refused_in_the_envelope(stack, status_agent, webhook, expected):
    response = status_agent.put_webhooks([webhook])
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "INVALID_PAYLOAD" and expected in error["message"].lower(), error


def test_more_than_ten_webhooks_are_refused(stack, status_agent):
    many = [{"url": f"http://127.0.0.1:9/{i}", "events": ["message"]} for i in range(11)]
    response = status_agent.put_webhooks(many)
    assert response.status_code == 400 and response.json()["error"]["code"] == "INVALID_PAYLOAD"


def test_webhooks_are_read_without_secrets_and_deleted(stack):
    agent_id, key = "hooks-crud", "key-crud"
    auth = {"Authorization": f"Bearer {key}"}
    receiver = Receiver()
    try:
        body = {
            "userId": "user-1",
            "agentId": agent_id,
            "agentName": "CRUD",
            "apikey": key,
            "webhooks": [{"url": receiver.url, "events": ["session.status"]}],
        }
        created = stack.api("POST", "/sessions", json=body, headers=stack.admin_headers)
        assert created.status_code in (200, 201), created.text
        (shown,) = created.json()["webhooks"]
        assert shown["secret"].startswith("whsec_")
        # the session's QR is announced to the receiver, signed with the generated secret
        wait_until(
            lambda: any(
                d.body["data"]["status"] == "qr" and d.verifies_with(shown["secret"])
                for d in receiver.accepted()
            ),
            30,
            message="session.status qr",
        )
        listed = stack.api("GET", f"/agents/{agent_id}/webhooks", headers=auth).json()["webhooks"]
        assert [(w["url"], w["events"]) for w in listed] == [(receiver.url, ["session.status"])]
        assert "secret" not in listed[0]
        deleted = stack.api("DELETE", f"/agents/{agent_id}/webhooks", headers=auth)
        assert deleted.status_code == 200 and deleted.json()["webhooks"] == []
        assert stack.api("GET", f"/agents/{agent_id}/webhooks", headers=auth).json()["webhooks"] == []
    finally:
        receiver.close()
        stack.api("DELETE", f"/sessions/{agent_id}", headers=stack.admin_headers)
