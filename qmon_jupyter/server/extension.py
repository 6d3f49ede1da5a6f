"""Register qmon with a Jupyter server: REST, event stream, page, metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from jupyter_server.utils import url_path_join

from .config import QmonConfig
from .handlers import default_handlers
from .metrics import register_service
from .page import PageHandler, StaticHandler
from .service import QmonService

if TYPE_CHECKING:
    from tornado import web

__all__ = ["load_extension", "routes"]


def routes(base_url: str) -> list[tuple[str, type[web.RequestHandler]]]:
    """Every qmon route under ``base_url``: the API, then the page and its static files."""
    api = [(url_path_join(base_url, "api", "qmon", path), h) for path, h in default_handlers]
    return [
        *api,
        (url_path_join(base_url, "qmon") + "/?", PageHandler),
        (url_path_join(base_url, "qmon", "static", "(.*)"), StaticHandler),
    ]


def load_extension(server_app: Any) -> QmonService:
    """Add qmon's handlers to ``server_app`` and start its background checks."""
    web_app = server_app.web_app
    service = QmonService(QmonConfig(parent=server_app))
    web_app.settings["qmon"] = service
    web_app.add_handlers(".*$", routes(web_app.settings.get("base_url", "/")))
    register_service(service)
    service.start()
    server_app.log.info(
        "qmon_jupyter: REST API at %sapi/qmon/, dashboard at %sqmon/",
        web_app.settings.get("base_url", "/"),
        web_app.settings.get("base_url", "/"),
    )
    return service
