"""The full-page dashboard at ``{base_url}qmon/`` and its static files.

The page is a small HTML shell; the renderer the notebook widget uses is
loaded from ``qmon_jupyter/static/page.js`` (built from ``js/src/page.js``)
and fed by REST + SSE. The ``_xsrf`` cookie is set here, so the page's
POSTs carry the XSRF token.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from jupyter_server.auth.decorator import authorized
from jupyter_server.base.handlers import JupyterHandler
from tornado import web

from qmon_jupyter._version import __version__

from ._base import AUTH_RESOURCE

__all__ = ["STATIC_DIR", "PageHandler", "StaticHandler"]

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
PAGE_BUNDLE = "page.js"

_SHELL = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>qmon — quantum jobs</title>
<link rel="icon" href="data:,">
<style>
  html, body {{ margin: 0; background: var(--jp-layout-color0, #fff); }}
  body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }}
  #qmon-app {{ max-width: 1200px; margin: 0 auto; padding: 16px; }}
  .qmon-missing {{ color: #a33; }}
  @media (prefers-color-scheme: dark) {{ html, body {{ background: #111; color: #ddd; }} }}
</style>
<script id="jupyter-config-data" type="application/json">{config}</script>
</head>
<body data-base-url="{base_url}">
<main id="qmon-app" aria-live="polite">{missing}</main>
<noscript>The qmon dashboard needs JavaScript. The same data is at
<a href="{base_url}api/qmon/dashboard">{base_url}api/qmon/dashboard</a>.</noscript>
<script type="module" src="{bundle}"></script>
</body>
</html>
"""


def _script_json(data: dict[str, Any]) -> str:
    # inside <script>, "</" would end the element: escape it (and <!-- for old parsers)
    return json.dumps(data).replace("</", "<\\/").replace("<!--", "<\\!--")


class PageHandler(JupyterHandler):
    """``GET qmon/``: the HTML shell of the full-page dashboard."""

    auth_resource = AUTH_RESOURCE

    def get_login_url(self) -> str:
        """Jupyter's login page; the standalone server has none and answers 403."""
        if not self.settings.get("login_url"):
            raise web.HTTPError(403, "open this page with ?token=<token>")
        return super().get_login_url()

    @web.authenticated
    @authorized
    def get(self) -> None:
        """Serve the shell, with the base URL and XSRF token the renderer needs."""
        base_url = self.base_url
        bundle = STATIC_DIR / PAGE_BUNDLE
        missing = ""
        if not bundle.is_file():
            missing = (
                '<p class="qmon-missing">The dashboard bundle (qmon_jupyter/static/page.js) '
                "is not built: run <code>npm run build</code> in <code>js/</code>.</p>"
            )
        version = int(bundle.stat().st_mtime) if bundle.is_file() else 0
        config = {
            "baseUrl": base_url,
            "apiUrl": f"{base_url}api/qmon/",
            "xsrfToken": self.xsrf_token.decode("ascii"),
            "version": __version__,
        }
        self.set_header("Cache-Control", "no-store")
        self.finish(
            _SHELL.format(
                config=_script_json(config),
                base_url=html.escape(base_url, quote=True),
                missing=missing,
                bundle=html.escape(f"{base_url}qmon/static/{PAGE_BUNDLE}?v={version}", quote=True),
            )
        )

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Plain-text errors (the standalone server has no Jupyter templates)."""
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        exc = kwargs.get("exc_info", (None, None, None))[1]
        message = getattr(exc, "log_message", None) or self._reason
        self.finish(f"{status_code}: {message}\n")


class StaticHandler(JupyterHandler, web.StaticFileHandler):
    """``GET qmon/static/<file>``: the built renderer (authenticated, like the page)."""

    auth_resource = AUTH_RESOURCE

    def initialize(self, path: str | None = None, default_filename: str | None = None) -> None:
        """Serve from ``qmon_jupyter/static``."""
        web.StaticFileHandler.initialize(self, path or str(STATIC_DIR), default_filename)

    def get_login_url(self) -> str:
        """403 instead of a redirect for a script."""
        raise web.HTTPError(403)

    @web.authenticated
    @authorized
    def head(self, path: str) -> Any:
        """Headers of a static file."""
        return web.StaticFileHandler.get(self, path, include_body=False)

    @web.authenticated
    @authorized
    def get(self, path: str, include_body: bool = True) -> Any:
        """Serve a static file."""
        return web.StaticFileHandler.get(self, path, include_body)

    def write_error(self, status_code: int, **_kwargs: Any) -> None:
        """Plain-text errors."""
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(f"{status_code}: {self._reason}\n")
