"""The kernel's side of the store: one writer thread per job manager.

It subscribes to the manager's events and writes them in batches, sends
heartbeats, and carries out the commands the server queues (cancel, pause,
resume, dismiss). Because all of this happens on its own thread, a command
reaches a job while the kernel's main thread is busy in a cell. Nothing here
ever raises into a job: when the store fails, monitoring degrades with a
warning and jobs run on.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import sqlite3
import threading
import time
import weakref
from collections import deque
from typing import Any

from qmon_jupyter.core.actions import ACTIONS
from qmon_jupyter.core.identity import detect_kernel_id
from qmon_jupyter.core.timefmt import iso_now
from qmon_jupyter.store import Store, get_store
from qmon_jupyter.store._paths import process_start_time
from qmon_jupyter.store._store import _is_corruption

__all__ = ["StoreWriter", "attach_store", "close_writers"]

logger = logging.getLogger(__name__)

#: events kept while the store is failing; older ones are dropped (snapshots,
#: notifications and checkpoints are coalesced per id, so they are never lost)
_MAX_BACKLOG = 10_000
#: a command for a job no writer in this kernel knows is refused after this long
_ORPHAN_COMMAND_S = 10.0

# guards _writers (manager -> its writer); weak so a forgotten manager is freed
_writers_lock = threading.Lock()
_writers: weakref.WeakKeyDictionary[Any, StoreWriter] = weakref.WeakKeyDictionary()
_live_writers: weakref.WeakSet[StoreWriter] = weakref.WeakSet()


def attach_store(manager: Any, store: Store | None = None, **kwargs: Any) -> StoreWriter:
    """Start (once per manager) the :class:`StoreWriter` that mirrors ``manager`` in the store."""
    with _writers_lock:
        writer = _writers.get(manager)
        if writer is None or writer.closed:
            writer = _writers[manager] = StoreWriter(manager, store, **kwargs)
        return writer


class StoreWriter:
    """Mirror one job manager into the store, and carry out the server's commands.

    Parameters
    ----------
    manager
        The ``JobManager``. Held weakly: the writer stops when it is gone.
    store
        The store; default :func:`get_store`. If it cannot be opened the writer
        keeps retrying and monitoring is degraded meanwhile.
    flush_interval, heartbeat_interval, command_interval
        Seconds between batched writes, heartbeats and command polls.
    max_jobs
        Retention: finished jobs kept in the store.
    """

    def __init__(
        self,
        manager: Any,
        store: Store | None = None,
        *,
        flush_interval: float = 0.1,
        heartbeat_interval: float = 1.0,
        command_interval: float = 0.2,
        max_jobs: int = 10_000,
        prune_interval: float = 60.0,
        kernel_id: str | None = None,
    ) -> None:
        self._manager = weakref.ref(manager)
        self.kernel_id = kernel_id or getattr(manager, "kernel_id", None) or detect_kernel_id()
        self.flush_interval = flush_interval
        self.heartbeat_interval = heartbeat_interval
        self.command_interval = command_interval
        self.max_jobs = max_jobs
        self.prune_interval = prune_interval
        self.store: Store | None = store
        #: why monitoring is degraded (None while the store works)
        self.degraded: str | None = None
        self.closed = False
        self._started_at = iso_now()
        self._proc_start = process_start_time(os.getpid())
        # the bus's delivery thread appends, the writer thread pops: deque ops are atomic
        self._inbox: deque[dict[str, Any]] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        # state below is touched only by the writer thread
        self._snapshots: dict[str, dict[str, Any]] = {}
        self._events: list[tuple[Any, ...]] = []
        self._notes: dict[str, dict[str, Any]] = {}
        self._dismissed: set[str] = set()
        self._checkpoints: dict[str, tuple[str | None, dict[str, Any]]] = {}
        self._done: set[str] = set()
        #: a heartbeat row was written (jobs are written only after it)
        self._beaten = False
        self._unsubscribe = manager.events.subscribe(self._on_event)
        self._thread = threading.Thread(target=self._run, name="qmon-store-writer", daemon=True)
        _live_writers.add(self)
        self._thread.start()

    def __repr__(self) -> str:
        state = f"degraded: {self.degraded}" if self.degraded else "ok"
        return f"<StoreWriter kernel={self.kernel_id} store={self.store!r} {state}>"

    # -- called on the event bus's thread: only enqueue ------------------------------

    def _on_event(self, event: dict[str, Any]) -> None:
        self._inbox.append(event)
        if event.get("kind") != "job.progress":
            self._wake.set()

    # -- public -------------------------------------------------------------------

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything received so far is written (True) or ``timeout`` passes."""
        if self.closed or threading.current_thread() is self._thread:
            return False
        done = threading.Event()
        self._inbox.append({"kind": "_flush", "_done": done})
        self._wake.set()
        return done.wait(timeout)

    def close(self, timeout: float = 5.0) -> None:
        """Write what is pending, mark the kernel stopped, and end the thread."""
        if self.closed:
            return
        self.closed = True
        with contextlib.suppress(Exception):
            self._unsubscribe()
        self._stop.set()
        self._wake.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    # -- the writer thread -----------------------------------------------------------

    def _run(self) -> None:
        next_beat = next_poll = 0.0
        next_prune = time.monotonic() + min(5.0, self.prune_interval)
        retry_at = 0.0
        self._sync_existing()
        while True:
            stopping = self._stop.is_set()
            if not stopping:
                self._wake.wait(self.flush_interval)
                self._wake.clear()
            if self._manager() is None:
                stopping = True
            waiters = self._drain()
            now = time.monotonic()
            if now >= retry_at:
                beat = now >= next_beat
                ok = self._guard(lambda b=beat: self._beat_and_write(beat=b))
                if beat:
                    next_beat = now + self.heartbeat_interval
                if ok and now >= next_poll and not stopping:
                    ok = self._guard(self._poll_commands)
                    next_poll = now + self.command_interval
                if ok and now >= next_prune:
                    ok = self._guard(lambda: self._require_store().prune(max_jobs=self.max_jobs))
                    next_prune = now + self.prune_interval
                retry_at = 0.0 if ok else now + 1.0
            for done in waiters:
                done.set()
            if stopping:
                self._guard(lambda: self._heartbeat(state="stopped"))
                return

    def _beat_and_write(self, *, beat: bool) -> None:
        # heartbeat first: the server must never see this kernel's jobs without
        # its heartbeat row (it would take the kernel for dead)
        if beat or not self._beaten:
            self._heartbeat()
            self._beaten = True
        self._write_pending()

    def _require_store(self) -> Store:
        if self.store is None:
            self.store = get_store()
        return self.store

    def _guard(self, action: Any) -> bool:
        """Run one store action; on failure degrade (warn once) instead of raising."""
        try:
            action()
        except Exception as exc:
            reason = f"{type(exc).__name__}: {exc}"
            self._recover_if_corrupt(exc)
            if self.degraded is None:
                logger.warning(
                    "qmon monitoring degraded, the store is not writable (%s); jobs keep running",
                    reason,
                )
                self._notify_degraded(reason)
            self.degraded = reason
            if len(self._events) > _MAX_BACKLOG:
                del self._events[: len(self._events) - _MAX_BACKLOG]
            return False
        if self.degraded is not None:
            logger.warning("qmon monitoring recovered, the store is writable again")
            self.degraded = None
        return True

    def _recover_if_corrupt(self, exc: Exception) -> None:
        store = self.store
        if store is None or not isinstance(exc, sqlite3.DatabaseError) or not _is_corruption(exc):
            return
        with contextlib.suppress(Exception):
            store.recover(str(exc))  # moved aside and recreated; the next write re-syncs
            self._beaten = False  # the new file has no heartbeat row yet
            self._sync_existing()

    def _notify_degraded(self, reason: str) -> None:
        manager = self._manager()
        notes = getattr(manager, "notifications", None)
        with contextlib.suppress(Exception):
            notes.notify(
                level="warning",
                title="Monitoring store unavailable",
                message=f"Jobs keep running; the dashboard may lag ({reason})",
            )

    def _sync_existing(self) -> None:
        manager = self._manager()
        if manager is None:
            return
        with contextlib.suppress(Exception):
            for job in manager.jobs():
                snap = job.snapshot()
                self._snapshots[snap["id"]] = snap
        with contextlib.suppress(Exception):
            for note in manager.notifications.list(include_dismissed=True):
                data = note.to_dict() if hasattr(note, "to_dict") else dict(note)
                self._notes[str(data["id"])] = data

    def _drain(self) -> list[threading.Event]:
        waiters = []
        while self._inbox:
            event = self._inbox.popleft()
            if event.get("kind") == "_flush":
                waiters.append(event["_done"])
            else:
                with contextlib.suppress(Exception):
                    self._take(event)
        return waiters

    def _take(self, event: dict[str, Any]) -> None:
        kind = str(event.get("kind") or "")
        job_id = event.get("job_id")
        snap = event.get("snapshot")
        note = event.get("notification")
        data = event.get("data")
        when = event.get("time") or iso_now()
        if snap is not None:
            self._snapshots[str(snap["id"])] = snap
            if snap.get("status") == "completed":
                self._done.add(str(snap["id"]))
            if snap.get("resumed_from") and (
                kind == "job.checkpoint" or snap.get("status") == "completed"
            ):
                # the continuation's own checkpoint (or result) supersedes the one it
                # was resumed from: resuming that again would run the work twice
                self._done.add(str(snap["resumed_from"]))
        if kind == "job.checkpoint" and job_id is not None and isinstance(data, dict):
            name = snap.get("name") if snap else None
            self._checkpoints[str(job_id)] = (name, data)
            return
        if kind == "job.removed":
            return  # the manager forgot a finished job; the store keeps the history
        if note is not None:
            note_id = str(note["id"])
            if kind == "notification.dismissed":
                self._dismissed.add(note_id)
            self._notes[note_id] = note
        last = self._events[-1] if self._events else None
        if kind == "job.progress" and last is not None and last[1:3] == (job_id, kind):
            self._events.pop()  # coalesce: consecutive progress of one job, keep the latest
        user = snap.get("owner") if snap else None
        payload = {"snapshot": snap, "notification": note, "data": data}
        self._events.append((when, job_id, kind, user, None, payload))

    def _write_pending(self) -> None:
        if not (
            self._snapshots or self._events or self._notes or self._dismissed or self._checkpoints
        ):
            return
        self._require_store().write_batch(
            self.kernel_id,
            jobs=self._snapshots.values(),
            events=self._events,
            notifications=self._notes.values(),
            dismissed=self._dismissed,
            checkpoints=[
                (job_id, name, data) for job_id, (name, data) in self._checkpoints.items()
            ],
            done_jobs=self._done,
        )
        self._snapshots, self._events, self._notes = {}, [], {}
        self._dismissed, self._checkpoints, self._done = set(), {}, set()

    def _heartbeat(self, state: str = "alive") -> None:
        resources = _resources()
        executors = _executors(self._manager())
        if executors is not None:
            # in the heartbeat's JSON ``resources`` column: GET status shows them
            resources = {**(resources or {}), "executors": executors}
        self._require_store().heartbeat(
            self.kernel_id,
            pid=os.getpid(),
            host=socket.gethostname(),
            proc_start=self._proc_start,
            started_at=self._started_at,
            state=state,
            resources=resources,
        )

    def _poll_commands(self) -> None:
        store = self._require_store()
        manager = self._manager()
        if manager is None:
            return
        for cmd in store.pending_commands(self.kernel_id):
            known = _knows(manager, cmd)
            orphan = time.time() - float(cmd["created_at"]) > _ORPHAN_COMMAND_S
            if not known and not orphan:
                continue  # maybe another manager in this process owns it
            if not store.claim_command(cmd["id"]):
                continue
            ok, result = _carry_out(manager, cmd) if known else (False, "unknown to this kernel")
            store.finish_command(cmd["id"], ok=ok, result=result)
        # a command's effect (a status event) is written on the next flush


