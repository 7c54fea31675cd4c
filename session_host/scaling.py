"""What a session host tells its Auto Scaling group: how many sessions it runs, and whether it
may be chosen for scale-in.

Once a minute (METRICS_PUBLISH_SECONDS) the host publishes `SessionsPerHost` with the dimension
`AutoScalingGroupName`; the group's target-tracking policy averages it. With
SCALE_IN_PROTECTION the host protects its own instance (HOST_ID is the instance id on EC2)
while it runs sessions and lifts the protection when it runs none, so a scale-in removes an
empty host and never moves a working WhatsApp session. A host that must go anyway (a release,
an instance refresh) still drains through the lifecycle hook, which moves its sessions to
another host without a new QR scan.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import redis

from contract import cloudwatch, logs
from session_host.config import HostSettings

log = logs.get_logger(__name__)


class ScalingReporter:
    """Publish this host's session count and keep its scale-in protection in step with it."""

    def __init__(
        self,
        settings: HostSettings,
        sessions: Callable[[], int],
        counters: redis.Redis | None = None,
        cloudwatch_client: Any = None,
        autoscaling_client: Any = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.publisher = (
            cloudwatch.Publisher(settings.cloudwatch_namespace, cloudwatch_client, counters)
            if settings.cloudwatch_namespace
            else None
        )
        self._autoscaling = autoscaling_client
        self.protected: bool | None = None  # unknown until the first successful call

    @property
    def enabled(self) -> bool:
        """True when there is anything to publish or protect."""
        return self.publisher is not None or self.settings.scale_in_protection

    def tick(self) -> None:
        """Publish the current count and update the protection when it changed."""
        running = self.sessions()
        if self.publisher is not None:
            dimensions = (
                {cloudwatch.GROUP_DIMENSION: self.settings.autoscaling_group_name}
                if self.settings.autoscaling_group_name
                else {}
            )
            self.publisher.put(
                [cloudwatch.Datum(cloudwatch.SESSIONS_PER_HOST, running, dimensions=dimensions)]
            )
        if self.settings.scale_in_protection:
            self._protect(running > 0)

    def _protect(self, wanted: bool) -> None:
        if wanted == self.protected:
            return
        try:
            if self._autoscaling is None:
                import boto3

                self._autoscaling = boto3.client("autoscaling")
            self._autoscaling.set_instance_protection(
                InstanceIds=[self.settings.host_id],
                AutoScalingGroupName=self.settings.autoscaling_group_name,
                ProtectedFromScaleIn=wanted,
            )
        except Exception as exc:  # retried on the next tick
            log.warning("could not change scale-in protection", wanted=wanted, error=str(exc))
            return
        self.protected = wanted
        log.info("scale-in protection " + ("set" if wanted else "lifted"), hostId=self.settings.host_id)
