"""DATABASE_IAM_AUTH (RDS Proxy): each new PostgreSQL connection logs in with a fresh IAM token.

Real PostgreSQL (trust auth accepts the token as it would any password); the token is signed
locally by botocore with throwaway credentials, exactly as on Lambda.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from functions.app import create_app
from functions.config import Settings
from functions.db import create_db_engine
from tests.support.apps import close_app


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "ap-southeast-3")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def test_every_new_connection_sends_a_fresh_iam_token_as_its_password(pg_url, aws_credentials):
    engine = create_db_engine(pg_url, pool_size=1, iam_auth=True)
    sent: list[dict] = []
    sa.event.listen(engine, "do_connect", lambda _d, _r, _a, cparams: sent.append(dict(cparams)))
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("select 1")).scalar() == 1
        engine.dispose()  # the next checkout opens a new connection
        with engine.connect() as conn:
            assert conn.execute(sa.text("select 2")).scalar() == 2
    finally:
        engine.dispose()

    assert len(sent) == 2
    url = sa.engine.make_url(pg_url)
    for cparams in sent:
        token = urlsplit(f"https://{cparams['password']}")
        query = parse_qs(token.query)
        assert token.hostname == url.host and token.port == (url.port or 5432)
        assert query["Action"] == ["connect"] and query["DBUser"] == [url.username]
        assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"] and query["X-Amz-Signature"]


def test_the_app_serves_with_iam_auth_on(pg_url, redis_url, aws_credentials):
    app = create_app(
        Settings(app_env="test", database_url=pg_url, redis_url=redis_url, database_iam_auth=True)
    )
    try:
        assert app.test_client().get("/health").status_code == 200
        with app.extensions["db_engine"].connect() as conn:
            assert conn.execute(sa.text("select 1")).scalar() == 1
    finally:
        close_app(app)


def test_iam_auth_with_sqlite_is_refused_at_start(sqlite_url):
    with pytest.raises(ValueError, match="DATABASE_IAM_AUTH needs a PostgreSQL"):
        create_db_engine(sqlite_url, iam_auth=True)