def _knows(manager: Any, cmd: dict[str, Any]) -> bool:
    try:
        if cmd["action"] == "dismiss":
            return any(
                str(n.to_dict()["id"] if hasattr(n, "to_dict") else n["id"]) == cmd["target"]
                for n in manager.notifications.list(include_dismissed=True)
            )
        manager.get(cmd["job_id"])
    except Exception:
        return False
    return True


def _carry_out(manager: Any, cmd: dict[str, Any]) -> tuple[bool, str | None]:
    from .source import ManagerSource  # its wording of a cancel; imported late, as it is heavy

    action = cmd["action"]
    try:
        if action == "dismiss":
            manager.notifications.dismiss(cmd["target"])
        elif action == "cancel":
            # the job's message and its notification say who cancelled it, and why
            reason = ManagerSource.cancel_reason(cmd.get("user"), cmd.get("reason"))
            manager.cancel(cmd["job_id"], reason=reason)
        elif action in ACTIONS:
            getattr(manager, action)(cmd["job_id"])
        else:
            return False, f"unknown action {action!r}"
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"
    return True, None


def _resources() -> dict[str, Any] | None:
    try:
        from qmon_jupyter.kernel.resources import get_resource_monitor

        monitor = get_resource_monitor()
        return {"latest": monitor.latest(), "history": list(monitor.history())[-60:]}
    except Exception:
        return None


def _executors(manager: Any) -> list[dict[str, Any]] | None:
    """Describe the clusters behind the manager's executors (None if unknown)."""
    try:
        from qmon_jupyter.executors import cluster_infos

        return cluster_infos(manager.executors())
    except Exception:
        return None


def close_writers() -> None:
    """End every live writer's jobs, then close the writer (the session's exit hook).

    The jobs end first so that their final state ("cancelled", resumable from
    the last checkpoint) reaches the store, instead of "kernel stopped".
    """
    for writer in list(_live_writers):
        manager = writer._manager()
        with contextlib.suppress(Exception):
            if manager is not None and not manager.is_shutdown:
                manager.shutdown(wait=False, cancel_futures=True, cancel_running=True)
                deadline = time.monotonic() + 3.0
                for job in manager.jobs():
                    job.wait(max(0.0, deadline - time.monotonic()))
                manager.events.flush(2.0)
        with contextlib.suppress(Exception):
            writer.close(timeout=2.0)
