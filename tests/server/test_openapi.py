"""The served OpenAPI document matches the routes, and schemathesis finds nothing wrong."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys

import pytest
from jupyter_server.serverapp import ServerApp

from qmon_jupyter.server.openapi import openapi_document
from qmon_jupyter.server.routes import default_handlers


def _route_to_paths(pattern: str) -> list[str]:
    if pattern == "(.*)":
        return []  # the JSON 404 for everything else
    path = re.sub(r"\(\?P<(\w+)>\[\^/\]\+\)", r"{\1}", pattern).replace("\\.", ".")
    match = re.search(r"\(\?P<action>([a-z|]+)\)", path)
    if match:
        return [path.replace(match.group(0), verb) for verb in match.group(1).split("|")]
    return [path]


def test_document_lists_exactly_the_routes():
    routes = {f"/{p}" for pattern, *_ in default_handlers for p in _route_to_paths(pattern)}
    assert set(openapi_document()["paths"]) == routes


def test_document_methods_match_the_handlers():
    doc = openapi_document()["paths"]
    for pattern, handler, *_ in default_handlers:
        for path in _route_to_paths(pattern):
            documented = {m.upper() for m in doc[f"/{path}"]}
            implemented = set(handler.allowed_methods()) - {"OPTIONS"}
            assert documented == implemented, path


async def test_served_document_has_this_servers_base_url(jp_fetch, jp_base_url):
    doc = json.loads((await jp_fetch("api", "qmon", "openapi.json")).body)
    assert doc["openapi"].startswith("3.")
    assert doc["servers"][0]["url"] == f"{jp_base_url}api/qmon"


@pytest.fixture
def jp_base_url():
    """A plain base URL: schemathesis joins paths itself."""
    return "/lab-base/"


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("st") is None, reason="schemathesis CLI (st) not installed")
async def test_schemathesis_finds_no_5xx_and_no_schema_violation(
    jp_fetch, jp_http_port, jp_base_url, kernel, tmp_path
):
    kernel.add()
    kernel.add(status="paused")
    kernel.add(status="completed")
    kernel.notify()
    token = ServerApp.instance().identity_provider.token
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}api/qmon/openapi.json"
    proc = await asyncio.create_subprocess_exec(
        shutil.which("st"),
        "run",
        url,
        "--header",
        f"Authorization: token {token}",
        "--checks",
        "all",
        "--exclude-path",
        "/events",  # an endless stream; tested in test_events.py
        "--max-examples",
        "25",
        "--request-timeout",
        "10",
        "--seed",
        "1",
        "--workers",
        "1",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=tmp_path,
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""},
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 240)
    text = out.decode(errors="replace")
    sys.stdout.write(text[-3000:])
    assert proc.returncode == 0, text[-6000:]
    assert "Server error" not in text
