"""The kernel's :class:`~qmon_jupyter.dashboard_api.DashboardSource`: one live job manager.

It mirrors :class:`~qmon_jupyter.server.source.StoreSource`, which serves
every kernel's jobs from the store.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from qmon_jupyter._version import __version__
from qmon_jupyter.core.actions import ACTIONS, refusal
from qmon_jupyter.core.states import ACTIVE
from qmon_jupyter.core.timefmt import iso_utc
from qmon_jupyter.dashboard_api import DashboardAPI
from qmon_jupyter.errors import JobStateError
from qmon_jupyter.executors import cluster_infos

from .resources import get_resource_monitor

if TYPE_CHECKING:
    from qmon_jupyter.jobs import JobManager

__all__ = ["ManagerSource", "manager_api"]


def manager_api(manager: JobManager | None = None) -> DashboardAPI:
    """Return a :class:`DashboardAPI` over ``manager`` (the session's manager if None)."""
    if manager is None:
        from .session import get_manager

        manager = get_manager()
    return DashboardAPI(ManagerSource(manager))


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
        providers: dict[str, dict] = {}
        for job in self.manager.jobs(type="hardware"):
            info = job.provider
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

    def act(
        self, job_id: str, action: str, *, user: str | None = None, reason: str | None = None
    ) -> dict:
        """Cancel, pause or resume; JobStateError when the state forbids it.

        A cancel's message names ``user`` and ``reason`` (see :meth:`cancel_reason`).
        """
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}; use one of {ACTIONS}")
        job = self.manager.get(job_id)
        if action == "cancel":
            if not job.cancel(self.cancel_reason(user, reason)):
                # it ended otherwise just now: the job layer's wording (core.actions)
                raise JobStateError(
                    refusal(
                        "cancel",
                        job_id=job_id,
                        status=job.status,
                        capabilities=job.capabilities,
                        why_ended=(job.error or {}).get("message"),
                    )
                    or f"cannot cancel job {job_id}"
                )
        elif action == "pause":
            job.pause()
        else:
            job.resume()
        return job.snapshot()

    @staticmethod
    def cancel_reason(user: str | None, reason: str | None) -> str | None:
        """Word a cancelled job's message: ``cancelled by alice: too slow``.

        The kernel's store writer words a REST cancel with it too.
        """
        who = f"cancelled by {user}" if user else "cancelled"
        why = (reason or "").strip()
        if why:
            return f"{who}: {why}"
        return who if user else None

    def dismiss_notification(self, notification_id: str, *, user: str | None = None) -> dict:
        """Dismiss one notification."""
        return self.manager.notifications.dismiss(notification_id, user=user).to_dict()
