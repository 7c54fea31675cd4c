"""The one redis-server command line: a private server, optionally with an append-only file."""

from __future__ import annotations

import os
from pathlib import Path

import redis

from devstack.process import Process, free_port, wait_until


def redis_args(port: int, data_dir: Path | None = None, appendonly: bool = False) -> list[str]:
    """Return the redis-server command line: loopback only, no RDB snapshots, AOF when asked."""
    args = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
    if appendonly:
        # everysec: at most about a second of writes lost on a crash, at little cost.
        args += ["--appendonly", "yes", "--appendfsync", "everysec"]
    else:
        args += ["--appendonly", "no"]
    if data_dir is not None:
        args += ["--dir", str(data_dir)]
    return args


def start_redis(
    log_dir: Path,
    name: str = "redis",
    port: int | None = None,
    data_dir: Path | None = None,
    appendonly: bool = False,
) -> tuple[Process, str]:
    """Start a private redis-server (on `port`, or a free one) and return it with its URL."""
    if appendonly and data_dir is None:
        raise ValueError("an append-only Redis needs a data_dir")
    port = port or free_port()
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
    process = Process(name, redis_args(port, data_dir, appendonly), env=dict(os.environ), log_dir=log_dir)
    url = f"redis://127.0.0.1:{port}/0"

    def answers() -> bool:
        if not process.alive():
            raise process.exited()
        return ping(url)

    try:
        wait_until(answers, 10, message="redis-server answers")
    except BaseException:  # a failed or interrupted start leaves nothing running
        process.stop()
        raise
    return process, url


def ping(url: str) -> bool:
    """Tell whether the Redis at `url` answers (closing the connection either way)."""
    client = redis.Redis.from_url(url)
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False
    finally:
        client.close()
