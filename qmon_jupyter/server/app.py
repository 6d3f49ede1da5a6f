"""The standalone server: the same REST API, event stream and page, without Jupyter.

``python -m qmon_jupyter serve [--port N] [--token T]`` or
:func:`start_dashboard_server` from Python. It binds 127.0.0.1 and always
requires a token (``Authorization: token T`` or ``?token=T`` once, which sets
a login cookie for the page); one is generated and printed when none is given.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from typing import TYPE_CHECKING, Any

from tornado import web
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from .config import QmonConfig
from .metrics import register_service
from .routes import routes
from .service import QmonService

if TYPE_CHECKING:
    import argparse

__all__ = [
    "DashboardServer",
    "make_app",
    "serve_main",
    "start_dashboard_server",
]

HOST = "127.0.0.1"


def make_app(
    *, token: str, base_url: str = "/", config: QmonConfig | None = None
) -> tuple[web.Application, QmonService]:
    """Build a tornado application with qmon's routes and Jupyter's token authentication."""
    from jupyter_server.auth.authorizer import AllowAllAuthorizer
    from jupyter_server.auth.identity import IdentityProvider
    from jupyter_server.base.handlers import PrometheusMetricsHandler
    from jupyter_server.utils import url_path_join

    if not token:
        raise ValueError("the standalone qmon server requires a token")
    service = QmonService(config)
    settings: dict[str, Any] = {
        "base_url": base_url,
        "identity_provider": IdentityProvider(token=token),
        "authorizer": AllowAllAuthorizer(),
        "cookie_secret": secrets.token_bytes(32),
        "xsrf_cookies": True,
        "allow_unauthenticated_access": False,
        "allow_remote_access": False,
        "local_hostnames": ["localhost"],
        "headers": {},
        "serverapp": None,
        "qmon": service,
        # /metrics as on a Jupyter server, behind the same token
        "authenticate_prometheus": True,
    }
    metrics = (url_path_join(base_url, "metrics"), PrometheusMetricsHandler)
    return web.Application([*routes(base_url), metrics], **settings), service


class DashboardServer:
    """A running standalone server; :meth:`stop` ends it.

    Attributes
    ----------
    port, token
        Where it listens (on 127.0.0.1) and the token it requires.
    url
        The dashboard page, with the token, to open in a browser.
    """

    def __init__(
        self, port: int = 0, token: str | None = None, config: QmonConfig | None = None
    ) -> None:
        self.port = port
        self.token = token or secrets.token_hex(24)
        self.config = config
        self.service: QmonService | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    def __repr__(self) -> str:
        return f"<DashboardServer http://{HOST}:{self.port}/qmon/>"

    @property
    def url(self) -> str:
        """The dashboard page URL, token included."""
        return f"http://{HOST}:{self.port}/qmon/?token={self.token}"

    @property
    def api_url(self) -> str:
        """The REST API's base URL."""
        return f"http://{HOST}:{self.port}/api/qmon/"

    def start(self, *, background: bool = True, timeout: float = 10.0) -> DashboardServer:
        """Listen; in a daemon thread (default) or block until :meth:`stop` / Ctrl-C."""
        if not background:
            asyncio.run(self._main())
            return self
        self._thread = threading.Thread(target=self._run, name="qmon-dashboard-server", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("the qmon dashboard server did not start in time")
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        app, self.service = make_app(token=self.token, config=self.config)
        sockets = bind_sockets(self.port, HOST)
        server = HTTPServer(app, xheaders=False)
        server.add_sockets(sockets)
        self.port = sockets[0].getsockname()[1]
        register_service(self.service)
        self.service.start()
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        self._ready.set()
        try:
            await self._stopped.wait()
        finally:
            server.stop()
            await self.service.aclose()
            await server.close_all_connections()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening and close the store."""
        loop, stopped = self._loop, self._stopped
        if loop is not None and stopped is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stopped.set)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)


def start_dashboard_server(
    port: int = 0, *, token: str | None = None, db_path: str | None = None
) -> DashboardServer:
    """Start the standalone dashboard server in the background; returns it (see ``.url``)."""
    config = QmonConfig(db_path=db_path) if db_path else None
    return DashboardServer(port=port, token=token, config=config).start()


def serve_main(args: argparse.Namespace) -> int:
    """Run ``serve`` in the foreground until interrupted."""
    if not 0 <= args.port <= 65535:
        print(f"qmon serve: --port must be 0..65535, got {args.port}")  # noqa: T201
        return 2
    config = QmonConfig(db_path=args.db) if args.db else None
    server = DashboardServer(port=args.port, token=args.token, config=config)
    server.start(background=True)
    if args.token is None:
        print(f"qmon serve: generated token {server.token}")  # noqa: T201
    print(f"qmon serve: dashboard at {server.url}", flush=True)  # noqa: T201
    print(f"qmon serve: REST API at {server.api_url} (Authorization: token ...)", flush=True)  # noqa: T201
    try:
        while server._thread is not None and server._thread.is_alive():
            server._thread.join(0.5)
    except KeyboardInterrupt:
        print("qmon serve: stopping")  # noqa: T201
    finally:
        server.stop()
    return 0
