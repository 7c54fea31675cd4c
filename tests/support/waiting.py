"""Wait on a condition with a deadline instead of sleeping (devstack's helper)."""

from devstack.process import wait_until

__all__ = ["wait_until"]
