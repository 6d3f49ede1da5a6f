"""Authentication, XSRF and authorization of every qmon endpoint."""

from __future__ import annotations

import json
from http.cookies import SimpleCookie

import pytest
from jupyter_server.serverapp import ServerApp

from qmon_jupyter.server.routes import default_handlers

# (method, path under base_url) for every route; ids need not exist: auth comes first
ROUTES = [
    ("GET", "api/qmon/dashboard"),
    ("GET", "api/qmon/jobs"),
    ("GET", "api/qmon/jobs/0123456789ab"),
    ("POST", "api/qmon/jobs/0123456789ab/cancel"),
    ("POST", "api/qmon/jobs/0123456789ab/pause"),
    ("POST", "api/qmon/jobs/0123456789ab/resume"),
    ("GET", "api/qmon/hardware"),
    ("GET", "api/qmon/status"),
    ("GET", "api/qmon/resources"),
    ("GET", "api/qmon/stats"),
    ("GET", "api/qmon/notifications"),
    ("POST", "api/qmon/notifications/0123456789ab/dismiss"),
    ("GET", "api/qmon/events"),
    ("GET", "api/qmon/export?format=csv"),
    ("GET", "api/qmon/openapi.json"),
    ("GET", "api/qmon/no-such-endpoint"),
    ("GET", "qmon/"),
    ("GET", "qmon/static/page.js"),
]
POSTS = [path for method, path in ROUTES if method == "POST"]
GETS = [path for method, path in ROUTES if method == "GET"]


def test_routes_cover_every_handler():
    assert len(default_handlers) == 14  # update ROUTES when a route is added


async def request(http_server_client, jp_base_url, method, path, headers=None, **kwargs):
    return await http_server_client.fetch(
        f"{jp_base_url}{path}",
        method=method,
        body=b"" if method == "POST" else None,
        headers=headers or {},
        raise_error=False,
        follow_redirects=False,
        request_timeout=10,
        **kwargs,
    )


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_every_endpoint_refuses_a_request_without_token(
    http_server_client, jp_base_url, method, path, store
):
    response = await request(http_server_client, jp_base_url, method, path)
    if path == "qmon/":
        assert response.code == 302  # the page sends people to Jupyter's login
        assert "login" in response.headers["Location"]
    else:
        assert response.code in (401, 403), response.code
    assert b"qmon-app" not in (response.body or b"")


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_a_wrong_token_is_refused_too(http_server_client, jp_base_url, method, path):
    headers = {"Authorization": "token not-the-token"}
    response = await request(http_server_client, jp_base_url, method, path, headers)
    assert response.code in (302, 401, 403)


async def _login_cookies(http_server_client, jp_base_url) -> dict[str, str]:
    """Log in with ?token= like a browser; returns the login and _xsrf cookies."""
    token = ServerApp.instance().identity_provider.token
    response = await request(http_server_client, jp_base_url, "GET", f"qmon/?token={token}")
    assert response.code == 200
    jar = SimpleCookie()
    for header in response.headers.get_list("Set-Cookie"):
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


@pytest.mark.parametrize("path", POSTS)
async def test_cookie_post_without_xsrf_is_refused(http_server_client, jp_base_url, path, store):
    cookies = await _login_cookies(http_server_client, jp_base_url)
    login = {k: v for k, v in cookies.items() if k != "_xsrf"}
    assert login, cookies
    cookie_header = "; ".join(f"{k}={v}" for k, v in login.items())
    response = await request(
        http_server_client, jp_base_url, "POST", path, {"Cookie": cookie_header}
    )
    assert response.code == 403
    assert "xsrf" in json.loads(response.body)["message"].lower()
    # the same browser with the XSRF token gets through (to a 404: the id is unknown)
    full = "; ".join(f"{k}={v}" for k, v in cookies.items())
    response = await request(
        http_server_client,
        jp_base_url,
        "POST",
        path,
        {"Cookie": full, "X-XSRFToken": cookies["_xsrf"]},
    )
    assert response.code == 404


async def test_cookie_get_works_for_the_page_and_api(http_server_client, jp_base_url, store):
    cookies = await _login_cookies(http_server_client, jp_base_url)
    header = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    page = await request(http_server_client, jp_base_url, "GET", "qmon/", header)
    assert page.code == 200
    assert b'id="qmon-app"' in page.body
    assert f'data-base-url="{jp_base_url}"'.encode() in page.body
    api = await request(http_server_client, jp_base_url, "GET", "api/qmon/jobs", header)
    assert api.code == 200


def _read_only_authorizer():
    from jupyter_server.auth.authorizer import Authorizer

    class ReadOnlyQmon(Authorizer):
        def is_authorized(self, handler, user, action, resource):
            return not (resource == "qmon" and action == "write")

    return ReadOnlyQmon


@pytest.fixture
def read_only_server(jp_server_config):
    jp_server_config.ServerApp.authorizer_class = _read_only_authorizer()
    return jp_server_config


@pytest.mark.parametrize("path", POSTS)
async def test_authorizer_denying_write_gets_403_on_posts(read_only_server, jp_fetch, path, store):
    from tornado.httpclient import HTTPClientError

    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(*path.split("/"), method="POST", body=b"")
    assert info.value.code == 403
    assert store.pending_commands("k-test") == []


@pytest.mark.parametrize(
    "path",
    [p for p in GETS if not any(s in p for s in ("events", "no-such", "static", "0123456789ab"))],
)
async def test_authorizer_denying_write_still_allows_gets(read_only_server, jp_fetch, path, store):
    parts, _, query = path.partition("?")
    params = dict([query.split("=")]) if query else None
    response = await jp_fetch(*parts.split("/"), params=params)
    assert response.code == 200


def _no_read_authorizer():
    from jupyter_server.auth.authorizer import Authorizer

    class NoQmon(Authorizer):
        def is_authorized(self, handler, user, action, resource):
            return resource != "qmon"

    return NoQmon


@pytest.fixture
def no_read_server(jp_server_config):
    jp_server_config.ServerApp.authorizer_class = _no_read_authorizer()
    return jp_server_config


@pytest.mark.parametrize("path", ["qmon/static/page.js", "api/qmon/jobs", "qmon/"])
async def test_authorizer_denying_read_gets_403_on_gets(no_read_server, jp_fetch, path, store):
    from tornado.httpclient import HTTPClientError

    with pytest.raises(HTTPClientError) as info:
        await jp_fetch(*path.split("/"))
    assert info.value.code == 403
