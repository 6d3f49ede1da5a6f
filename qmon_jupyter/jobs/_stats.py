"""``JobManager.stats()``: counts, durations, throughput, success rate."""

from __future__ import annotations

import statistics
import time
from typing import TYPE_CHECKING

from qmon_jupyter.core.states import TERMINAL, JobStatus, JobType

if TYPE_CHECKING:
    from collections.abc import Iterable

    from .job import ExecutionJob

__all__ = ["job_stats"]

# Throughput in jobs per hour is measured over at most this window.
_WINDOW_S = 3600.0


def job_stats(jobs: Iterable[ExecutionJob], *, removed: int, since: float) -> dict:
    """Summarize ``jobs`` (``since``: monotonic start of the manager).

    ``total`` equals the sum of ``by_status`` and of ``by_type``, and
    ``active + finished``. Durations are those of finished jobs that ran;
    ``shots_per_s`` is completed shots over the time their jobs ran;
    ``jobs_per_hour`` counts jobs finished in the last hour (or since the
    manager started, if sooner), scaled to an hour.
    """
    now = time.monotonic()
    window = min(_WINDOW_S, max(now - since, 1e-9))
    by_status = {s.value: 0 for s in JobStatus}
    by_type = {t.value: 0 for t in JobType}
    durations: list[float] = []
    shots = 0
    shot_time = 0.0
    recent = 0
    total = 0
    for job in jobs:
        total += 1
        status = job._status
        by_status[status.value] += 1
        by_type[job.type.value] += 1
        if status not in TERMINAL:
            continue
        elapsed = job.elapsed_s or 0.0
        durations.append(elapsed)
        if job._finished_mono is not None and now - job._finished_mono <= window:
            recent += 1
        result = job._result
        if status is JobStatus.COMPLETED and result is not None and result.shots:
            shots += result.shots
            shot_time += elapsed
    finished = by_status["completed"] + by_status["failed"] + by_status["cancelled"]
    return {
        "total": total,
        "active": total - finished,
        "finished": finished,
        "removed": removed,
        "by_status": by_status,
        "by_type": by_type,
        "mean_duration_s": statistics.fmean(durations) if durations else None,
        "median_duration_s": statistics.median(durations) if durations else None,
        "throughput": {
            "shots": shots,
            "shots_per_s": shots / shot_time if shot_time > 0 else None,
            "jobs_per_hour": recent * 3600.0 / window,
        },
        "success_rate": by_status["completed"] / finished if finished else None,
    }
