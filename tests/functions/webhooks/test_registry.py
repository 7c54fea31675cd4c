"""Webhook configuration: validation, generated secrets shown once, the SSRF guard (real Redis)."""

from __future__ import annotations

import base64

import pytest
from pydantic import ValidationError

from functions.errors import InvalidPayload
from functions.webhooks.registry import WebhookRegistry
from functions.webhooks.schema import EventType, WebhooksRequest

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


def specs(*items: dict):
    return WebhooksRequest.model_validate({"webhooks": list(items)}).webhooks


@pytest.fixture
def registry(redis_client, settings_factory):
    return WebhookRegistry(redis_client, settings_factory(webhook_url_allowlist="127.0.0.1"))


def test_a_secret_is_generated_when_absent_and_never_shown_again(registry):
    shown = registry.put("a1", specs({"url": "http://127.0.0.1:9/hook", "events": ["message"]}))
    secret = shown[0]["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert ["secret" in r.view() for r in registry.agent_receivers("a1")] == [False]
    # the same URL again without a secret keeps it, and does not show it
    again = registry.put("a1", specs({"url": "http://127.0.0.1:9/hook", "events": ["*"]}))
    assert "secret" not in again[0]
    assert registry.agent_receivers("a1")[0].secret == secret
    assert registry.agent_receivers("a1")[0].events == frozenset(EventType)


def test_receivers_filter_by_event_and_include_the_deployment_webhook(redis_client, settings_factory):
    settings = settings_factory(
        webhook_url="http://127.0.0.1:9/all", webhook_secret=SECRET, webhook_events="session.status"
    )
    registry = WebhookRegistry(redis_client, settings)
    registry.client.flushall()
    WebhookRegistry(redis_client, settings_factory(webhook_url_allowlist="127.0.0.1")).put(
        "a1", specs({"url": "http://127.0.0.1:9/one", "events": ["message.ack"], "secret": SECRET})
    )
    assert [r.id for r in registry.receivers("a1", EventType.MESSAGE)] == []
    assert [r.url for r in registry.receivers("a1", EventType.MESSAGE_ACK)] == ["http://127.0.0.1:9/one"]
    assert [r.id for r in registry.receivers("a1", EventType.SESSION_STATUS)] == ["deployment"]
    assert registry.delete("a1") and not registry.agent_receivers("a1")


@pytest.mark.parametrize(
    ("item", "fragment"),
    [
        ({"url": "http://127.0.0.1/x", "events": ["message.nope"]}, "unknown event"),
        ({"url": "ftp://127.0.0.1/x", "events": ["message"]}, "http or https"),
        ({"url": "http://127.0.0.1/x", "events": ["message"], "secret": "whsec_%%%"}, "not valid base64"),
        ({"url": "http://127.0.0.1/x", "events": ["message"], "secret": "plain"}, "whsec_"),
        ({"url": "http://127.0.0.1/x", "events": []}, "at least 1"),
    ],
)
def test_bad_webhooks_are_refused(item, fragment):
    with pytest.raises(ValidationError, match=fragment):
        specs(item)


def test_more_than_ten_webhooks_are_refused():
    with pytest.raises(ValidationError, match="at most 10"):
        specs(*({"url": f"http://127.0.0.1/{i}", "events": ["message"]} for i in range(11)))


def test_a_private_url_is_refused_unless_allowlisted(redis_client, settings_factory):
    strict = WebhookRegistry(redis_client, settings_factory())
    with pytest.raises(InvalidPayload, match="non-public"):
        strict.put("a1", specs({"url": "http://127.0.0.1:9/hook", "events": ["message"]}))
    with pytest.raises(InvalidPayload, match="non-public"):
        strict.put("a1", specs({"url": "http://169.254.169.254/latest", "events": ["message"]}))
    allowed = WebhookRegistry(redis_client, settings_factory(webhook_url_allowlist="127.0.0.0/8"))
    assert allowed.put("a1", specs({"url": "http://127.0.0.1:9/hook", "events": ["message"]}))


def test_a_deployment_webhook_needs_a_valid_secret(settings_factory):
    with pytest.raises(ValidationError, match="WEBHOOK_SECRET"):
        settings_factory(webhook_url="http://127.0.0.1:9/all")
    with pytest.raises(ValidationError, match="base64"):
        settings_factory(webhook_url="http://127.0.0.1:9/all", webhook_secret="whsec_!!")
    with pytest.raises(ValidationError, match="unknown event"):
        settings_factory(webhook_url="http://127.0.0.1:9/all", webhook_secret=SECRET, webhook_events="x")
