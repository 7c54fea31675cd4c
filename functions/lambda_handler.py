"""AWS Lambda entry: the same Flask app behind API Gateway (REST v1 and HTTP API v2 events).

The app is built once per container, at import, so warm invocations reuse its database
and Redis connections. Configure the function's handler as `functions.lambda_handler.handler`.
"""

from __future__ import annotations

from apig_wsgi import make_lambda_handler

from functions import snapstart
from functions.app import create_app

app = create_app()
snapstart.register(app)  # with SnapStart: warm the snapshot, and refresh what a restore must not reuse
# Every response is text (JSON, Prometheus text, Swagger UI), so the adapter's default binary
# handling suffices: on for HTTP API (v2) events, off for REST (v1) unless configured there.
handler = make_lambda_handler(app)
