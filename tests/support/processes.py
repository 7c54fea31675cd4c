"""The test tree's names for devstack's process helpers."""

from devstack.process import PYTHON, ROOT, Process, free_port, wait_http_ok
from devstack.redis import ping, start_redis

__all__ = ["PYTHON", "ROOT", "Process", "free_port", "ping", "start_redis", "wait_http_ok"]
