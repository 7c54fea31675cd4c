"""POST /agents/{id}/media: base64 and URL sources, size limits, SSRF refusals, storage (disk and S3)."""

from __future__ import annotations

import base64
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from contract import jobs
from functions import media, sending
from tests.functions.agents.conftest import Agent, FakeServer, QueueHost, reply
from tests.support.waiting import wait_until

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)
TEN_MB = 10 * 1024 * 1024


def _post(client, agent: Agent, body: dict):
    return client.post(
        f"/agents/{agent.agent_id}/media", json={"to": "6281234567890", **body}, headers=agent.auth
    )


def _sent_media(queue_host: QueueHost, agent: Agent) -> jobs.SendMedia:
    job = queue_host.queue(agent.agent_id).fetch_job(queue_host.job_ids(agent.agent_id)[-1])
    assert job.func_name == jobs.JobName.SEND_MEDIA
    return jobs.SendMedia.from_wire(job.args[0])


def test_base64_with_preview(make_client, ready_agent: Agent, queue_host: QueueHost, run_dir: Path):
    # given a host delivering the job
    delivered: list = []
    queue_host.serve(ready_agent.agent_id, delivered)
    body = {"data": base64.b64encode(PNG).decode(), "caption": "Invoice #123", "filename": "invoice.png"}
    # when
    response = _post(make_client(), ready_agent, body)
    # then
    assert response.status_code == 200, response.get_json()
    answer = response.get_json()
    assert answer["delivered"] is True
    assert answer["mimeType"] == "image/png"
    assert answer["filename"] == "invoice.png"
    preview = Path(answer["previewPath"])
    assert preview.read_bytes() == PNG
    assert preview.is_relative_to((run_dir / "tmp").resolve())
    payload = jobs.SendMedia.from_wire(delivered[0].args[0])
    assert payload.media.kind == "file"
    assert payload.media.path == answer["previewPath"]
    assert (payload.media.size, payload.caption, payload.to) == (
        len(PNG),
        "Invoice #123",
        "6281234567890@c.us",
    )


def test_type_and_name_derived_from_bytes_and_data_url(
    make_client, ready_agent: Agent, queue_host: QueueHost
):
    client = make_client(send_wait_seconds=0)
    answer = _post(client, ready_agent, {"data": base64.b64encode(PNG).decode()}).get_json()
    assert (answer["mimeType"], answer["filename"]) == ("image/png", "file.png")
    data_url = "data:application/pdf;base64," + base64.b64encode(b"%PDF-1.4 hello").decode()
    answer = _post(client, ready_agent, {"data": data_url}).get_json()
    assert (answer["mimeType"], answer["filename"]) == ("application/pdf", "file.pdf")


def test_without_preview_the_file_waits_for_the_host_under_outgoing(
    make_client, ready_agent: Agent, queue_host: QueueHost
):
    response = _post(
        make_client(send_wait_seconds=0),
        ready_agent,
        {"data": base64.b64encode(PNG).decode(), "save_to_temp": False},
    )
    assert response.status_code == 202
    assert response.get_json()["previewPath"] is None
    ref = _sent_media(queue_host, ready_agent).media
    assert Path(ref.path).parent.name == media.OUTGOING_DIR
    assert Path(ref.path).read_bytes() == PNG


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"data": "A" * (TEN_MB // 3 * 4 + 8)}, 413, "MEDIA_TOO_LARGE"),
        ({"data": "not base64!!"}, 400, "INVALID_PAYLOAD"),
        ({"data": "aGk=", "url": "http://example.com/x.png"}, 400, "INVALID_PAYLOAD"),
        ({}, 400, "INVALID_PAYLOAD"),
        ({"url": "ftp://example.com/x.png"}, 400, "INVALID_PAYLOAD"),
        ({"data": "aGk=", "mimeType": "not a type"}, 400, "INVALID_PAYLOAD"),
    ],
)
def test_refused_bodies(make_client, ready_agent: Agent, queue_host: QueueHost, body, status, code):
    response = _post(make_client(), ready_agent, body)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert queue_host.job_ids(ready_agent.agent_id) == []


