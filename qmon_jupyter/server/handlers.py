"""The REST handlers under ``{base_url}api/qmon/``.

Every verb is ``@web.authenticated`` and ``@authorized`` against the ``qmon``
resource (``read`` for GET, ``write`` for POST). Store work runs on the
service's reader pool; a store that is locked or missing answers 503. Their
paths, parameters and replies are in the route table (routes.py); each
handler checks a request against its route with ``self.args()``.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from jupyter_server.auth.decorator import authorized
from tornado import web
from tornado.iostream import StreamClosedError

from ._base import QmonAPIHandler
from .source import export_csv

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "DashboardHandler",
    "DismissHandler",
    "ExportHandler",
    "HardwareHandler",
    "JobActionHandler",
    "JobHandler",
    "JobsHandler",
    "NotFoundHandler",
    "NotificationsHandler",
    "OpenAPIHandler",
    "ResourcesHandler",
    "StatsHandler",
    "StatusHandler",
]


class DashboardHandler(QmonAPIHandler):
    """``GET dashboard``: jobs (active first, then recent), hardware, status, stats, ..."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Everything the dashboard draws."""
        args = self.args()
        self.reply(await self.qmon.run(self.qmon.api.get_dashboard_state, args["limit"]))


class JobsHandler(QmonAPIHandler):
    """``GET jobs?status=&type=&kernel=&q=&parent=&limit=&offset=``: ``{jobs, total}``."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """List jobs, newest first."""
        args = self.args()
        page = await self.qmon.run(lambda: self.qmon.api.get_jobs(**args))
        self.reply({**page, "limit": args["limit"], "offset": args["offset"]})


class JobHandler(QmonAPIHandler):
    """``GET jobs/{id}``: one snapshot."""

    @web.authenticated
    @authorized
    async def get(self, job_id: str) -> None:
        """One job's latest snapshot; 404 if unknown."""
        self.args()
        self.reply(await self.qmon.run(self.qmon.api.get_job, job_id))


class JobActionHandler(QmonAPIHandler):
    """``POST jobs/{id}/cancel|pause|resume``: 202 with the snapshot; the kernel acts."""

    @web.authenticated
    @authorized
    async def post(self, job_id: str, action: str) -> None:
        """Queue the action for the job's kernel (which carries it out within ~1 s)."""
        self.args()
        reason = self.action_body().get("reason") or None
        user = self.user_name
        api = self.qmon.api
        snap = await self.qmon.run(lambda: api.act(job_id, action, user=user, reason=reason))
        _count_command(action)
        self.reply(snap, status=202)


class StatsHandler(QmonAPIHandler):
    """``GET stats``: counts by status and type, durations, throughput, success rate."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Statistics over every stored job."""
        self.args()
        self.reply(await self.qmon.run(self.qmon.api.get_statistics))


class HardwareHandler(QmonAPIHandler):
    """``GET hardware``: provider jobs and provider health."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """List provider jobs, newest first."""
        args = self.args()
        self.reply(await self.qmon.run(self.qmon.api.get_hardware, args["limit"]))


class StatusHandler(QmonAPIHandler):
    """``GET status``: kernels, providers, store, version."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Report the health of everything qmon depends on."""
        self.args()
        self.reply(await self.qmon.run(self.qmon.api.get_status))


class ResourcesHandler(QmonAPIHandler):
    """``GET resources``: CPU and memory of the server and each kernel, with history."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Resources per kernel."""
        self.args()
        self.reply(await self.qmon.run(self.qmon.api.get_resources))


