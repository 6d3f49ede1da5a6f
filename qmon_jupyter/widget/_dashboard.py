"""ExecutionDashboard: every job of the kernel, live, in one widget."""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from typing import Any

import traitlets

from qmon_jupyter.core.columns import SORT_CHOICES
from qmon_jupyter.core.search import MAX_QUERY

from ._base import QmonWidget, esm_source
from ._compact import MAX_PAGE_SIZE, PAGE_SIZE, select_window
from ._job import newer as _newer

__all__ = ["ExecutionDashboard", "dashboard", "get_dashboard"]

logger = logging.getLogger(__name__)

#: Statistics and resources are refreshed at most this often.
SLOW_REFRESH_S = 2.0
#: Points of CPU/memory history sent for the sparklines.
RESOURCE_POINTS = 40
#: Notifications kept in the synced list (the newest, not dismissed).
MAX_NOTIFICATIONS = 8
#: A statistics dict larger than this (JSON bytes) is sent without its nested lists.
MAX_STATS_BYTES = 3000
#: The budget of one update message (the quality bar is 16 KB with 1,000 jobs).
MAX_UPDATE_BYTES = 15 * 1024
#: Trait names, heartbeat and message framing around the values.
UPDATE_OVERHEAD_BYTES = 256
#: The synced notifications never take more than this.
MAX_NOTIFICATION_BYTES = 1500


class ExecutionDashboard(QmonWidget):
    """The kernel's dashboard: jobs (active first), notifications, resources, statistics.

    ``qmon.dashboard()`` returns the kernel's one instance; each display is
    another view of it. Only one page of jobs is synced, the one the front
    end's ``view`` asks for (search, sort, offset, page size), with counts of
    all of them, so updates stay small with thousands of jobs and every job
    is still reachable.

    Parameters
    ----------
    manager
        The ``JobManager`` to show (default: ``qmon.get_manager()``).
    page_size
        Jobs on a page until the front end asks for another number.
    """

    _esm = esm_source("dashboard.js")

    jobs = traitlets.List().tag(sync=True)
    counts = traitlets.Dict().tag(sync=True)
    stats = traitlets.Dict().tag(sync=True)
    resources = traitlets.Dict().tag(sync=True)
    notifications = traitlets.List().tag(sync=True)
    #: Set by the front end's filter menus: {"status": "", "type": ""}.
    filters = traitlets.Dict({"status": "", "type": ""}).tag(sync=True)
    #: Set by the front end's table: {"q": search, "sort": "-eta", "offset": 0, "limit": 25}.
    view = traitlets.Dict().tag(sync=True)
    kernel_id = traitlets.Unicode("").tag(sync=True)

    def __init__(self, manager: Any = None, *, page_size: int = PAGE_SIZE) -> None:
        if manager is None:
            from qmon_jupyter.kernel import get_manager

            manager = get_manager()
        self._manager = manager
        self.page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
        # Guards _index and _notes: the bus thread writes, the publisher thread reads.
        self._lock = threading.Lock()
        self._index: dict[str, dict] = {}
        self._notes: dict[str, dict] = {}
        self._slow_at = 0.0
        self._slow_waited = False  # statistics deferred once for a full new page
        self._api = None
        super().__init__(kernel_id=str(getattr(manager, "kernel_id", "") or ""))
        self.observe(self._on_filters, names=["filters", "view"])
        _start_resource_monitor()
        self._qmon_start(manager.events)
        self._seed()

    @property
    def api(self) -> Any:
        """A ``DashboardAPI`` for this dashboard's manager."""
        if self._api is None:
            from qmon_jupyter.kernel import manager_api

            self._api = manager_api(self._manager)
        return self._api

    @property
    def manager(self) -> Any:
        """The ``JobManager`` this dashboard shows."""
        return self._manager

    def _seed(self) -> None:
        # After subscribing, so nothing falls between the two: an event that
        # arrives meanwhile is newer and wins below.
        jobs = {job.id: job.snapshot() for job in self._manager.jobs()}
        notes = {}
        center = getattr(self._manager, "notifications", None)
        if center is not None:
            notes = {n.id: n.to_dict() for n in center.list()}
        with self._lock:
            for job_id, snap in jobs.items():
                self._index.setdefault(job_id, snap)
            for note_id, note in notes.items():
                self._notes.setdefault(note_id, note)
        from ._sync import get_publisher

        get_publisher().mark_dirty(self)

    # -- events (bus thread) --------------------------------------------------------
    def _qmon_on_event(self, event: dict) -> bool:
        kind = event.get("kind", "")
        with self._lock:
            if kind == "job.removed":
                return self._index.pop(event.get("job_id"), None) is not None
            if kind.startswith("job.") and event.get("snapshot"):
                snap = event["snapshot"]
                old = self._index.get(snap["id"])
                if old is None or _newer(snap, old) is snap:
                    self._index[snap["id"]] = snap
                return True
            if kind.startswith("notification.") and event.get("notification"):
                note = event["notification"]
                self._notes[note["id"]] = note
                return True
        return False

    def _on_filters(self, _change: dict) -> None:
        from ._sync import get_publisher

        get_publisher().mark_dirty(self)

    # -- state (publisher thread) ---------------------------------------------------
    def _qmon_state(self) -> dict[str, Any]:
        with self._lock:
            snapshots = list(self._index.values())
            notes = sorted(self._notes.values(), key=lambda n: n.get("created_at") or "")
            live = [n for n in notes if not n.get("dismissed")]
            self._notes = {n["id"]: n for n in notes[-4 * MAX_NOTIFICATIONS :]}
        filters = self.filters or {}
        window, counts = select_window(
            snapshots,
            status=filters.get("status") or "",
            job_type=filters.get("type") or "",
            **self._page_view(),
        )
        notes = _fit([_compact_note(n) for n in reversed(live)], MAX_NOTIFICATION_BYTES)
        state: dict[str, Any] = {"counts": counts, "notifications": notes[::-1]}
        # Whatever the names and messages, one update stays under the budget:
        # the page gets what counts and notifications leave, and loses its tail.
        budget = MAX_UPDATE_BYTES - UPDATE_OVERHEAD_BYTES - _size(state)
        state["jobs"] = _fit(window, budget)
        if time.monotonic() - self._slow_at >= SLOW_REFRESH_S:
            self._add_slow_fields(state, budget)
        return state

    def _add_slow_fields(self, state: dict[str, Any], budget: int) -> None:
        """Add statistics and resources to ``state`` if they fit, else defer them one tick.

        Only changed traits are sent: an unchanged page leaves them room. Beside
        a new page that fills the budget they wait one update; the update
        after that carries them and keeps the page as it is (never cut for them).
        """
        from ._sync import get_publisher

        slow = {"stats": self._statistics(), "resources": _resources()}
        page_sent = state["jobs"] != self.jobs
        if page_sent and _size(state["jobs"]) + _size(slow) > budget:
            if not self._slow_waited:
                self._slow_waited = True
                get_publisher().mark_dirty(self)  # the slow fields go in the next update
                return
            state["jobs"], state["counts"] = self.jobs, self.counts  # the new page goes next
            get_publisher().mark_dirty(self)
        self._slow_waited = False
        self._slow_at = time.monotonic()
        state.update(slow)

    def _page_view(self) -> dict[str, Any]:
        # What the front end asked for, made safe: it comes over the comm.
        view = self.view if isinstance(self.view, dict) else {}
        q, sort = view.get("q"), view.get("sort")

        def whole(value: Any, default: int) -> int:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            return int(value) if ok and math.isfinite(value) else default

        return {
            "q": q[:MAX_QUERY] if isinstance(q, str) else "",
            "sort": sort if sort in SORT_CHOICES else "",
            "offset": max(0, whole(view.get("offset"), 0)),
            "limit": whole(view.get("limit"), self.page_size),
        }

    def _qmon_heartbeat(self) -> None:
        # A quiet dashboard still refreshes resources and statistics.
        self._qmon_flush()

    def _statistics(self) -> dict:
        try:
            stats = self.api.get_statistics()
        except Exception:
            try:
                stats = self._manager.stats()
            except Exception:
                logger.debug("no statistics available", exc_info=True)
                return {}
        stats = json.loads(json.dumps(stats, default=str))
        if len(json.dumps(stats)) > MAX_STATS_BYTES:
            stats = {k: v for k, v in stats.items() if not isinstance(v, list)}
        return stats

    # -- actions from the front end ----------------------------------------------------
    def _qmon_action(self, content: dict) -> str | None:
        action = content.get("action")
        if action == "dismiss":
            self._manager.notifications.dismiss(str(content.get("notification_id")))
            return None
        if action not in self.ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        job_id = str(content.get("job_id"))
        getattr(self._manager, action)(job_id)
        return None

    def __repr__(self) -> str:
        return f"<ExecutionDashboard {len(self._index)} jobs>"