def test_exactly_the_limit_passes_and_one_byte_more_does_not(make_client, ready_agent: Agent):
    client = make_client(media_max_bytes=3000, send_wait_seconds=0)
    assert _post(client, ready_agent, {"data": base64.b64encode(b"x" * 3000).decode()}).status_code == 202
    too_big = _post(client, ready_agent, {"data": base64.b64encode(b"x" * 3001).decode()})
    assert too_big.status_code == 413


def test_url_download(make_client, ready_agent: Agent, fake_server: FakeServer, queue_host: QueueHost):
    fake_server.route(
        "GET", "/files/photo.jpg", lambda r: reply(r, 200, b"\xff\xd8\xff" + b"j" * 500, "image/jpeg")
    )
    client = make_client(media_url_allowlist="127.0.0.1", send_wait_seconds=0)
    response = _post(
        client, ready_agent, {"url": fake_server.url + "/files/photo.jpg", "caption": "From URL"}
    )
    assert response.status_code == 202, response.get_json()
    answer = response.get_json()
    assert (answer["mimeType"], answer["filename"], answer["size"]) == ("image/jpeg", "photo.jpg", 503)
    assert Path(answer["previewPath"]).read_bytes()[:3] == b"\xff\xd8\xff"


def test_url_redirect_within_the_allowlist_and_content_disposition(
    make_client, ready_agent: Agent, fake_server: FakeServer
):
    fake_server.route("GET", "/go", lambda r: reply(r, 302, b"", "text/plain", {"Location": "/real"}))
    fake_server.route(
        "GET",
        "/real",
        lambda r: reply(
            r,
            200,
            b"%PDF-1.7 x",
            "application/pdf",
            {"Content-Disposition": 'attachment; filename="a b.pdf"'},
        ),
    )
    client = make_client(media_url_allowlist="127.0.0.0/8", send_wait_seconds=0)
    answer = _post(client, ready_agent, {"url": fake_server.url + "/go"}).get_json()
    assert (answer["mimeType"], answer["filename"]) == ("application/pdf", "a_b.pdf")


@pytest.fixture
def redirector() -> FakeServer:
    """An allow-listed server on 127.0.0.2 that redirects into loopback (127.0.0.1)."""
    server = FakeServer(host="127.0.0.2").start()
    yield server
    server.stop()


def test_ssrf_probes_are_refused(
    make_client, ready_agent: Agent, fake_server: FakeServer, redirector: FakeServer
):
    # given a loopback service that must never be reached, and an allowed host redirecting to it
    fake_server.route("GET", "/secret", lambda r: reply(r, 200, b"secret", "text/plain"))
    target = f"http://127.0.0.1:{fake_server.port}/secret"
    redirector.route("GET", "/hop", lambda r: reply(r, 302, b"", "text/plain", {"Location": target}))
    client = make_client(media_url_allowlist="127.0.0.2/32", send_wait_seconds=0)
    probes = [
        target,
        f"http://localhost:{fake_server.port}/secret",
        "http://10.0.0.1/x.png",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "http://[::1]/x",
        "http://[::ffff:127.0.0.1]/x",
        "http://0.0.0.0/x",
        redirector.url + "/hop",
    ]
    for url in probes:
        # when
        response = _post(client, ready_agent, {"url": url})
        # then
        assert response.status_code == 400, url
        assert "non-public" in response.get_json()["error"]["message"], url
    assert [seen.path for seen in fake_server.seen] == []
    assert [seen.path for seen in redirector.seen] == ["/hop"]


def _lying(declared: int | None, actual: int, written: list[int]):
    def handler(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "image/jpeg")
        if declared is None:
            request.send_header("Transfer-Encoding", "chunked")
        else:
            request.send_header("Content-Length", str(declared))
        request.end_headers()
        block = b"\0" * 65536
        sent = 0
        while sent < actual:
            data = block if declared is not None else b"%x\r\n%s\r\n" % (len(block), block)
            request.wfile.write(data)
            sent += len(block)
            written[0] = sent

    return handler


def test_a_url_lying_about_its_size_is_stopped_at_10_mb(
    make_client, ready_agent: Agent, fake_server: FakeServer
):
    # given a server that sends no length and would stream 200 MB
    written = [0]
    fake_server.route("GET", "/huge.jpg", _lying(None, 200 * 1024 * 1024, written))
    client = make_client(media_url_allowlist="127.0.0.1")
    # when
    response = _post(client, ready_agent, {"url": fake_server.url + "/huge.jpg"})
    # then the download stopped just past 10 MB
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "MEDIA_TOO_LARGE"
    assert written[0] < 20 * 1024 * 1024


