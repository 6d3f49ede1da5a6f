"""The store-backed :class:`~qmon_jupyter.dashboard_api.DashboardSource` used by REST.

:class:`StoreSource` gives :class:`~qmon_jupyter.dashboard_api.DashboardAPI`
every kernel's jobs from the store, and turns actions into commands the
owning kernel carries out. Its methods block (SQLite): handlers run them on
the service's reader pool. It is a
:class:`~qmon_jupyter.dashboard_api.PagingSource`: ``DashboardAPI`` hands it
``page_jobs``, ``dashboard_state``, ``hardware`` and ``notifications``, which
page in SQL (listing every job and slicing in Python is too slow for
10,000 stored jobs).
"""

from __future__ import annotations

import csv
import io
import os
import threading
import time
from typing import TYPE_CHECKING, Any

from qmon_jupyter._version import __version__
from qmon_jupyter.core.actions import refusal
from qmon_jupyter.core.snapshot import SCHEMA_VERSION
from qmon_jupyter.core.states import ACTIVE, TERMINAL
from qmon_jupyter.core.timefmt import iso_now
from qmon_jupyter.dashboard_api import summarize_providers
from qmon_jupyter.errors import JobStateError
from qmon_jupyter.limits import memory_status

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .service import QmonService

__all__ = ["StoreSource", "UnknownIdError", "export_csv"]

_TERMINAL = sorted(s.value for s in TERMINAL)
_ACTIVE = sorted(s.value for s in ACTIVE)


class UnknownIdError(KeyError):
    """No job or notification has this id (REST: 404; any other KeyError is a bug: 500)."""

    def __str__(self) -> str:
        # KeyError's str() puts quotes around its argument
        return str(self.args[0]) if self.args else "unknown id"


_CSV_COLUMNS = (
    "id",
    "name",
    "type",
    "status",
    "backend",
    "executor",
    "kernel_id",
    "owner",
    "created_at",
    "started_at",
    "finished_at",
    "elapsed_s",
    "done",
    "total",
    "unit",
    "seed",
    "error_type",
    "error_message",
)


