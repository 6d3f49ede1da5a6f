"""What the handlers share: the store, a reader thread pool, liveness checks, the event poller."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from tornado import web
from tornado.ioloop import PeriodicCallback

from qmon_jupyter.dashboard_api import DashboardAPI
from qmon_jupyter.errors import JobStateError
from qmon_jupyter.store import Store, StoreUnavailable, pid_alive

from .config import QmonConfig
from .metrics import KERNELS_DIED
from .source import StoreSource, UnknownIdError
from .sse import EventPoller

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["QmonService"]

logger = logging.getLogger(__name__)

T = TypeVar("T")


class QmonService:
    """One per server: owns the store connection pool and the background checks.

    Parameters
    ----------
    config
        The :class:`QmonConfig` (from the Jupyter config, or defaults).
    """

    def __init__(self, config: QmonConfig | None = None) -> None:
        self.config = config or QmonConfig()
        self.path = self.config.db_path or None
        if self.path:
            # kernels started by this server inherit the store location, so both agree
            os.environ["QMON_DB"] = self.path
        self._store: Store | None = None
        self.store_error: str | None = None
        self.executor = ThreadPoolExecutor(
            max_workers=max(1, self.config.workers), thread_name_prefix="qmon-rest"
        )
        self.poller = EventPoller(self)
        #: set once the service stops: requests get 503 from then on
        self.closed = False
        #: the store-backed source, and the DashboardAPI over it that handlers use
        self.source = StoreSource(self)
        self.api = DashboardAPI(self.source)
        self._liveness: PeriodicCallback | None = None
        self._checking = False
        self._next_prune = 0.0
        self.kernels_died = 0
        #: kernel id -> when (monotonic) the liveness check first saw it with unfinished
        #: jobs but no heartbeat row yet; only the liveness check's thread touches it
        self._no_beat_since: dict[str, float] = {}
        self.host = socket.gethostname()

    # -- the store ------------------------------------------------------------------

    def store(self) -> Store:
        """Return the store, opened on first use (and retried after a failure)."""
        if self._store is None:
            try:
                self._store = Store(self.path, busy_timeout=2.0)
            except Exception as exc:
                self.store_error = f"{type(exc).__name__}: {exc}"
                raise StoreUnavailable(f"qmon store unavailable: {self.store_error}") from exc
            self.store_error = None
        return self._store

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run blocking store work on the reader pool; store trouble becomes a 503.

        An unknown id (:class:`UnknownIdError`) is a 404 and a refused action a 409;
        any other error, a ``KeyError`` from a bug included, is a logged 500.
        """
        if self.closed:
            raise web.HTTPError(503, "qmon is shutting down", reason="Service Unavailable")
        loop = asyncio.get_running_loop()
        try:
            future = loop.run_in_executor(self.executor, lambda: fn(*args))
        except RuntimeError as exc:  # the pool shut down between the check and here
            raise web.HTTPError(503, "qmon is shutting down", reason="Service Unavailable") from exc
        try:
            return await future
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if self.closed and (task is None or not task.cancelling()):
                # the pool dropped this work item at shutdown; the request itself goes on
                raise web.HTTPError(
                    503, "qmon is shutting down", reason="Service Unavailable"
                ) from None
            raise
        except StoreUnavailable as exc:
            raise web.HTTPError(503, str(exc), reason="Store Unavailable") from exc
        except UnknownIdError as exc:
            raise web.HTTPError(404, str(exc), reason="Not Found") from exc
        except JobStateError as exc:
            raise web.HTTPError(409, str(exc), reason="Conflict") from exc
        except (OSError, sqlite3.Error) as exc:
            raise web.HTTPError(
                503, f"qmon store unavailable: {exc}", reason="Store Unavailable"
            ) from exc

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> None:
        """Start the liveness checks (call with the server's event loop running or about to)."""
        if self._liveness is None:
            self._liveness = PeriodicCallback(
                self._check_liveness, self.config.liveness_interval * 1000
            )
            self._liveness.start()

    def _halt(self) -> asyncio.Task[None] | None:
        """Refuse new requests (503); stop the liveness checks and the event poller."""
        self.closed = True
        if self._liveness is not None:
            self._liveness.stop()
            self._liveness = None
        task = self.poller.task
        self.poller.stop()
        return task

    def stop(self) -> None:
        """Stop background work and close the store (without waiting for reader threads)."""
        self._halt()
        self.executor.shutdown(wait=False, cancel_futures=True)
        if self._store is not None:
            self._store.close()

    async def aclose(self) -> None:
        """Stop as :meth:`stop` does, waiting for the poller and the reader threads first.

        Requests that still arrive (the server stops its extensions before it
        stops listening) are answered 503, and event streams are refused.
        """
        task = self._halt()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        shutdown = functools.partial(self.executor.shutdown, wait=True, cancel_futures=True)
        await asyncio.get_running_loop().run_in_executor(None, shutdown)
        if self._store is not None:
            self._store.close()

    # -- kernel liveness -------------------------------------------------------------------

    def kernel_state(self, heartbeat: dict[str, Any] | None, now: float | None = None) -> str:
        """``alive``, ``unresponsive`` (heartbeat late, process there), ``dead`` or ``unknown``.

        ``unknown``: no heartbeat yet (a kernel's first jobs may be stored just
        before its first heartbeat); :meth:`dead_kernels` waits ``kernel_timeout``
        before it takes such a kernel for dead.
        """
        if heartbeat is None:
            return "unknown"
        if heartbeat["state"] in ("stopped", "dead"):
            return heartbeat["state"]
        age = (now or time.time()) - float(heartbeat["last_seen"])
        if age <= self.config.kernel_timeout:
            return "alive"
        if age > self.config.stale_timeout:
            return "dead"
        if heartbeat.get("host") == self.host and not pid_alive(
            heartbeat.get("pid"), heartbeat.get("proc_start")
        ):
            return "dead"
        return "unresponsive" if heartbeat.get("host") == self.host else "alive"

    def dead_kernels(self) -> list[tuple[str, str]]:
        """Kernels with unfinished jobs that are gone: ``(kernel_id, reason)``."""
        store = self.store()
        active = store.kernels_with_active_jobs()
        if not active:
            self._no_beat_since.clear()
            return []
        beats = {k["kernel_id"]: k for k in store.kernels()}
        now = time.time()
        mono = time.monotonic()
        # forget kernels that got a heartbeat or have no unfinished jobs any more
        for kernel_id in list(self._no_beat_since):
            if kernel_id in beats or kernel_id not in active:
                del self._no_beat_since[kernel_id]
        out = []
        for kernel_id in active:
            beat = beats.get(kernel_id)
            state = self.kernel_state(beat, now)
            if state == "unknown":
                # no heartbeat yet: dead only once none came for kernel_timeout since
                # this check first saw its jobs (which is after they were stored)
                since = self._no_beat_since.setdefault(kernel_id, mono)
                if mono - since > self.config.kernel_timeout:
                    out.append((kernel_id, "kernel died"))
            elif state == "stopped":
                out.append((kernel_id, "kernel stopped"))
            elif state == "dead":
                out.append((kernel_id, "kernel died"))
        return out

    def _check_liveness_sync(self) -> int:
        store = self.store()
        now = time.monotonic()
        if now >= self._next_prune:
            # retention, in case no kernel runs long enough to prune
            self._next_prune = now + 60.0
            store.prune(max_jobs=self.config.max_jobs)
        failed = 0
        for kernel_id, reason in self.dead_kernels():
            jobs = store.mark_kernel_dead(kernel_id, reason)
            detached = sum(1 for job in jobs if job.get("detached"))
            failed += len(jobs) - detached
            if jobs:
                self.kernels_died += 1
                KERNELS_DIED.inc()
                logger.warning(
                    "qmon: kernel %s is gone (%s); marked %d job(s) failed, %d detached",
                    kernel_id,
                    reason,
                    len(jobs) - detached,
                    detached,
                )
        return failed

    async def _check_liveness(self) -> None:
        if self._checking:
            return
        self._checking = True
        try:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self.executor, self._check_liveness_sync)
        except Exception as exc:
            logger.debug("qmon liveness check skipped: %s", exc)
        finally:
            self._checking = False
