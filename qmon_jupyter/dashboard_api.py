"""The dashboard's state and actions, in one place for widgets, REST and Python.

:class:`DashboardAPI` assembles what a dashboard shows (jobs, hardware,
status, resources, stats, notifications) and carries out actions (cancel,
pause, resume, dismiss). It reads everything from a *source*: a small
protocol (:class:`DashboardSource`) with two implementations:
:class:`ManagerSource` over a live :class:`~qmon_jupyter.jobs.JobManager`
(the widget, Python callers) and the server's store-backed source (REST over
every kernel).

Errors: an unknown id raises ``KeyError`` naming it (REST: 404); an action
the job's state or provider forbids raises
:class:`~qmon_jupyter.jobs.JobStateError` (REST: 409).
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from .errors import JobStateError
from .jobs.snapshot import SCHEMA_VERSION, iso_utc
from .jobs.states import ACTIVE, JobStatus

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .jobs.manager import JobManager

__all__ = ["ACTIONS", "DashboardAPI", "DashboardSource", "ManagerSource", "summarize_providers"]

#: The job actions a source carries out.
ACTIONS = ("cancel", "pause", "resume")

_ACTIVE = frozenset(s.value for s in ACTIVE)


@runtime_checkable
class DashboardSource(Protocol):
    """Where a :class:`DashboardAPI` gets its data and sends its actions.

    Snapshots are version-1 job snapshots
    (:mod:`qmon_jupyter.jobs.snapshot`); every value is JSON-safe.
    """

    def list_jobs(
        self,
        *,
        status: frozenset[str] | None = None,
        type: str | None = None,  # noqa: A002 - the snapshot's key
        kernel: str | None = None,
    ) -> list[dict]:
        """Snapshots matching the filters (any order; the API sorts)."""
        ...

    def get_job(self, job_id: str) -> dict:
        """One snapshot; KeyError naming the id if unknown."""
        ...

    def statistics(self) -> dict:
        """Return what ``JobManager.stats()`` returns (over every kernel for a store)."""
        ...

    def notifications(self, *, include_dismissed: bool = False) -> list[dict]:
        """Notification dicts (``DashboardNotification.to_dict()``), oldest first."""
        ...

    def resources(self) -> dict:
        """``{"latest": sample | None, "history": [...], "kernels": {id: sample}}``."""
        ...

    def status(self) -> dict:
        """``{"kernels": [...], "providers": [...], "store": ..., "version": str}``.

        Each kernel may list ``executors``: the clusters its executors run on.
        """
        ...

    def act(self, job_id: str, action: str, *, user: str | None = None) -> dict:
        """Carry out ``action`` (one of :data:`ACTIONS`); the snapshot after it."""
        ...

    def dismiss_notification(self, notification_id: str, *, user: str | None = None) -> dict:
        """Dismiss one notification; its dict after. KeyError if unknown."""
        ...


class DashboardAPI:
    """Dashboard state and actions over a :class:`DashboardSource`."""

    def __init__(self, source: DashboardSource) -> None:
        self.source = source

    @classmethod
    def for_manager(cls, manager: JobManager | None = None) -> DashboardAPI:
        """Build an API over ``manager`` (the process's default manager if None)."""
        if manager is None:
            from .jobs import get_manager

            manager = get_manager()
        return cls(ManagerSource(manager))

    # -- reading ---------------------------------------------------------------
    def get_dashboard_state(self, limit: int = 100) -> dict:
        """Everything a dashboard draws: active jobs first, then the most recent."""
        jobs = _dashboard_order(self.source.list_jobs())
        return {
            "schema": SCHEMA_VERSION,
            "generated_at": iso_utc(time.time()),
            "jobs": jobs[:limit],
            "total_jobs": len(jobs),
            "hardware": self.get_hardware(),
            "status": self.get_status(),
            "resources": self.get_resources(),
            "stats": self.get_statistics(),
            "notifications": self.get_notifications(),
        }

    def get_jobs(
        self,
        status: str | Iterable[str] | None = None,
        type: str | None = None,  # noqa: A002 - the query parameter's name
        kernel: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> dict:
        """``{"jobs": [...], "total": n}``, newest first; ``status`` may be ``"a,b"``.

        Raises
        ------
        ValueError
            An unknown status, a negative limit or offset.
        """
        if limit < 0 or offset < 0:
            raise ValueError(f"limit and offset must be non-negative, not {limit} and {offset}")
        statuses = _parse_statuses(status)
        if type is not None:
            from .jobs.states import JobType

            type = JobType(type).value  # noqa: A001 - validates the name
        jobs = self.source.list_jobs(status=statuses, type=type, kernel=kernel)
        jobs.sort(key=lambda s: (s["created_at"] or "", s["id"]), reverse=True)
        return {"jobs": jobs[offset : offset + limit], "total": len(jobs)}

    def get_job(self, job_id: str) -> dict:
        """One job's snapshot; KeyError naming the id if unknown."""
        return self.source.get_job(job_id)

    def get_statistics(self) -> dict:
        """Return counts by status and type, durations, throughput, success rate."""
        return self.source.statistics()

    def get_hardware(self) -> dict:
        """Return provider jobs (each with ``last_poll``) and the health of their providers."""
        jobs = _dashboard_order(self.source.list_jobs(type="hardware"))
        providers = {p["name"]: p for p in summarize_providers(jobs)}
        for provider in self.source.status().get("providers", []):
            providers.setdefault(provider["name"], {**provider, "jobs": 0, "active": 0})
        return {"jobs": jobs, "providers": list(providers.values())}

    def get_status(self) -> dict:
        """Kernels, providers, store and version."""
        return self.source.status()

    def get_resources(self) -> dict:
        """CPU and memory, latest and recent history."""
        return self.source.resources()

    def get_notifications(self, include_dismissed: bool = False) -> list[dict]:
        """Notifications not dismissed (or all), oldest first."""
        return self.source.notifications(include_dismissed=include_dismissed)

    # -- actions ---------------------------------------------------------------
    def cancel_job(self, job_id: str, user: str | None = None) -> dict:
        """Cancel a job; its snapshot after (``cancelled``, or still stopping)."""
        return self.source.act(job_id, "cancel", user=user)

    def pause_job(self, job_id: str, user: str | None = None) -> dict:
        """Pause a running job between batches; its snapshot after."""
        return self.source.act(job_id, "pause", user=user)

    def resume_job(self, job_id: str, user: str | None = None) -> dict:
        """Resume a paused job; its snapshot after."""
        return self.source.act(job_id, "resume", user=user)

    def dismiss_notification(self, notification_id: str, user: str | None = None) -> dict:
        """Dismiss a notification; its dict after."""
        return self.source.dismiss_notification(notification_id, user=user)


class ManagerSource:
    """A :class:`DashboardSource` over one live :class:`JobManager`."""

    def __init__(self, manager: JobManager) -> None:
        self.manager = manager

    def list_jobs(
        self,
        *,
        status: frozenset[str] | None = None,
        type: str | None = None,  # noqa: A002 - the snapshot's key
        kernel: str | None = None,
    ) -> list[dict]:
        """Snapshots of the manager's jobs matching the filters."""
        if kernel is not None and kernel != self.manager.kernel_id:
            return []
        jobs = self.manager.jobs(status=status, type=type)
        return [job.snapshot() for job in jobs]

    def get_job(self, job_id: str) -> dict:
        """One snapshot; KeyError naming the id if unknown."""
        return self.manager.get(job_id).snapshot()

    def statistics(self) -> dict:
        """Return the manager's ``stats()``."""
        return self.manager.stats()

    def notifications(self, *, include_dismissed: bool = False) -> list[dict]:
        """Return the manager's notifications as dicts."""
        notes = self.manager.notifications.list(include_dismissed=include_dismissed)
        return [n.to_dict() for n in notes]

    def resources(self) -> dict:
        """Return this process's samples (the monitor starts on first use)."""
        from .resources import get_resource_monitor

        monitor = get_resource_monitor()
        latest = monitor.latest() or monitor.sample()
        return {
            "latest": latest,
            "history": monitor.history(),
            "kernels": {self.manager.kernel_id: latest},
        }

    def status(self) -> dict:
        """Return this kernel (alive: it answers), the providers its jobs use, the version.

        The kernel's ``executors`` are its clusters (``cluster_info()`` of each
        executor that has one: a Dask executor's address, workers, threads
        and memory).
        """
        from ._version import __version__
        from .executors import cluster_infos

        providers: dict[str, dict] = {}
        for job in self.manager.jobs(type="hardware"):
            info = job._provider
            if info and info.get("name"):
                entry = providers.setdefault(info["name"], {"name": info["name"], "health": None})
                if info.get("health") is not None:
                    entry["health"] = info["health"]
        return {
            "kernels": [
                {
                    "kernel_id": self.manager.kernel_id,
                    "pid": os.getpid(),
                    "owner": self.manager.owner,
                    "alive": True,
                    "last_heartbeat": iso_utc(time.time()),
                    "active_jobs": len(self.manager.jobs(status=ACTIVE)),
                    "executors": cluster_infos(self.manager.executors()),
                }
            ],
            "providers": list(providers.values()),
            "store": None,
            "version": __version__,
        }

    def act(self, job_id: str, action: str, *, user: str | None = None) -> dict:
        """Cancel, pause or resume; JobStateError when the state forbids it."""
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; use one of {ACTIONS}")
        job = self.manager.get(job_id)
        if action == "cancel":
            reason = f"cancelled by {user}" if user else None
            if not job.cancel(reason):
                raise JobStateError(f"cannot cancel job {job_id}: it already {job.status.value}")
        elif action == "pause":
            job.pause()
        else:
            job.resume()
        return job.snapshot()

    def dismiss_notification(self, notification_id: str, *, user: str | None = None) -> dict:
        """Dismiss one notification."""
        return self.manager.notifications.dismiss(notification_id, user=user).to_dict()


def _parse_statuses(status: str | Iterable[str] | None) -> frozenset[str] | None:
    if status is None or status == "":
        return None
    names = status.split(",") if isinstance(status, str) else list(status)
    return frozenset(JobStatus(str(name).strip()).value for name in names if str(name).strip())


def summarize_providers(jobs: list[dict]) -> list[dict]:
    """Group hardware snapshots by provider: health, jobs and active jobs of each.

    Also gives every snapshot a ``last_poll`` (the provider's last answer,
    else the snapshot's ``updated_at``). A provider's health is the one its
    most recently updated job reports, whatever order ``jobs`` come in. The
    REST ``hardware`` endpoint and :meth:`DashboardAPI.get_hardware` share
    this, so both say the same.
    """
    providers: dict[str, dict] = {}
    for snap in sorted(jobs, key=lambda s: s.get("updated_at") or ""):
        info = snap.get("provider") or {}
        snap.setdefault("last_poll", info.get("last_poll") or snap.get("updated_at"))
        name = info.get("name") or snap.get("backend")
        if not name:
            continue
        entry = providers.setdefault(
            name, {"name": name, "health": info.get("health"), "jobs": 0, "active": 0}
        )
        entry["jobs"] += 1
        entry["active"] += snap.get("status") in _ACTIVE
        if info.get("health") is not None:
            entry["health"] = info["health"]
    return list(providers.values())


def _dashboard_order(jobs: list[dict]) -> list[dict]:
    # Active jobs first (oldest first, as they queue), then finished ones, newest first.
    active = sorted(
        (s for s in jobs if s["status"] in _ACTIVE), key=lambda s: (s["created_at"] or "", s["id"])
    )
    done = sorted(
        (s for s in jobs if s["status"] not in _ACTIVE),
        key=lambda s: (s["finished_at"] or s["created_at"] or "", s["id"]),
        reverse=True,
    )
    return active + done
