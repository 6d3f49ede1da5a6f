"""Server-Sent Events: job and notification events, resumable with ``Last-Event-ID``.

One :class:`EventPoller` per server polls the store's events table at a
short interval while at least one client listens, and hands each batch to
every client's queue; a client that reconnects with ``Last-Event-ID`` first
gets what it missed from the store, then the live batches.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, Any

from jupyter_server.auth.decorator import authorized
from tornado import web
from tornado.iostream import StreamClosedError

from ._base import QmonAPIHandler

if TYPE_CHECKING:
    from .service import QmonService

__all__ = ["EventPoller", "EventStreamHandler"]

_PAGE = 500
_MAX_SEQ = 2**63 - 1
Row = tuple[int, str, str, "str | None", str]


class _Client:
    __slots__ = ("closed", "queue")

    def __init__(self) -> None:
        # batches of rows; None wakes the handler to notice closing
        self.queue: asyncio.Queue[list[Row] | None] = asyncio.Queue(maxsize=1000)
        self.closed = False


class EventPoller:
    """The one store poller shared by every event-stream client of a server."""

    def __init__(self, service: QmonService) -> None:
        self.service = service
        self.clients: set[_Client] = set()
        self.cursor: int | None = None
        self._task: asyncio.Task[None] | None = None

    async def subscribe(self) -> tuple[_Client, int]:
        """Add a client; returns it and the seq from which it gets live batches.

        Raises 503 once the service is stopping (a browser's EventSource does
        not reconnect after an error status).
        """
        if self.service.closed:
            raise web.HTTPError(503, "qmon is shutting down", reason="Service Unavailable")
        if self.cursor is None:
            seq = await self.service.run(lambda: self.service.store().last_seq())
            if self.cursor is None:
                self.cursor = seq
        client = _Client()
        self.clients.add(client)
        if self._task is None or self._task.done():
            self._task = asyncio.ensure_future(self._loop())
        return client, self.cursor

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The running poll loop, if any."""
        return self._task

    def unsubscribe(self, client: _Client) -> None:
        """Forget a client (it disconnected)."""
        client.closed = True
        self.clients.discard(client)

    def stop(self) -> None:
        """End the poll loop and wake every client."""
        for client in list(self.clients):
            self.unsubscribe(client)
            with contextlib.suppress(asyncio.QueueFull):
                client.queue.put_nowait(None)
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _loop(self) -> None:
        interval = self.service.config.poll_interval
        while self.clients:
            try:
                cursor = self.cursor or 0
                rows = await self.service.run(
                    lambda c=cursor: self.service.store().events_after(c, limit=_PAGE)
                )
            except Exception:
                await asyncio.sleep(max(interval, 1.0))  # store trouble: retry gently
                continue
            if rows:
                self.cursor = rows[-1][0]
                for client in list(self.clients):
                    if client.queue.full():
                        # too slow to keep up: drop it; it reconnects with Last-Event-ID
                        self.unsubscribe(client)
                        client.queue.get_nowait()
                        client.queue.put_nowait(None)
                    else:
                        client.queue.put_nowait(rows)
            if len(rows) < _PAGE:
                await asyncio.sleep(interval)
        self._task = None


def format_event(row: Row) -> str:
    """One SSE message: ``id``, ``event`` (the kind) and the event as JSON data."""
    seq, time, kind, job_id, data = row
    payload = json.loads(data) or {}
    event = {"seq": seq, "kind": kind, "time": time, "job_id": job_id}
    event.update({k: payload.get(k) for k in ("snapshot", "notification", "data")})
    body = json.dumps(event, separators=(",", ":"), default=str)
    return f"id: {seq}\nevent: {kind}\ndata: {body}\n\n"


class EventStreamHandler(QmonAPIHandler):
    """``GET events``: the live stream (``text/event-stream``)."""

    _client: _Client | None = None

    def _last_event_id(self) -> int | None:
        raw = self.request.headers.get("Last-Event-ID")
        if raw is None:
            raw = self.get_query_argument("last_event_id", None)
        if raw is None or raw.strip() == "":
            return None
        raw = raw.strip()
        if not raw.isdigit() or len(raw) > 19 or int(raw) > _MAX_SEQ:
            raise web.HTTPError(
                400, f"Last-Event-ID must be a non-negative integer, got {raw[:40]!r}"
            )
        return int(raw)

    @web.authenticated
    @authorized
    async def get(self) -> None:
        """Stream events until the client goes away."""
        self.args()
        last = self._last_event_id()
        poller = self.qmon.poller
        client, cursor = await poller.subscribe()
        self._client = client
        try:
            self.set_header("Content-Type", "text/event-stream; charset=utf-8")
            self.set_header("Cache-Control", "no-cache")
            self.set_header("X-Accel-Buffering", "no")  # nginx: do not buffer the stream
            self.write("retry: 2000\n: qmon event stream\n\n")
            await self.flush()
            sent = cursor if last is None else last
            while sent < cursor:  # catch up from the store before going live
                rows = await self.qmon.run(
                    lambda s=sent: self.qmon.store().events_after(s, limit=_PAGE)
                )
                rows = [r for r in rows if r[0] <= cursor]
                if not rows:
                    break
                await self._send(rows)
                sent = rows[-1][0]
            sent = max(sent, cursor)
            await self._live(client, sent)
        except StreamClosedError:
            pass
        finally:
            poller.unsubscribe(client)

    async def _live(self, client: _Client, sent: int) -> None:
        beat = self.qmon.config.sse_heartbeat
        while not client.closed:
            try:
                rows = await asyncio.wait_for(client.queue.get(), timeout=beat)
            except asyncio.TimeoutError:
                self.write(": keepalive\n\n")
                await self.flush()
                continue
            if rows is None:
                return
            rows = [r for r in rows if r[0] > sent]
            if rows:
                await self._send(rows)
                sent = rows[-1][0]

    async def _send(self, rows: list[Any]) -> None:
        self.write("".join(format_event(r) for r in rows))
        await self.flush()

    def on_connection_close(self) -> None:
        """Wake the stream loop so the client is forgotten at once."""
        client = self._client
        if client is not None:
            self.qmon.poller.unsubscribe(client)
            with contextlib.suppress(asyncio.QueueFull):
                client.queue.put_nowait(None)

    def on_finish(self) -> None:
        """Forget the client whatever way the request ended."""
        if self._client is not None:
            self.qmon.poller.unsubscribe(self._client)
