"""The dashboard's state and actions, in one place for widgets, REST and Python.

:class:`DashboardAPI` assembles what a dashboard shows (jobs, hardware,
status, resources, stats, notifications) and carries out actions (cancel,
pause, resume, dismiss). It reads everything from a *source*: a small
protocol (:class:`DashboardSource`) with two implementations:
:class:`~qmon_jupyter.kernel.ManagerSource` over a live
:class:`~qmon_jupyter.jobs.JobManager` (the widget, Python callers) and the
server's :class:`~qmon_jupyter.server.source.StoreSource` (REST over every
kernel). This module knows only the vocabulary (:mod:`qmon_jupyter.core`):
both sides build on it.

Errors: an unknown id raises ``KeyError`` naming it (REST: 404); an action
the job's state or provider forbids raises
:class:`~qmon_jupyter.jobs.JobStateError` (REST: 409).
"""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .core.actions import ACTIONS
from .core.columns import check_sort, sort_snapshots
from .core.order import dashboard_order
from .core.search import MAX_QUERY, search_matches
from .core.snapshot import SCHEMA_VERSION
from .core.states import ACTIVE, JobStatus, JobType
from .core.timefmt import iso_utc

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

__all__ = [
    "ACTIONS",
    "DashboardAPI",
    "DashboardSource",
    "PagingSource",
    "summarize_providers",
]

_ACTIVE = frozenset(s.value for s in ACTIVE)


