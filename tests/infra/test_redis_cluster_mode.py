"""Why Terraform offers no MemoryDB engine: RQ does not run on a cluster-mode Redis.

MemoryDB always runs in cluster mode. A one-node cluster owning every slot stands in for it
here: RQ's enqueue is one MULTI/EXEC over the job hash, its queue and the queue set, keys that
hash to different slots, so the server refuses it with CROSSSLOT even though one node holds all
of them. Should a future RQ pass this test, revisit `var.engine` in the redis module.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import redis
from rq import Queue

from devstack.process import Process, free_port, wait_until
from devstack.redis import redis_args


def _cluster_ok(client: redis.Redis) -> bool:
    return client.cluster("info").get("cluster_state") == "ok"


def test_rq_enqueue_fails_on_a_cluster_mode_redis_but_not_on_a_standalone_one(tmp_path: Path, redis_url: str):
    port = free_port()
    # The cluster bus defaults to port + 10000, which may be taken or past 65535: name a free one.
    args = [*redis_args(port, tmp_path), "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"]
    args += ["--cluster-port", str(free_port())]
    server = Process("redis-cluster", args, env=dict(os.environ), log_dir=tmp_path)
    client = redis.Redis(port=port)

    def answers() -> bool:
        if not server.alive():
            raise AssertionError(f"redis-server exited: {server.log()[-2000:]}")
        return bool(client.ping())

    try:
        wait_until(answers, 10, message="cluster-mode redis answers")
        client.execute_command("CLUSTER", "ADDSLOTSRANGE", 0, 16383)
        wait_until(lambda: _cluster_ok(client), 20, message="the one-node cluster is ok")

        with pytest.raises(redis.exceptions.ResponseError, match=r"CROSSSLOT|don't hash to the same slot"):
            Queue("wagw.agent.cluster", connection=client).enqueue("builtins.print", "queued")
    finally:
        client.close()
        server.stop()

    standalone = redis.Redis.from_url(redis_url)
    try:
        job = Queue("wagw.agent.cluster", connection=standalone).enqueue("builtins.print", "queued")
        assert job.get_status() == "queued"
        job.delete()
    finally:
        standalone.close()
