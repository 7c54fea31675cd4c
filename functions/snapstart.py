"""Lambda SnapStart: what a restored snapshot must not reuse, and what a snapshot should hold.

With SnapStart (the api module's `snap_start`), Lambda runs the cold start once per published
version, snapshots the process, and resumes every new container from that snapshot: imports
and the app are paid once per deploy instead of once per cold start. A resumed process must
not trust what the snapshot captured from the outside world, so after a restore:

- the runtime secret is read again on the next use (it may have been rotated since the
  snapshot, and the TTL clock does not see the time the snapshot sat in storage);
- Redis and database connections are dropped (their sockets did not survive); pools reopen
  them on the next use.

Before the snapshot, the modules the first requests would import lazily are imported, so
they are in it. Hooks are registered through the runtime's `snapshot_restore_py`; elsewhere
(locally, in tests, without SnapStart) there is nothing to register.
"""

from __future__ import annotations

import importlib

from flask import Flask

from contract import logs

log = logs.get_logger(__name__)

# Imported on first use to keep plain cold starts short; worth having in a snapshot.
WARM_MODULES = ("requests", "qrcode", "qrcode.image.pil")


def before_snapshot() -> None:
    """Import what the first QR, AI call or host scrape would otherwise import."""
    for name in WARM_MODULES:
        importlib.import_module(name)


def after_restore(app: Flask) -> None:
    """Forget what the snapshot captured from outside: secrets' age and open connections."""
    store = app.extensions.get("runtime_secrets")
    if store is not None:
        store.expire()
    for name in ("redis", "redis_rq"):
        client = app.extensions.get(name)
        if client is not None:
            client.connection_pool.disconnect()
    engine = app.extensions.get("db_engine")
    if engine is not None:
        engine.dispose(close=False)  # the sockets are gone; do not talk to them
    log.info("resumed from a SnapStart snapshot")


def register(app: Flask) -> bool:
    """Register the hooks with the Lambda runtime; return False where there is no runtime."""
    try:
        from snapshot_restore_py import register_after_restore, register_before_snapshot
    except ImportError:
        return False
    register_before_snapshot(before_snapshot)
    register_after_restore(after_restore, app)
    return True
