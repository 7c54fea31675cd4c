"""Richer conversations end to end: locations, contacts, polls, reactions, seen, edits, deletes,
inbound media to the AI (opt-in) and "seen" before the AI's reply.

One stack for the module: Redis, PostgreSQL, the simulator, gunicorn, one session host with
Chromium, one worker and the demo AI backend (which fetches the media links it is given).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import os
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from devstack.ai import AiBackend
from devstack.process import wait_until
from devstack.stack import Stack, inbound_stack

pytestmark = pytest.mark.e2e

USER = "6281234588001"
USER_JID = f"{USER}@c.us"
GROUP = "120363000000000888@g.us"
PHONES = itertools.count(6281388000001)
LINK_TTL_SECONDS = 4


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory, pg_url: str) -> Iterator[tuple[Stack, AiBackend]]:
    run_dir = tmp_path_factory.mktemp("e2e-conversations")
    api = {
        "rate_limit_burst": 300,
        "media_max_bytes": 300_000,
        "inbound_media_url_ttl_seconds": LINK_TTL_SECONDS,
    }
    with inbound_stack(run_dir, pg_url, workers=1, **api) as (stack, ai, _workers):
        yield stack, ai


@pytest.fixture(scope="module")
def stack(rig) -> Stack:
    return rig[0]


@pytest.fixture(scope="module")
def ai(rig) -> AiBackend:
    return rig[1]


class Agent:
    """A linked agent: its id, key and phone."""

    def __init__(self, stack: Stack, name: str, **session: Any):
        self.stack = stack
        self.id = f"talk-{name}"
        self.key = f"key-{name}"
        self.phone = str(next(PHONES))
        if session:
            body = {"userId": "user-1", "agentId": self.id, "agentName": name, "apikey": self.key, **session}
            created = stack.api("POST", "/sessions", json=body, headers=stack.admin_headers)
            assert created.status_code in (200, 201), created.text
            stack.scan_current(self.id, self.phone)
            stack.wait_state(self.id, lambda s: s["isReady"], 60)
        else:
            stack.link(self.id, self.phone, self.key)

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def call(self, method: str, path: str, body: dict[str, Any] | None = None, **headers: str):
        return self.stack.api(method, f"/agents/{self.id}{path}", json=body, headers={**self.auth, **headers})

    def sent(self) -> list[dict[str, Any]]:
        return self.stack.sent(self.phone)

    def actions(self) -> list[dict[str, Any]]:
        return self.stack.sim("GET", f"/control/accounts/{self.phone}/actions")

    def inbound(self, **body: Any) -> str:
        return self.stack.sim("POST", f"/control/accounts/{self.phone}/inbound", json=body)["id"]

    def text(self, text: str) -> str:
        answer = self.call("POST", "/messages", {"to": USER, "message": text})
        assert answer.status_code == 200, answer.text
        return answer.json()["messageId"]


@pytest.fixture(scope="module")
def agent(stack: Stack) -> Agent:
    return Agent(stack, "sender")


def test_a_location_arrives_with_its_fields_and_replays_under_its_idempotency_key(agent):
    body = {"to": USER, "latitude": -6.1754, "longitude": 106.8272, "name": "Monas", "address": "Jakarta"}
    first = agent.call("POST", "/location", body, **{"Idempotency-Key": "loc-1"})
    again = agent.call("POST", "/location", body, **{"Idempotency-Key": "loc-1"})

    assert first.status_code == 200, first.text
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["messageId"] == first.json()["messageId"]
    (sent,) = [s for s in agent.sent() if s["id"] == first.json()["messageId"]]
    assert (sent["to"], sent["location"]) == (
        USER_JID,
        {"latitude": -6.1754, "longitude": 106.8272, "name": "Monas", "address": "Jakarta"},
    )
    assert len([s for s in agent.sent() if s.get("location")]) == 1, "the replay sent nothing"
    status = agent.call("GET", f"/messages/{first.json()['messageId']}").json()
    assert (status["status"], status["type"]) == ("sent", "location")


def test_contacts_and_a_poll_arrive_with_their_fields(agent):
    contacts = {
        "to": USER,
        "contacts": [{"name": "Budi", "phone": "+62 812-1111-2222"}, {"name": "Sari", "phone": "6281333"}],
    }
    poll = {"to": USER, "name": "Lunch?", "options": ["Nasi goreng", "Sate", "Bakso"], "selectableCount": 2}

    card = agent.call("POST", "/contact", contacts)
    vote = agent.call("POST", "/poll", poll)

    assert card.status_code == 200 and vote.status_code == 200, (card.text, vote.text)
    by_id = {s["id"]: s for s in agent.sent()}
    assert by_id[card.json()["messageId"]]["contacts"] == [
        {"phone": "6281211112222", "name": "Budi"},
        {"phone": "6281333", "name": "Sari"},
    ]
    assert by_id[vote.json()["messageId"]]["poll"] == {
        "name": "Lunch?",
        "options": ["Nasi goreng", "Sate", "Bakso"],
        "selectableCount": 2,
    }


def test_react_mark_seen_edit_and_delete_reach_the_chat(agent):
    ours = agent.text("a typo hre")
    # in a group, not addressed to the bot: the AI (which also marks chats read) stays out of it
    theirs = agent.inbound(**{"from": USER, "body": "hello", "group": {"id": GROUP}})

    answers = [
        agent.call("POST", "/reaction", {"messageId": theirs, "emoji": "👍"}),
        agent.call("POST", "/reaction", {"messageId": theirs, "emoji": ""}),
        agent.call("POST", "/seen", {"chatId": USER}),
        agent.call("PATCH", f"/messages/{ours}", {"message": "a typo here"}),
        agent.call("DELETE", f"/messages/{ours}"),
    ]

    assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
    assert answers[0].json()["messageId"] == theirs
    done = [{k: v for k, v in a.items() if k != "at"} for a in agent.actions()[-5:]]
    assert done == [
        {"kind": "reaction", "messageId": theirs, "chatId": GROUP, "emoji": "👍"},
        {"kind": "reaction", "messageId": theirs, "chatId": GROUP, "emoji": ""},
        {"kind": "seen", "chatId": USER_JID},
        {"kind": "edit", "messageId": ours, "chatId": USER_JID, "text": "a typo here"},
        {"kind": "delete", "messageId": ours, "chatId": USER_JID},
    ]
    # and the message now answers 410: deleted for everyone, and when
    gone = agent.call("GET", f"/messages/{ours}")
    assert (gone.status_code, gone.json()["error"]["code"]) == (410, "MESSAGE_REVOKED")
    again = agent.call("PATCH", f"/messages/{ours}", {"message": "too late"})
    assert (again.status_code, again.json()["error"]["code"]) == (410, "MESSAGE_REVOKED")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/location", {"to": USER, "latitude": 91, "longitude": 0}, "latitude"),
        ("/location", {"to": USER, "latitude": 0, "longitude": -180.5}, "longitude"),
        ("/reaction", {"messageId": "true_6281@c.us_3EB0AA", "emoji": "ok"}, "emoji"),
        ("/reaction", {"messageId": "true_6281@c.us_3EB0AA", "emoji": "👍👍"}, "emoji"),
        ("/reaction", {"messageId": "not-an-id", "emoji": "👍"}, "messageId"),
        ("/poll", {"to": USER, "name": "Q", "options": ["only one"]}, "options"),
        ("/poll", {"to": USER, "name": "Q", "options": [str(i) for i in range(13)]}, "options"),
        ("/poll", {"to": USER, "name": "Q", "options": ["a", "a"]}, "distinct"),
        ("/poll", {"to": USER, "name": "Q", "options": ["a", "b"], "selectableCount": 3}, "selectableCount"),
        ("/contact", {"to": USER, "contacts": [{"name": "No phone"}]}, "phone"),
    ],
)
def test_bad_input_is_refused_in_the_envelope(agent, path, body, field):
    answer = agent.call("POST", path, body)

    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "INVALID_PAYLOAD" and field in error["message"], error


def test_acting_on_unknown_foreign_or_bad_messages_answers_its_own_code(agent):
    theirs = agent.inbound(**{"from": USER, "body": "not yours to edit"})
    unknown = "true_6281234588001@c.us_3EB0FFFFFFFFFFFFFFFF"

    react = agent.call("POST", "/reaction", {"messageId": unknown, "emoji": "👍"})
    edit_theirs = agent.call("PATCH", f"/messages/{theirs}", {"message": "mine now"})
    delete_unknown = agent.call("DELETE", f"/messages/{unknown}")
    edit_bad = agent.call("PATCH", "/messages/nonsense", {"message": "x"})

    assert (react.status_code, react.json()["error"]["code"]) == (404, "MESSAGE_NOT_FOUND")
    assert (edit_theirs.status_code, edit_theirs.json()["error"]["code"]) == (409, "MESSAGE_NOT_EDITABLE")
    assert (delete_unknown.status_code, delete_unknown.json()["error"]["code"]) == (404, "MESSAGE_NOT_FOUND")
    assert (edit_bad.status_code, edit_bad.json()["error"]["code"]) == (400, "INVALID_PAYLOAD")


def test_the_chat_is_marked_read_before_the_ai_reply(stack, ai, agent):
    text = f"seen first {os.urandom(3).hex()}"
    agent.inbound(**{"from": USER, "body": text})
    reply = wait_until(
        lambda: next((s for s in agent.sent() if s.get("text") == f"Echo: {text}"), None), 30, message="reply"
    )
    seen = [
        a
        for a in agent.actions()
        if a["kind"] == "seen" and a["chatId"] == USER_JID and a["at"] <= reply["at"]
    ]
    assert seen, "the chat was marked read before the reply went out"


def test_without_inbound_media_an_image_is_ignored_as_today(stack, ai, agent):
    image = agent.inbound(**{"from": USER, "type": "image", "body": "look"})
    text = f"after the image {os.urandom(3).hex()}"
    agent.inbound(**{"from": USER, "body": text})
    wait_until(lambda: any(s.get("text") == f"Echo: {text}" for s in agent.sent()), 30, message="reply")
    assert not [r for r in ai.received(agent.id) if (r["body"]["metadata"] or {}).get("messageId") == image]


@pytest.fixture(scope="module")
def media_agent(stack: Stack) -> Agent:
    return Agent(stack, "media", inboundMedia=True)


def test_an_inbound_image_reaches_the_ai_with_a_link_to_its_bytes(stack, ai, media_agent):
    data = os.urandom(200_000)
    image = media_agent.inbound(
        **{
            "from": USER,
            "type": "image",
            "body": "is this broken?",
            "media": {
                "data": base64.b64encode(data).decode(),
                "mimetype": "image/png",
                "filename": "crack.png",
            },
        }
    )
    request = wait_until(
        lambda: next(
            (r for r in ai.received(media_agent.id) if r["body"]["metadata"]["messageId"] == image), None
        ),
        60,
        message="the AI request",
    )
    body = request["body"]
    media = body["metadata"]["media"]
    assert body["input"] == "is this broken?"
    assert (media["type"], media["mimetype"], media["filename"], media["size"]) == (
        "image",
        "image/png",
        "crack.png",
        200_000,
    )
    assert media["sha256"] == hashlib.sha256(data).hexdigest()
    # the demo AI fetched the bytes through the link, and they are the ones the user sent
    assert request["fetched"]["status"] == 200 and request["fetched"]["sha256"] == media["sha256"]
    reply = wait_until(
        lambda: next((s for s in media_agent.sent() if s.get("text", "").startswith("Echo: an image")), None),
        30,
        message="the AI's reply",
    )
    assert "image/png" in reply["text"] and "200000 bytes" in reply["text"]
    # and the link stops working once it expired
    wait_until(
        lambda: requests.get(media["url"], timeout=5).status_code == 410,
        LINK_TTL_SECONDS + 10,
        message="expiry",
    )
    expired = requests.get(media["url"], timeout=5).json()
    assert expired["error"]["code"] == "MEDIA_LINK_EXPIRED"


def test_an_oversize_video_reaches_the_ai_as_metadata_only(stack, ai, media_agent):
    video = media_agent.inbound(**{"from": USER, "type": "video", "body": "", "media": {"size": 400_000}})
    request = wait_until(
        lambda: next(
            (r for r in ai.received(media_agent.id) if r["body"]["metadata"]["messageId"] == video), None
        ),
        60,
        message="the AI request",
    )
    media = request["body"]["metadata"]["media"]
    assert (media["type"], media["tooLarge"], media["url"], media["size"]) == ("video", True, None, 400_000)


def test_an_inbound_location_reaches_the_ai(stack, ai, media_agent):
    pin = {"latitude": -8.65, "longitude": 115.2167, "name": "Denpasar", "address": "Bali"}
    where = media_agent.inbound(**{"from": USER, "type": "location", "location": pin})
    request = wait_until(
        lambda: next(
            (r for r in ai.received(media_agent.id) if r["body"]["metadata"]["messageId"] == where), None
        ),
        60,
        message="the AI request",
    )
    assert request["body"]["metadata"]["location"] == pin