def test_a_large_content_length_is_refused_before_reading(
    make_client, ready_agent: Agent, fake_server: FakeServer
):
    written = [0]
    fake_server.route("GET", "/big.jpg", _lying(TEN_MB + 1, 65536, written))
    response = _post(
        make_client(media_url_allowlist="127.0.0.1"), ready_agent, {"url": fake_server.url + "/big.jpg"}
    )
    assert response.status_code == 413


def test_url_errors_are_bad_gateway(make_client, ready_agent: Agent, fake_server: FakeServer):
    client = make_client(media_url_allowlist="127.0.0.1")
    response = _post(client, ready_agent, {"url": fake_server.url + "/missing.png"})
    assert response.status_code == 502
    assert "HTTP 404" in response.get_json()["error"]["message"]


def test_s3_storage(make_client, ready_agent: Agent, queue_host: QueueHost, monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="wagw-media")
        client = make_client(media_bucket="wagw-media", send_wait_seconds=0)
        answer = _post(
            client, ready_agent, {"data": base64.b64encode(PNG).decode(), "filename": "p.png"}
        ).get_json()
        ref = _sent_media(queue_host, ready_agent).media
        assert ref.kind == "s3"
        assert answer["previewPath"] == f"s3://wagw-media/{ref.key}"
        assert ref.key.startswith(f"{media.PREVIEW_DIR}/{ready_agent.agent_id}/")
        stored = s3.get_object(Bucket="wagw-media", Key=ref.key)
        assert stored["Body"].read() == PNG
        assert stored["ContentType"] == "image/png"


def test_a_trickling_url_is_abandoned(make_client, ready_agent: Agent, fake_server: FakeServer):
    def trickle(request: BaseHTTPRequestHandler) -> None:
        request.send_response(200)
        request.send_header("Content-Type", "image/jpeg")
        request.send_header("Content-Length", "60")
        request.end_headers()
        for _ in range(60):
            request.wfile.write(b"x")
            request.wfile.flush()
            time.sleep(0.05)

    fake_server.route("GET", "/slow.jpg", trickle)
    client = make_client(media_url_allowlist="127.0.0.1", media_fetch_timeout_seconds=0.2)
    started = time.monotonic()
    response = _post(client, ready_agent, {"url": fake_server.url + "/slow.jpg"})
    assert response.status_code == 502
    assert "too slowly" in response.get_json()["error"]["message"]
    assert time.monotonic() - started < 2.5


def test_a_retry_while_the_first_is_still_downloading_is_told_to_wait(
    make_client, ready_agent: Agent, fake_server: FakeServer, queue_host: QueueHost, monkeypatch
):
    # given a first request still downloading its media
    monkeypatch.setattr(sending, "_REPLAY_APPEAR_SECONDS", 0.2)
    release = threading.Event()

    def slow(request: BaseHTTPRequestHandler) -> None:
        release.wait(10)
        reply(request, 200, PNG, "image/png")

    fake_server.route("GET", "/slow.png", slow)
    client = make_client(media_url_allowlist="127.0.0.1", send_wait_seconds=0)
    key = {"Idempotency-Key": "media-1"}
    body = {"to": "6281234567890", "url": fake_server.url + "/slow.png"}
    url = f"/agents/{ready_agent.agent_id}/media"
    first: dict = {}
    thread = threading.Thread(
        target=lambda: first.update(r=client.post(url, json=body, headers={**ready_agent.auth, **key}))
    )
    thread.start()
    wait_until(lambda: any(seen.path == "/slow.png" for seen in fake_server.seen), 10)
    # when the retry arrives
    retry = client.post(url, json=body, headers={**ready_agent.auth, **key})
    # then it is told to retry shortly, and the first one still makes exactly one job
    assert retry.status_code == 409
    assert retry.get_json()["error"]["code"] == "IDEMPOTENCY_IN_PROGRESS"
    release.set()
    thread.join(15)
    assert first["r"].status_code == 202
    again = client.post(url, json=body, headers={**ready_agent.auth, **key})
    assert again.get_json()["jobId"] == first["r"].get_json()["jobId"]
    assert len(queue_host.job_ids(ready_agent.agent_id)) == 1
