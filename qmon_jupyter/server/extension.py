"""Register qmon with a Jupyter server: REST, event stream, page, metrics.

:class:`QmonExtension` is a jupyter_server ``ExtensionApp`` so that the
server's shutdown reaches it (``stop_extension``): the event poller, the
liveness checks, the reader threads and the store are stopped with the
server, not left to the interpreter's exit.
"""

from __future__ import annotations

from jupyter_server.extension.application import ExtensionApp

from .config import QmonConfig
from .metrics import register_service
from .routes import routes
from .service import QmonService

__all__ = ["QmonExtension"]


class QmonExtension(ExtensionApp):
    """The qmon server extension (enabled by ``pip install``; settings in :class:`QmonConfig`)."""

    name = "qmon_jupyter"
    load_other_extensions = True
    service: QmonService | None = None

    def initialize_settings(self) -> None:
        """Create and start the service the handlers share (``settings["qmon"]``)."""
        self.service = QmonService(QmonConfig(parent=self.serverapp))
        self.settings["qmon"] = self.service
        register_service(self.service)
        self.service.start()

    def initialize_handlers(self) -> None:
        """Add the routes, relative: ``ExtensionApp`` puts the server's base URL in front."""
        self.handlers.extend(routes("/"))
        base = self.serverapp.web_app.settings.get("base_url", "/")
        self.log.info("qmon_jupyter: REST API at %sapi/qmon/, dashboard at %sqmon/", base, base)

    async def stop_extension(self) -> None:
        """Stop the event stream, liveness checks, reader threads and store with the server."""
        if self.service is not None:
            await self.service.aclose()