class StoreSource:
    """Every kernel's jobs, from the store; actions become commands for the owning kernel."""

    #: seconds a computed ``statistics()`` is reused (it scans every stored job)
    stats_ttl = 1.0

    def __init__(self, service: QmonService) -> None:
        self.service = service
        # guards _stats (time computed, value): reader threads share it
        self._stats_lock = threading.Lock()
        self._stats: tuple[float, dict] | None = None

    @property
    def store(self) -> Any:
        """The store (opened on first use; StoreUnavailable if it cannot be)."""
        return self.service.store()

    # -- the DashboardSource protocol ------------------------------------------------

    def list_jobs(
        self,
        *,
        status: frozenset[str] | None = None,
        type: str | None = None,  # noqa: A002 - the snapshot's key
        kernel: str | None = None,
    ) -> list[dict]:
        """Every stored snapshot matching the filters (all of them: prefer ``page_jobs``)."""
        jobs, _ = self.store.list_jobs(
            status=sorted(status) if status else None,
            type=[type] if type else None,
            kernel=[kernel] if kernel else None,
            limit=10**9,
        )
        return jobs

    def get_job(self, job_id: str) -> dict:
        """One snapshot; KeyError naming the id if unknown."""
        snap = self.store.get_job(job_id)
        if snap is None:
            raise UnknownIdError(f"no job {job_id!r}")
        return snap

    def statistics(self) -> dict:
        """Return the keys of ``JobManager.stats()``, over every kernel (at most 1 s old)."""
        with self._stats_lock:
            cached = self._stats
        if cached is not None and time.monotonic() - cached[0] < self.stats_ttl:
            return cached[1]
        stats = self.store.job_stats()
        with self._stats_lock:
            self._stats = (time.monotonic(), stats)
        return stats

    def notifications(self, *, include_dismissed: bool = False, limit: int = 100) -> list[dict]:
        """Return the newest notifications over every kernel, oldest first."""
        return self.store.list_notifications(include_dismissed=include_dismissed, limit=limit)

    def resources(self, *, kernels: list[dict] | None = None) -> dict:
        """``{"latest", "history", "kernels": {id: sample}, "server": sample}``.

        ``latest`` and ``history`` are those of the most recently seen live
        kernel that reports them (else of the server process).
        """
        server = _server_resources()
        beats = self.store.kernels() if kernels is None else kernels
        out: dict[str, Any] = {}
        latest, history = server, [server] if server else []
        chosen = False
        for beat in beats:  # most recent heartbeat first
            res = beat.get("resources") or {}
            if self.service.kernel_state(beat) != "alive":
                continue
            out[beat["kernel_id"]] = res.get("latest")
            if not chosen and res.get("latest"):
                latest, history, chosen = res["latest"], res.get("history") or [], True
        return {"latest": latest, "history": history, "kernels": out, "server": server}

    def status(self, *, kernels: list[dict] | None = None, hardware: dict | None = None) -> dict:
        """Kernels (alive, last heartbeat, executors' clusters), providers, store, version."""
        store = self.store
        now = time.time()
        active = store.kernels_with_active_jobs()
        beats = store.kernels() if kernels is None else kernels
        kernels = []
        for beat in beats:
            state = self.service.kernel_state(beat, now)
            kernels.append(
                {
                    "kernel_id": beat["kernel_id"],
                    "pid": beat["pid"],
                    "host": beat["host"],
                    "state": state,
                    "alive": state == "alive",
                    "started_at": beat["started_at"],
                    "last_heartbeat": _iso(float(beat["last_seen"])),
                    "last_seen_s_ago": round(max(0.0, now - float(beat["last_seen"])), 3),
                    "active_jobs": active.get(beat["kernel_id"], 0),
                    # the clusters the kernel's executors run on (its last heartbeat)
                    "executors": list((beat.get("resources") or {}).get("executors") or []),
                }
            )
        return {
            "kernels": kernels,
            "providers": (hardware or self.hardware(limit=200))["providers"],
            "store": store.info(),
            "version": __version__,
        }

    def act(
        self, job_id: str, action: str, *, user: str | None = None, reason: str | None = None
    ) -> dict:
        """Queue ``action`` for the job's kernel; the snapshot as it is now.

        ``user`` and ``reason`` go into the audit trail and, for a cancel, the
        job's message (the kernel words it: "cancelled by alice: too slow").

        Pausing a paused job or resuming a running one is accepted and changes
        nothing, as with :class:`~qmon_jupyter.jobs.JobManager`.

        Raises :class:`UnknownIdError` for an unknown job and JobStateError when its state
        (finished, or not started yet; detached), its provider (capability
        missing) or its kernel (dead or stopped) forbids the action.
        """
        snap = self.get_job(job_id)
        # the rules and messages of the job layer (core.actions); a stored snapshot
        # without capabilities (an older writer's) may be cancelled, as ever
        why = refusal(
            action,
            job_id=job_id,
            status=snap.get("status"),
            capabilities={"cancel": True, **(snap.get("capabilities") or {})},
            backend=snap.get("backend"),
            why_ended=(snap.get("error") or {}).get("message"),
            detached=bool(snap.get("detached")),
            job_type=snap.get("type"),
        )
        if why is not None:
            raise JobStateError(why)
        # As the manager: pausing a paused job and resuming a running one change
        # nothing (202 with the snapshot). The command is queued all the same:
        # the stored state may lag behind a pause or resume still on its way,
        # and the kernel carries commands out in order (a no-op stays a no-op).
        kernel_id = snap.get("kernel_id") or ""
        kernel_state = self._kernel_state(kernel_id)
        if kernel_state in ("dead", "stopped"):
            raise JobStateError(
                f"cannot {action} job {job_id}: its kernel {kernel_id} is {kernel_state}"
            )
        self.store.add_command(kernel_id, action, user=user, job_id=job_id, reason=reason)
        return snap

    def dismiss_notification(self, notification_id: str, *, user: str | None = None) -> dict:
        """Dismiss now (for every view) and tell its kernel; KeyError if unknown."""
        store = self.store
        note = store.get_notification(notification_id)
        if note is None:
            raise UnknownIdError(f"no notification {notification_id!r}")
        if note.get("dismissed"):
            raise JobStateError(f"notification {notification_id} is already dismissed")
        store.dismiss_notification(notification_id, user=user)
        kernel_id = note.get("kernel_id")
        if kernel_id and self._kernel_state(kernel_id) in ("alive", "unresponsive"):
            store.add_command(kernel_id, "dismiss", user=user, target=notification_id)
        return {**note, "dismissed": True}

    # -- fast paths ------------------------------------------------------------------

    def iter_job_pages(self, *, page_size: int = 500, **filters: Any) -> Iterator[list[dict]]:
        """Every matching job, newest first, ``page_size`` snapshots at a time.

        The matching row ids are read once, at the first page; each page then
        reads only its snapshots (a job deleted meanwhile is left out).
        """
        ids = self.store.job_rowids(**filters)
        for start in range(0, len(ids), page_size):
            yield self.store.jobs_by_rowid(ids[start : start + page_size])

    def page_jobs(self, **filters: Any) -> dict:
        """``{"jobs": [...], "total": n}``, newest first, paginated in SQL."""
        jobs, total = self.store.list_jobs(**filters)
        return {"jobs": jobs, "total": total}

    def dashboard_state(self, limit: int = 100) -> dict:
        """Return what ``DashboardAPI.get_dashboard_state`` returns, with SQL doing the paging."""
        store = self.store
        # top-level jobs only: a session's jobs are listed under it (GET jobs?parent=)
        active, n_active = store.list_jobs(
            status=list(_ACTIVE), limit=limit, order="oldest", parent=""
        )
        done, n_done = store.list_jobs(
            status=list(_TERMINAL), limit=max(0, limit - len(active)), order="finished", parent=""
        )
        # each read once per request: status() and resources() share them
        hardware = self.hardware(limit=200)
        kernels = store.kernels()
        return {
            "schema": SCHEMA_VERSION,
            "generated_at": iso_now(),
            "jobs": active + done,
            "total_jobs": n_active + n_done,
            "total": n_active + n_done,
            "hardware": {**hardware, "jobs": hardware["jobs"][:50]},
            "status": self.status(kernels=kernels, hardware=hardware),
            "resources": self.resources(kernels=kernels),
            "stats": self.statistics(),
            "notifications": self.notifications(),
        }

    def hardware(self, limit: int = 200) -> dict:
        """List provider jobs (status, queue position, last poll, health), provider health."""
        jobs, total = self.store.list_jobs(type=["hardware"], limit=limit)
        return {"jobs": jobs, "total": total, "providers": summarize_providers(jobs)}

    def _kernel_state(self, kernel_id: str) -> str:
        beat = next((k for k in self.store.kernels() if k["kernel_id"] == kernel_id), None)
        return self.service.kernel_state(beat)