class NotificationsHandler(QmonAPIHandler):
    """``GET notifications``: newest first; dismissed ones only if asked."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """List notifications over every kernel."""
        args = self.args()
        notes = await self.qmon.run(lambda: self.qmon.api.get_notifications(**args))
        self.reply({"notifications": notes})


class DismissHandler(QmonAPIHandler):
    """``POST notifications/{id}/dismiss``: 202 with the notification."""

    @web.authenticated
    @authorized
    async def post(self, notification_id: str) -> None:
        """Dismiss it (for every view) and tell its kernel."""
        self.args()
        self.action_body()
        note = await self.qmon.run(
            lambda: self.qmon.api.dismiss_notification(notification_id, user=self.user_name)
        )
        _count_command("dismiss")
        self.reply(note, status=202)


class ExportHandler(QmonAPIHandler):
    """``GET export?format=json|csv``: the job history as a download."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Every stored job (filters as for ``jobs``)."""
        args = self.args()
        fmt = args.pop("format")
        pages = self.qmon.api.iter_jobs(**args)

        def next_chunk() -> tuple[int, str] | None:
            # read and render one page on a reader thread, not on the event loop
            page = next(pages, None)
            if page is None:
                return None
            if fmt == "csv":
                return len(page), export_csv(page, header=False)
            return len(page), ",".join(
                json.dumps(s, separators=(",", ":"), default=str) for s in page
            )

        # the first page is read before anything is sent: a store error is still a 503
        chunk = await self.qmon.run(next_chunk)
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        self.set_header("Content-Disposition", f'attachment; filename="qmon-jobs-{stamp}.{fmt}"')
        self.set_header("Cache-Control", "no-store")
        # APIHandler.finish() sets the type again: the same one, for a body never flushed
        content_type = "text/csv; charset=utf-8" if fmt == "csv" else "application/json"
        self.set_header("Content-Type", content_type)
        if fmt == "csv":
            self.write(export_csv([], header=True))
        else:
            self.write(f'{{"exported_at":"{stamp}","jobs":[')
        total = await self._stream(chunk, next_chunk, fmt)
        if total is None:
            return
        if fmt == "json":
            self.write(f'],"total":{total}}}')
        self.finish(set_content_type=content_type)

    async def _stream(
        self,
        chunk: tuple[int, str] | None,
        next_chunk: Callable[[], tuple[int, str] | None],
        fmt: str,
    ) -> int | None:
        """Send rendered pages as they are read; the jobs sent, or None if it stopped early.

        A page at a time: 10,000 jobs are never all in memory at once.
        """
        total = 0
        try:
            while chunk is not None:
                count, text = chunk
                if count:
                    self.write(("," if total and fmt == "json" else "") + text)
                    total += count
                    await self.flush()
                chunk = await self.qmon.run(next_chunk)
        except StreamClosedError:
            return None  # the client went away: stop reading pages
        except Exception:
            # The headers are out: an error status cannot be sent. Closing the
            # connection before the last chunk makes the download fail visibly,
            # instead of ending a cut-off file as if it were complete.
            self.log.exception("qmon export failed after %d jobs; connection closed", total)
            self.request.connection.close()
            return None
        return total


class OpenAPIHandler(QmonAPIHandler):
    """``GET openapi.json``: the OpenAPI 3 document of this API."""

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Serve the document, with this server's base URL."""
        from .openapi import openapi_document  # it reads the route table, which names us

        self.args()
        self.reply(openapi_document(self.base_url))


class NotFoundHandler(QmonAPIHandler):
    """Any other path under ``api/qmon/``: a JSON 404 (never an HTML page)."""

    def _missing(self, *_args: str) -> None:
        raise web.HTTPError(404, f"no qmon endpoint {self.request.path[:80]!r}", reason="Not Found")

    @web.authenticated
    @authorized
    def get(self, *args: str) -> None:
        """404."""
        self._missing(*args)

    @web.authenticated
    @authorized
    def post(self, *args: str) -> None:
        """404."""
        self._missing(*args)

    @web.authenticated
    @authorized
    def put(self, *args: str) -> None:
        """404."""
        self._missing(*args)

    @web.authenticated
    @authorized
    def patch(self, *args: str) -> None:
        """404."""
        self._missing(*args)

    @web.authenticated
    @authorized
    def delete(self, *args: str) -> None:
        """404."""
        self._missing(*args)


def _count_command(action: str) -> None:
    from .metrics import COMMANDS

    COMMANDS.labels(action=action).inc()
