"""Stack.restart_redis: the same port, with its append-only file or empty."""

from __future__ import annotations

import redis

from devstack.redis import redis_args
from devstack.stack import Stack
from devstack.workers import Workers


def test_restart_keeps_data_with_the_aof_and_loses_it_without(tmp_path):
    stack = Stack(tmp_path, database_url="")
    try:
        stack.start_redis()
        port = stack.redis_port
        client = redis.Redis.from_url(stack.redis_url)
        client.set("queued", "work")
        client.close()

        stack.restart_redis(keep_data=True)
        client = redis.Redis.from_url(stack.redis_url)
        assert stack.redis_port == port
        assert client.get("queued") == b"work"
        client.close()

        stack.restart_redis(keep_data=False)
        client = redis.Redis.from_url(stack.redis_url)
        assert stack.redis_port == port
        assert client.get("queued") is None
        client.close()
    finally:
        stack.stop()
    assert isinstance(stack.workers, Workers) and not stack.processes


def test_the_append_only_command_line_fsyncs_every_second(tmp_path):
    args = redis_args(6390, tmp_path, appendonly=True)
    assert args[args.index("--appendonly") + 1] == "yes"
    assert args[args.index("--appendfsync") + 1] == "everysec"
    assert args[args.index("--dir") + 1] == str(tmp_path)
    assert redis_args(6390)[redis_args(6390).index("--appendonly") + 1] == "no"
