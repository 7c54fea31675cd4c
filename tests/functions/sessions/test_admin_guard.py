"""The admin guard of /sessions*, /jobs, /ui and /rq: Bearer or Basic with ADMIN_TOKEN, loopback without."""

from __future__ import annotations

import base64

import pytest

TOKEN = "adm-guard-7f3c"
REMOTE = {"REMOTE_ADDR": "10.20.30.40"}
PAGES = ("/ui/sessions", "/rq/")


def basic(password: str, user: str = "admin") -> dict[str, str]:
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


@pytest.mark.parametrize("path", [*PAGES, "/sessions"])
def test_with_a_token_no_credentials_get_a_basic_challenge(make_app, path: str) -> None:
    client = make_app(admin_token=TOKEN).test_client()

    response = client.get(path)

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert response.get_json()["error"]["code"] == "UNAUTHORIZED"


@pytest.mark.parametrize("path", [*PAGES, "/sessions"])
def test_with_a_token_basic_or_bearer_get_in(make_app, path: str) -> None:
    client = make_app(admin_token=TOKEN).test_client()

    assert client.get(path, headers=basic(TOKEN), environ_base=REMOTE).status_code == 200
    assert client.get(path, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    assert client.get(path, headers=basic(TOKEN, user="")).status_code == 200


@pytest.mark.parametrize("path", [*PAGES, "/sessions", "/jobs/x/requeue"])
def test_with_a_token_a_wrong_one_is_refused(make_app, path: str) -> None:
    client = make_app(admin_token=TOKEN).test_client()

    assert client.get(path, headers=basic("wrong")).status_code in (401, 405)
    assert client.post(path, headers={"Authorization": "Bearer wrong"}).status_code in (401, 405)
    assert client.get(path, headers=basic(TOKEN + "x")).status_code in (401, 405)


@pytest.mark.parametrize("path", PAGES)
def test_without_a_token_pages_refuse_a_remote_client(make_app, path: str, caplog) -> None:
    client = make_app().test_client()

    refused = client.get(path, environ_base=REMOTE)
    # X-Forwarded-For is written by the client: it must not make a remote client local.
    spoofed = client.get(path, environ_base=REMOTE, headers={"X-Forwarded-For": "127.0.0.1"})

    assert refused.status_code == 403 and spoofed.status_code == 403
    assert refused.get_json()["error"]["code"] == "FORBIDDEN"
    assert "ADMIN_TOKEN" in refused.get_json()["error"]["message"]


@pytest.mark.parametrize("path", PAGES)
def test_without_a_token_pages_serve_loopback_clients(make_app, path: str) -> None:
    client = make_app().test_client()

    assert client.get(path, environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 200
    assert client.get(path, environ_base={"REMOTE_ADDR": "::1"}).status_code == 200


def test_without_a_token_the_json_api_stays_open_as_before(make_app) -> None:
    client = make_app().test_client()

    assert client.get("/sessions", environ_base=REMOTE).status_code == 200
    assert client.get("/sessions/agent-x", environ_base=REMOTE).status_code == 404
