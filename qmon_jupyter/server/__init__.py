"""The qmon server side: Jupyter server extension and standalone server.

REST under ``{base_url}api/qmon/``, Server-Sent Events, the ``/qmon/`` page and
Prometheus metrics, all reading the store that kernels write.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import DashboardServer, start_dashboard_server

__all__ = ["DashboardServer", "start_dashboard_server"]


def __getattr__(name: str) -> Any:
    # lazy: importing qmon_jupyter.server must not pull in tornado/jupyter_server
    if name in __all__:
        from . import app

        return getattr(app, name)
    msg = f"module 'qmon_jupyter.server' has no attribute {name!r}"
    raise AttributeError(msg)
