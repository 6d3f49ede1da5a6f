"""The standalone server: same API and page, 127.0.0.1 only, token required."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from qmon_jupyter.server import start_dashboard_server


def get(url, token=None):
    headers = {"Authorization": f"token {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers


@pytest.fixture
def server():
    srv = start_dashboard_server(0, token="s3cret")
    yield srv
    srv.stop()


def test_api_needs_the_token(server, kernel):
    snap = kernel.add()
    status, body, _ = get(f"{server.api_url}jobs", token="s3cret")
    assert status == 200
    assert json.loads(body)["jobs"][0]["id"] == snap["id"]
    assert get(f"{server.api_url}jobs")[0] == 401
    assert get(f"{server.api_url}jobs", token="wrong")[0] == 401
    assert get(server.url.replace("?token=s3cret", ""))[0] == 403


def test_metrics_are_served_behind_the_same_token(server, kernel):
    kernel.add(status="running")
    kernel.add(status="completed")
    base = server.api_url.removesuffix("api/qmon/")
    assert get(f"{base}metrics")[0] == 403
    assert get(f"{base}metrics", token="wrong")[0] == 403
    status, body, headers = get(f"{base}metrics", token="s3cret")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain")
    text = body.decode()
    assert 'qmon_jobs{status="running"} 1.0' in text
    assert 'qmon_jobs{status="completed"} 1.0' in text


def test_listens_on_loopback_only(server):
    assert server.url.startswith("http://127.0.0.1:")


def test_page_opens_with_token_in_url(server):
    status, body, headers = get(server.url)
    assert status == 200
    assert b'id="qmon-app"' in body
    assert any("_xsrf" in c for c in headers.get_all("Set-Cookie"))


def test_post_with_token_reaches_the_store(server, kernel, store):
    snap = kernel.add()
    request = urllib.request.Request(
        f"{server.api_url}jobs/{snap['id']}/cancel",
        data=b"",
        method="POST",
        headers={"Authorization": "token s3cret"},
    )
    with urllib.request.urlopen(request, timeout=10) as r:
        assert r.status == 202
    assert store.pending_commands("k-test")[0]["action"] == "cancel"


def test_cli_serve_generates_and_prints_a_token(tmp_path):
    with subprocess.Popen(
        [sys.executable, "-m", "qmon_jupyter", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as proc:
        _check_cli(proc)


def _check_cli(proc):
    try:
        lines = [proc.stdout.readline() for _ in range(2)]
        token = re.search(r"generated token (\w+)", lines[0]).group(1)
        url = re.search(r"(http://127\.0\.0\.1:\d+/)qmon/\?token=(\w+)", lines[1])
        assert url.group(2) == token
        assert get(f"{url.group(1)}api/qmon/status", token=token)[0] == 200
        assert get(f"{url.group(1)}api/qmon/status")[0] == 401
    finally:
        proc.terminate()
        proc.wait(10)