def _size(value: Any) -> int:
    return len(json.dumps(value, default=str))


def _fit(items: list, budget: int) -> list:
    """Return the longest prefix of ``items`` whose JSON fits in ``budget`` bytes."""
    used = 2
    for index, item in enumerate(items):
        used += _size(item) + 2
        if used > budget:
            return items[:index]
    return items


def _compact_note(note: dict) -> dict:
    keep = ("id", "level", "title", "message", "job_id", "created_at", "ttl_s", "dismissed")
    out = {k: note.get(k) for k in keep}
    if isinstance(out["message"], str) and len(out["message"]) > 300:
        out["message"] = out["message"][:299] + "…"
    return {k: v for k, v in out.items() if v is not None}


def _start_resource_monitor() -> None:
    try:
        from qmon_jupyter.kernel import get_resource_monitor

        get_resource_monitor().start()
    except Exception:
        logger.debug("resource monitor unavailable", exc_info=True)


def _resources() -> dict:
    try:
        from qmon_jupyter.kernel import get_resource_monitor

        monitor = get_resource_monitor()
        history = list(monitor.history())[-RESOURCE_POINTS:]
        latest = monitor.latest()
    except Exception:
        return {}
    points = [
        {
            "cpu_percent": round(float(p.get("cpu_percent") or 0.0), 1),
            "rss_bytes": int(p.get("rss_bytes") or 0),
        }
        for p in history
    ]
    return {"latest": latest or None, "history": points}


_DASHBOARD: ExecutionDashboard | None = None
_DASHBOARD_LOCK = threading.Lock()


def get_dashboard() -> ExecutionDashboard:
    """Return the kernel's one ``ExecutionDashboard`` (new on first use and after ``close()``)."""
    global _DASHBOARD  # noqa: PLW0603 - one per kernel by design
    with _DASHBOARD_LOCK:
        if _DASHBOARD is None or _DASHBOARD._closed_qmon:
            _DASHBOARD = ExecutionDashboard()
        return _DASHBOARD


def dashboard() -> ExecutionDashboard:
    """Show every job of this kernel: ``qmon.dashboard()`` in a cell displays it."""
    return get_dashboard()