@runtime_checkable
class DashboardSource(Protocol):
    """Where a :class:`DashboardAPI` gets its data and sends its actions.

    Snapshots are version-1 job snapshots
    (:mod:`qmon_jupyter.core.snapshot`); every value is JSON-safe.
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

    def act(
        self, job_id: str, action: str, *, user: str | None = None, reason: str | None = None
    ) -> dict:
        """Carry out ``action`` (one of :data:`ACTIONS`); the snapshot after it.

        ``user`` and ``reason`` reach the audit trail and a cancelled job's message.
        """
        ...

    def dismiss_notification(self, notification_id: str, *, user: str | None = None) -> dict:
        """Dismiss one notification; its dict after. KeyError if unknown."""
        ...


@runtime_checkable
class PagingSource(DashboardSource, Protocol):
    """A source that filters and pages itself (the server's store, in SQL).

    :class:`DashboardAPI` hands these reads over instead of listing every
    snapshot: the REST handlers and Python callers still go through the one
    API, and 10,000 stored jobs stay fast.
    """

    def page_jobs(
        self,
        *,
        status: list[str] | None,
        type: list[str] | None,  # noqa: A002 - the snapshot's key
        kernel: list[str] | None,
        limit: int,
        offset: int,
        q: str | None = None,
        parent: str | None = None,
        sort: str | None = None,
    ) -> dict:
        """``{"jobs": [...], "total": n}``, newest first (``q``: name or id contains it).

        ``parent``: ``""`` top-level jobs, a session's id its jobs, None every job.
        ``sort`` orders by a column instead (:mod:`qmon_jupyter.core.columns`).
        """
        ...

    def dashboard_state(self, limit: int = 100) -> dict:
        """Return what :meth:`DashboardAPI.get_dashboard_state` returns."""
        ...

    def iter_job_pages(
        self,
        *,
        status: list[str] | None,
        type: list[str] | None,  # noqa: A002 - the snapshot's key
        kernel: list[str] | None,
        page_size: int,
    ) -> Iterator[list[dict]]:
        """Every matching job, newest first, a page at a time (for exports)."""
        ...

    def hardware(self, limit: int = 200) -> dict:
        """Return what :meth:`DashboardAPI.get_hardware` returns, with ``total``."""
        ...

    def notifications(self, *, include_dismissed: bool = False, limit: int = 100) -> list[dict]:
        """Return the newest ``limit`` notifications, oldest first."""
        ...


class DashboardAPI:
    """Dashboard state and actions over a :class:`DashboardSource`.

    The one place both the REST handlers and Python callers read and act
    through. A :class:`PagingSource` does its own filtering and paging.
    """

    def __init__(self, source: DashboardSource) -> None:
        self.source = source
        self._paging = isinstance(source, PagingSource)

    # -- reading ---------------------------------------------------------------
    def get_dashboard_state(self, limit: int = 100) -> dict:
        """Everything a dashboard draws: active jobs first, then the most recent.

        Top-level jobs only: a session's jobs are its row's (``get_jobs(parent=id)``).
        """
        if self._paging:
            return self.source.dashboard_state(limit)
        jobs = dashboard_order(s for s in self.source.list_jobs() if not s.get("parent_id"))
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
        type: str | Iterable[str] | None = None,  # noqa: A002 - the query parameter's name
        kernel: str | Iterable[str] | None = None,
        limit: int = 50,
        offset: int = 0,
        *,
        q: str | None = None,
        parent: str = "",
        sort: str | None = None,
    ) -> dict:
        """``{"jobs": [...], "total": n}``, newest first unless ``sort`` says otherwise.

        Each filter is one value, ``"a,b"`` or a list (any of them matches).
        ``q`` keeps the jobs whose name or id contains it
        (:func:`~qmon_jupyter.core.search.search_matches`, ASCII case ignored).
        ``parent`` is ``""`` for top-level jobs (sessions stand for their
        jobs), a session's id for its jobs, ``"*"`` for every job.
        ``sort`` is a column, ``-column`` for descending, or ``dashboard``
        (:data:`~qmon_jupyter.core.columns.SORT_CHOICES`).

        Raises
        ------
        ValueError
            An unknown status, type or sort, a negative limit or offset.
        """
        if limit < 0 or offset < 0:
            raise ValueError(f"limit and offset must be non-negative, not {limit} and {offset}")
        if q is not None and len(q) > MAX_QUERY:
            raise ValueError(f"q is longer than {MAX_QUERY} characters")
        if sort:
            check_sort(sort)
        statuses, types, kernels = _parse_filters(status, type, kernel)
        if self._paging:
            return self.source.page_jobs(
                **_as_lists(statuses, types, kernels),
                limit=limit,
                offset=offset,
                q=q or None,
                parent=None if parent == "*" else parent,
                sort=sort or None,
            )
        one_type = next(iter(types)) if types is not None and len(types) == 1 else None
        one_kernel = next(iter(kernels)) if kernels is not None and len(kernels) == 1 else None
        jobs = [
            snap
            for snap in self.source.list_jobs(status=statuses, type=one_type, kernel=one_kernel)
            if (types is None or snap["type"] in types)
            and (kernels is None or snap.get("kernel_id") in kernels)
            and search_matches(snap, q or "")
            and (parent == "*" or (snap.get("parent_id") or "") == parent)
        ]
        jobs.sort(key=lambda s: (s["created_at"] or "", s["id"]), reverse=True)
        if sort:
            jobs = sort_snapshots(jobs, sort)
        return {"jobs": jobs[offset : offset + limit], "total": len(jobs)}

    def iter_jobs(
        self,
        status: str | Iterable[str] | None = None,
        type: str | Iterable[str] | None = None,  # noqa: A002 - the query parameter's name
        kernel: str | Iterable[str] | None = None,
        page_size: int = 500,
    ) -> Iterator[list[dict]]:
        """Every matching job, newest first, in pages of ``page_size`` (an export streams them).

        Filters as for :meth:`get_jobs`. Nothing is read until the first page
        is asked for, and each page is read when asked for.
        """
        if page_size < 1:
            raise ValueError(f"page_size must be at least 1, not {page_size}")
        # bad filters raise here, not at the first page
        statuses, types, kernels = _parse_filters(status, type, kernel)
        if self._paging:
            return self.source.iter_job_pages(
                **_as_lists(statuses, types, kernels), page_size=page_size
            )
        return self._iter_listed(statuses, types, kernels, page_size)

    def _iter_listed(
        self, statuses: Any, types: Any, kernels: Any, page_size: int
    ) -> Iterator[list[dict]]:
        jobs = self.get_jobs(statuses, types, kernels, limit=sys.maxsize, parent="*")["jobs"]
        for start in range(0, len(jobs), page_size):
            yield jobs[start : start + page_size]

    def get_job(self, job_id: str) -> dict:
        """One job's snapshot; KeyError naming the id if unknown."""
        return self.source.get_job(job_id)

    def get_statistics(self) -> dict:
        """Return counts by status and type, durations, throughput, success rate."""
        return self.source.statistics()

    def get_hardware(self, limit: int = 200) -> dict:
        """Return provider jobs (at most ``limit``, each with ``last_poll``) and providers.

        ``total`` counts every provider job; each provider has its health and
        its jobs and active jobs.
        """
        if self._paging:
            return self.source.hardware(limit)
        every = dashboard_order(self.source.list_jobs(type="hardware"))
        providers = {p["name"]: p for p in summarize_providers(every)}
        for provider in self.source.status().get("providers", []):
            providers.setdefault(provider["name"], {**provider, "jobs": 0, "active": 0})
        return {"jobs": every[:limit], "total": len(every), "providers": list(providers.values())}

    def get_status(self) -> dict:
        """Kernels, providers, store and version."""
        return self.source.status()

    def get_resources(self) -> dict:
        """CPU and memory, latest and recent history."""
        return self.source.resources()

    def get_notifications(self, include_dismissed: bool = False, limit: int = 100) -> list[dict]:
        """Return the newest ``limit`` notifications not dismissed (or all), oldest first."""
        if self._paging:
            return self.source.notifications(include_dismissed=include_dismissed, limit=limit)
        notes = self.source.notifications(include_dismissed=include_dismissed)
        return notes[-limit:] if limit else []

    # -- actions ---------------------------------------------------------------
    def cancel_job(self, job_id: str, user: str | None = None, reason: str | None = None) -> dict:
        """Cancel a job; its snapshot after (``cancelled``, or still stopping).

        The job's message and the audit trail name ``user`` and ``reason``.
        """
        return self.source.act(job_id, "cancel", user=user, reason=reason)

    def act(
        self, job_id: str, action: str, user: str | None = None, reason: str | None = None
    ) -> dict:
        """Cancel, pause or resume (``action``); the snapshot after it."""
        return self.source.act(job_id, action, user=user, reason=reason)

    def pause_job(self, job_id: str, user: str | None = None) -> dict:
        """Pause a running job between batches; its snapshot after."""
        return self.source.act(job_id, "pause", user=user)

    def resume_job(self, job_id: str, user: str | None = None) -> dict:
        """Resume a paused job; its snapshot after."""
        return self.source.act(job_id, "resume", user=user)

    def dismiss_notification(self, notification_id: str, user: str | None = None) -> dict:
        """Dismiss a notification; its dict after."""
        return self.source.dismiss_notification(notification_id, user=user)


def _parse_statuses(status: str | Iterable[str] | None) -> frozenset[str] | None:
    return _parse_names(status, JobStatus)


def _parse_filters(
    status: str | Iterable[str] | None,
    job_type: str | Iterable[str] | None,
    kernel: str | Iterable[str] | None,
) -> tuple[frozenset[str] | None, frozenset[str] | None, frozenset[str] | None]:
    """Parse the status, type and kernel filters into sets (None: no filter)."""
    return _parse_statuses(status), _parse_names(job_type, JobType), _parse_names(kernel)


def _as_lists(*filters: frozenset[str] | None) -> dict[str, list[str] | None]:
    """Status, type and kernel sets as a paging source's keyword arguments (sorted lists)."""
    return {
        key: None if values is None else sorted(values)
        for key, values in zip(("status", "type", "kernel"), filters, strict=True)
    }


def _parse_names(
    value: str | Iterable[str] | None, enum: type[JobStatus | JobType] | None = None
) -> frozenset[str] | None:
    """``"a,b"`` or a list as a set (checked against ``enum``: ValueError naming a bad one).

    None, ``""`` and an empty list all mean "no filter" (None).
    """
    if value is None or value == "":
        return None
    names = value.split(",") if isinstance(value, str) else list(value)
    names = [str(name).strip() for name in names if str(name).strip()]
    if not names:  # no values is no filter, whichever the source
        return None
    return frozenset(names if enum is None else (enum(name).value for name in names))


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