def _iso(t: float) -> str:
    from qmon_jupyter.core.timefmt import iso_utc

    return iso_utc(t) or ""


# guards _proc: one psutil.Process for the server, so that cpu_percent(None)
# measures since the previous sample (a new Process would always say 0.0)
_proc_lock = threading.Lock()
_proc: Any = None


def _server_process() -> Any:
    """Return the server's one ``psutil.Process`` (created and primed on first use)."""
    global _proc  # noqa: PLW0603 - one Process per server process, on purpose
    import psutil

    with _proc_lock:
        if _proc is None or _proc.pid != os.getpid():
            proc = psutil.Process()
            proc.cpu_percent(None)  # prime: the first reading is meaningless
            psutil.cpu_percent(None)
            _proc = proc
        return _proc


def _server_resources() -> dict[str, Any] | None:
    try:
        import psutil

        proc = _server_process()
        mem = memory_status()  # the container's limit where one is set
        return {
            "time": iso_now(),
            "cpu_percent": proc.cpu_percent(None),
            "system_cpu_percent": psutil.cpu_percent(None),
            "rss_bytes": proc.memory_info().rss,
            "available_bytes": mem.available,
            "total_bytes": mem.total,
            "memory_limit": mem.source,
        }
    except Exception:
        return None


def export_csv(jobs: list[dict[str, Any]], *, header: bool = True) -> str:
    """Jobs as CSV; cells that a spreadsheet would run as formulas are quoted with ``'``."""
    out = io.StringIO()
    writer = csv.writer(out)
    if header:
        writer.writerow(_CSV_COLUMNS)
    for snap in jobs:
        error = snap.get("error") or {}
        row = {**snap, "error_type": error.get("type"), "error_message": error.get("message")}
        writer.writerow([_cell(row.get(col)) for col in _CSV_COLUMNS])
    return out.getvalue()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r") and not _is_number(text):
        return "'" + text
    return text


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
