"""Sync discipline for every qmon widget of the kernel.

Job events arrive on the event bus's delivery thread, far more often than a
front end needs them. Widgets only mark themselves dirty there; one publisher
thread then sends each dirty widget at most ``MIN_INTERVAL_S`` apart, all
changed traits coalesced into one comm message, under a kernel-wide message
budget so a burst of jobs cannot trip Jupyter's IOPub rate limit. A job that
ends marks its widgets urgent: urgent widgets are served first and never
dropped, so the final state of every job arrives.

There is one subscription per manager (not per widget): a ``_Router`` fans
events out by job id and unsubscribes when its last widget leaves, and the
publisher thread stops when no widget is left.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any, Protocol

from qmon_jupyter.core.states import TERMINAL

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["MIN_INTERVAL_S", "Publisher", "get_publisher"]

logger = logging.getLogger(__name__)

#: At most 10 updates a second per widget.
MIN_INTERVAL_S = 0.1
#: Kernel-wide budget of update messages per second (Jupyter's limit is 1000/s).
MAX_MESSAGES_PER_S = 60
#: A widget with nothing to say still ticks its heartbeat this often.
HEARTBEAT_S = 2.0
#: The publisher thread exits after this long with no widget registered.
IDLE_EXIT_S = 0.5


class SyncedWidget(Protocol):
    """What the publisher needs from a widget."""

    def _qmon_flush(self) -> None: ...  # send every changed trait in one message

    def _qmon_heartbeat(self) -> None: ...  # tick the heartbeat trait

    def _qmon_wants_heartbeat(self) -> bool: ...

    def _qmon_on_event(self, event: dict) -> bool: ...  # True if the event matters


class _Entry:
    """Per-widget bookkeeping (guarded by the publisher's lock)."""

    __slots__ = ("dirty", "job_id", "last_sent", "urgent", "widget")

    def __init__(self, widget: SyncedWidget, job_id: str | None = None) -> None:
        self.widget = widget
        self.job_id = job_id  # the one job whose events it wants (None: all events)
        self.dirty = True  # the first state goes out at once
        self.urgent = False
        self.last_sent = 0.0


class _Router:
    """One event-bus subscription of a manager, shared by its widgets.

    Widgets that follow one job are indexed by its id, so an event reaches
    the dashboards and that job's widgets only: O(1) in the number of job
    widgets, not O(widgets). The sets are guarded by the publisher's lock.
    """

    def __init__(self, publisher: Publisher, events: Any) -> None:
        self.publisher = publisher
        self.widgets: set[int] = set()  # every widget key routed here
        self.every_event: set[int] = set()  # widgets that look at every event
        self.by_job: dict[str, set[int]] = {}  # job id -> widgets of that job
        self.unsubscribe: Callable[[], None] = events.subscribe(self._on_event)

    def add(self, key: int, job_id: str | None) -> None:
        self.widgets.add(key)
        if job_id is None:
            self.every_event.add(key)
        else:
            self.by_job.setdefault(job_id, set()).add(key)

    def discard(self, key: int, job_id: str | None) -> None:
        self.widgets.discard(key)
        self.every_event.discard(key)
        keys = self.by_job.get(job_id) if job_id is not None else None
        if keys is not None:
            keys.discard(key)
            if not keys:
                del self.by_job[job_id]

    def targets(self, job_id: str | None) -> list[int]:
        keys = list(self.every_event)
        if job_id is not None:
            keys.extend(self.by_job.get(job_id, ()))
        return keys

    def _on_event(self, event: dict) -> None:
        self.publisher._dispatch(self, event)


class Publisher:
    """Coalesces widget updates and sends them from one thread."""

    def __init__(self) -> None:
        # Guards _entries, _routers, _widget_router and _thread; the condition
        # wakes the thread when a widget turns dirty or the last one leaves.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._entries: dict[int, _Entry] = {}
        self._routers: dict[int, _Router] = {}  # id(events bus) -> router
        self._widget_router: dict[int, _Router] = {}
        self._thread: threading.Thread | None = None
        self._sent_times: list[float] = []  # send times within the last second (thread only)

    # -- registration -------------------------------------------------------------------
    def register(self, widget: SyncedWidget, events: Any | None, job_id: str | None = None) -> None:
        """Start syncing ``widget``; route ``events`` (an EventBus) to it.

        With ``job_id``, only that job's events reach the widget.
        """
        key = id(widget)
        with self._lock:
            self._entries[key] = _Entry(widget, job_id)
            if events is not None:
                router = self._routers.get(id(events))
                if router is None:
                    router = _Router(self, events)
                    self._routers[id(events)] = router
                router.add(key, job_id)
                self._widget_router[key] = router
            self._ensure_thread()
            self._cond.notify_all()

    def unregister(self, widget: SyncedWidget) -> None:
        """Stop syncing ``widget``; the last widget of a manager unsubscribes its router."""
        key = id(widget)
        unsubscribe = None
        with self._lock:
            entry = self._entries.pop(key, None)
            router = self._widget_router.pop(key, None)
            if router is not None:
                router.discard(key, entry.job_id if entry is not None else None)
                if not router.widgets:
                    self._routers = {k: r for k, r in self._routers.items() if r is not router}
                    unsubscribe = router.unsubscribe
            self._cond.notify_all()
        if unsubscribe is not None:
            unsubscribe()

    def mark_dirty(self, widget: SyncedWidget, *, urgent: bool = False) -> None:
        """Ask for an update of ``widget`` (urgent: a job ended)."""
        with self._lock:
            entry = self._entries.get(id(widget))
            if entry is not None:
                entry.dirty = True
                entry.urgent = entry.urgent or urgent
                self._cond.notify_all()

    def is_registered(self, widget: SyncedWidget) -> bool:
        with self._lock:
            return id(widget) in self._entries

    @property
    def subscriptions(self) -> int:
        """How many event-bus subscriptions the publisher holds."""
        with self._lock:
            return len(self._routers)

    @property
    def thread(self) -> threading.Thread | None:
        with self._lock:
            return self._thread

    # -- event routing (on the bus's delivery thread) -----------------------------------
    def _dispatch(self, router: _Router, event: dict) -> None:
        with self._lock:
            entries = self._entries
            targets = [entries[k] for k in router.targets(event.get("job_id")) if k in entries]
        urgent = event.get("kind") == "job.status" and _is_terminal(event.get("snapshot"))
        for entry in targets:
            try:
                matters = entry.widget._qmon_on_event(event)
            except Exception:
                logger.exception("qmon widget failed to take an event")
                continue
            if matters:
                self.mark_dirty(entry.widget, urgent=urgent)

    # -- the thread ---------------------------------------------------------------------
    def _ensure_thread(self) -> None:
        # Caller holds self._lock.
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="qmon-widget-sync", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        idle_since: float | None = None
        while True:
            with self._cond:
                now = time.monotonic()
                if not self._entries:
                    idle_since = idle_since or now
                    if now - idle_since >= IDLE_EXIT_S:
                        self._thread = None
                        return
                    self._cond.wait(IDLE_EXIT_S)
                    continue
                idle_since = None
                due, wait = self._due_locked(now)
                if not due:
                    self._cond.wait(wait)
                    continue
            self._send(due)

    def _due_locked(self, now: float) -> tuple[list[tuple[_Entry, str]], float]:
        """Entries to serve now ("update" or "heartbeat"), else how long to wait."""
        self._sent_times = [t for t in self._sent_times if now - t < 1.0]
        budget = MAX_MESSAGES_PER_S - len(self._sent_times)
        ready = [
            e for e in self._entries.values() if e.dirty and now - e.last_sent >= MIN_INTERVAL_S
        ]
        # Urgent (a job ended) first, then whoever waited longest.
        ready.sort(key=lambda e: (not e.urgent, e.last_sent))
        due: list[tuple[_Entry, str]] = []
        for entry in ready:
            if budget <= 0 and not entry.urgent:
                break
            due.append((entry, "update"))
            budget -= 1
        due.extend(
            (entry, "heartbeat")
            for entry in self._entries.values()
            if not entry.dirty and now - entry.last_sent >= HEARTBEAT_S
        )
        if due:
            return due, 0.0
        waits = [HEARTBEAT_S - (now - e.last_sent) for e in self._entries.values()]
        if budget > 0:
            dirty = [e for e in self._entries.values() if e.dirty]
            waits += [MIN_INTERVAL_S - (now - e.last_sent) for e in dirty]
        else:  # out of budget: wait until the oldest send leaves the one-second window
            waits.append(1.0 - (now - min(self._sent_times, default=now)))
        return [], max(0.01, min(waits, default=HEARTBEAT_S))

    def _send(self, due: list[tuple[_Entry, str]]) -> None:
        for entry, what in due:
            with self._lock:
                if self._entries.get(id(entry.widget)) is not entry:
                    continue  # closed meanwhile
                if what == "update":
                    entry.dirty = False
                    entry.urgent = False
                entry.last_sent = time.monotonic()
            try:
                if what == "update":
                    entry.widget._qmon_flush()
                    self._sent_times.append(time.monotonic())
                elif entry.widget._qmon_wants_heartbeat():
                    entry.widget._qmon_heartbeat()
            except Exception:
                logger.exception("qmon widget update failed")


_TERMINAL = frozenset(s.value for s in TERMINAL)


def _is_terminal(snapshot: dict | None) -> bool:
    return bool(snapshot) and snapshot.get("status") in _TERMINAL


_PUBLISHER: Publisher | None = None
_PUBLISHER_LOCK = threading.Lock()


def get_publisher() -> Publisher:
    """Return the kernel's one publisher."""
    global _PUBLISHER  # noqa: PLW0603 - one per process by design
    with _PUBLISHER_LOCK:
        if _PUBLISHER is None:
            _PUBLISHER = Publisher()
        return _PUBLISHER
