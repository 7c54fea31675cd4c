"""gunicorn settings for the API: threads, because QR and send waits block on Redis."""

import os

from gunicorn.glogging import Logger


class JsonLogger(Logger):
    """gunicorn's own lines (start-up, workers, signals) in the same JSON as every other line."""

    def setup(self, cfg):
        super().setup(cfg)
        from contract.logs import json_formatter

        for handler in self.error_log.handlers:
            handler.setFormatter(json_formatter())


bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8080')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "16"))
# Longer than the longest wait an endpoint may do (QR: 60 s by default).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 20
accesslog = None
errorlog = "-"
logger_class = JsonLogger
# Several gateways (tests, `make run`) may share a machine: no shared control socket in $HOME.
control_socket_disable = True

# prometheus-flask-exporter: workers share HTTP request metrics through files in this
# directory (read back by /metrics). It must be set before a worker imports the app.
_own_metrics_dir = None
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    import tempfile

    _own_metrics_dir = tempfile.mkdtemp(prefix="wagw-prometheus-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = _own_metrics_dir


def child_exit(_server, worker):
    """Fold a finished worker's live gauges out of the shared metrics directory."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_starting(_server):
    """Validate the settings once in the master, so a bad variable stops start-up with one line."""
    from functions.config import load_settings

    load_settings()


def on_exit(_server):
    """Remove the metrics directory this configuration created."""
    if _own_metrics_dir:
        import shutil

        shutil.rmtree(_own_metrics_dir, ignore_errors=True)
