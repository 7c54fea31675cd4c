"""The RQ dashboard (rq-dashboard's own blueprint) mounted at `/rq` on the app's REDIS_URL.

It shows the agent queues (`wagw-agent-*`), the host queues, the inbound queue, workers and
every registry, with requeue and delete. `functions.admin` guards it like the other pages.
"""

from __future__ import annotations

import rq_dashboard
from flask import Flask
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.serializers import JSONSerializer
from rq_dashboard.web import setup_rq_connection

from functions.errors import JobNotFailed, JobNotFound

URL_PREFIX = "/rq"


def init_app(app: Flask, redis_url: str) -> None:
    """Register the dashboard blueprint and turn its job errors into the standard envelope."""
    # Every job of the gateway is JSON-serialised (contract.jobs.SERIALIZER); the dashboard
    # keeps its serializer in one module-level setting.
    rq_dashboard.web.config.serializer = JSONSerializer
    app.config["RQ_DASHBOARD_REDIS_URL"] = redis_url
    app.register_blueprint(rq_dashboard.blueprint, url_prefix=URL_PREFIX)
    setup_rq_connection(app)

    # Without these a stale job link or a requeue of a job that is not failed would be a 500.
    @app.errorhandler(NoSuchJobError)
    def _no_such_job(exc: NoSuchJobError):
        return app.handle_user_exception(JobNotFound(str(exc) or "no such job"))

    @app.errorhandler(InvalidJobOperation)
    def _not_failed(exc: InvalidJobOperation):
        return app.handle_user_exception(JobNotFailed(str(exc) or "only failed jobs can be requeued"))
