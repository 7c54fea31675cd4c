"""The /ui pages rendered by Flask: escaping, the QR while waiting, and unknown agents."""

from __future__ import annotations

import base64
import re

import sqlalchemy as sa

from functions import repository
from functions.db import sqlalchemy_url
from tests.support.qr import SAMPLE_QR, decode_png

LOCAL = {"REMOTE_ADDR": "127.0.0.1"}
NAME = '<script>alert("x")</script> & Shop'


def add_agent(url: str, agent_id: str, name: str = NAME) -> None:
    engine = sa.create_engine(sqlalchemy_url(url))
    repository.upsert_agent(
        engine, user_id="u", agent_id=agent_id, agent_name=name, api_key="k", endpoint_url_run="x"
    )
    engine.dispose()


def test_a_name_with_markup_is_rendered_as_text(make_app, clean_pg_url) -> None:
    add_agent(clean_pg_url, "agent-xss")
    client = make_app().test_client()

    listing = client.get("/ui/sessions", environ_base=LOCAL)
    page = client.get("/ui/sessions/agent-xss", environ_base=LOCAL)

    for response in (listing, page):
        html = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Shop" in html
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert 'href="/ui/sessions/agent-xss"' in listing.get_data(as_text=True)


def test_a_waiting_session_shows_its_qr_and_the_script(make_app, clean_pg_url, host) -> None:
    add_agent(clean_pg_url, "agent-qr", "Plain")
    host.show_qr("agent-qr", SAMPLE_QR)
    client = make_app().test_client()

    html = client.get("/ui/sessions/agent-qr", environ_base=LOCAL).get_data(as_text=True)

    [png] = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert decode_png(png) == SAMPLE_QR
    assert 'data-agent="agent-qr"' in html and "/ui/static/session.js" in html
    assert "link with phone number" in html.lower()
    with client.get("/ui/static/session.js", environ_base=LOCAL) as script:
        assert script.status_code == 200 and b"/pairing-code" in script.data
    assert base64.b64decode(png)[:4] == b"\x89PNG"


def test_an_unknown_agent_is_a_404_page(make_app) -> None:
    response = make_app().test_client().get("/ui/sessions/nobody", environ_base=LOCAL)

    assert response.status_code == 404
    assert "SESSION_NOT_FOUND" in response.get_data(as_text=True)
    assert response.mimetype == "text/html"
