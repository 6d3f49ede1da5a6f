"""``JobManager.stats()``: the kernel's jobs through ``core.stats.job_statistics``."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from qmon_jupyter.core.states import JobStatus
from qmon_jupyter.core.stats import JobRecord, job_statistics

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .job import ExecutionJob

__all__ = ["job_record", "job_stats"]

_RUNNING = JobStatus.RUNNING


def job_record(job: ExecutionJob) -> JobRecord:
    """Return what the statistics need of ``job``, as its snapshot says it."""
    tracker = job.tracker
    status = job.status
    return JobRecord(
        status=status,  # a str enum: equal to, and hashed as, its value
        type=job.type,
        unit=tracker.unit,
        done=float(tracker.done),
        rate=tracker.rate if status is _RUNNING else None,
        elapsed_s=job.elapsed_s,
        finished_at=job.finished_at,
    )


def job_stats(
    jobs: Iterable[ExecutionJob],
    *,
    removed: int,
    since: float | None = None,
    now: float | None = None,
) -> dict:
    """Summarize ``jobs`` (see :mod:`qmon_jupyter.core.stats` for the definitions).

    ``since`` (the manager's start) is accepted for callers that pass it; the
    definitions no longer depend on it. ``now`` defaults to the current time.
    """
    del since
    return job_statistics(
        (job_record(job) for job in jobs),
        now=time.time() if now is None else now,
        removed=removed,
    )
