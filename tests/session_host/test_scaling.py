"""What a host tells its Auto Scaling group: SessionsPerHost, and scale-in protection while it runs sessions.

CloudWatch and Auto Scaling are moto's server; the reporter is the one the host daemon runs.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from contract import cloudwatch
from session_host.config import HostSettings
from session_host.scaling import ScalingReporter
from tests.support.aws import auto_scaling_group, client, latest, moto_server, protected

NAMESPACE = "WAGW/test-hosts"


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


def test_the_host_publishes_its_sessions_and_is_protected_only_while_it_runs_some(moto_url):
    instance = auto_scaling_group(moto_url, "hosts-a")
    settings = HostSettings(
        host_id=instance,
        cloudwatch_namespace=NAMESPACE,
        autoscaling_group_name="hosts-a",
        scale_in_protection=True,
    )
    running = [2]
    reporter = ScalingReporter(
        settings,
        lambda: running[0],
        cloudwatch_client=client(moto_url, "cloudwatch"),
        autoscaling_client=client(moto_url, "autoscaling"),
    )
    group = {cloudwatch.GROUP_DIMENSION: "hosts-a"}

    reporter.tick()
    assert latest(moto_url, NAMESPACE, cloudwatch.SESSIONS_PER_HOST, group) == 2
    assert protected(moto_url, instance) is True

    running[0] = 0
    reporter.tick()
    assert protected(moto_url, instance) is False
    assert reporter.protected is False


def test_a_refused_protection_change_is_retried_on_the_next_tick(moto_url):
    instance = auto_scaling_group(moto_url, "hosts-b")
    settings = HostSettings(host_id=instance, autoscaling_group_name="hosts-wrong", scale_in_protection=True)
    reporter = ScalingReporter(settings, lambda: 1, autoscaling_client=client(moto_url, "autoscaling"))

    reporter.tick()  # the group named is not this instance's: refused, logged, state unknown
    assert reporter.protected is None
    assert protected(moto_url, instance) is False

    reporter.settings = settings.model_copy(update={"autoscaling_group_name": "hosts-b"})
    reporter.tick()
    assert protected(moto_url, instance) is True


def test_protection_without_a_group_name_stops_start_up():
    with pytest.raises(ValidationError, match="AUTOSCALING_GROUP_NAME"):
        HostSettings(scale_in_protection=True)
    assert not ScalingReporter(HostSettings(), lambda: 0).enabled
