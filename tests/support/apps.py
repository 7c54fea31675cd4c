"""Build and close Flask apps in tests, so no connection is left for the garbage collector."""

from __future__ import annotations

from flask import Flask


def close_app(app: Flask) -> None:
    """Dispose of the app's database pool and close its Redis clients."""
    app.extensions["db_engine"].dispose()
    for name in ("redis", "redis_rq"):
        app.extensions[name].close()
