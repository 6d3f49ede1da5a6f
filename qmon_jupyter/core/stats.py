"""The dashboard's statistics, computed one way for a kernel's jobs and for the store's.

Both sides turn their jobs into :class:`JobRecord` rows and call
:func:`job_statistics`, so the same jobs give the same numbers whoever asks.

Definitions:

- ``total`` = the sum of ``by_status`` = the sum of ``by_type`` = ``active + finished``.
- Durations (mean, median) are the ``elapsed_s`` of finished jobs.
- ``throughput.shots`` counts the shots of completed jobs whose unit is shots;
  ``shots_per_s`` divides them by those jobs' total elapsed time;
  ``running_shots_per_s`` adds up the rates of running jobs counting shots.
- ``throughput.jobs_per_hour`` is the number of jobs that finished in the
  last hour (a rolling count, not an extrapolation of a short window).
- ``success_rate`` is completed over finished.
"""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, NamedTuple

from .states import TERMINAL, JobStatus, JobType

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["HOUR_S", "JobRecord", "job_statistics"]

#: The window of ``jobs_per_hour``, in seconds.
HOUR_S = 3600.0

_TERMINAL = frozenset(s.value for s in TERMINAL)
# plain strings: enum member lookups in the loop would cost more than the loop
_RUNNING = JobStatus.RUNNING.value
_COMPLETED = JobStatus.COMPLETED.value


class JobRecord(NamedTuple):
    """What the statistics need of one job.

    Attributes
    ----------
    status, type
        The snapshot's ``status`` and ``type`` (``JobStatus``/``JobType`` members are str).
    unit
        What ``done`` counts (``shots`` for simulations).
    done
        Units done.
    rate
        Units per second now (running jobs), or None.
    elapsed_s
        Seconds the job ran, or None if it never did.
    finished_at
        When it ended (epoch seconds), or None.
    """

    status: str
    type: str
    unit: str
    done: float
    rate: float | None
    elapsed_s: float | None
    finished_at: float | None


def job_statistics(records: Iterable[JobRecord], *, now: float, removed: int = 0) -> dict:
    """Summarize ``records`` at time ``now`` (epoch seconds); see the module for definitions.

    ``removed`` counts jobs dropped by a cleanup (reported, not counted).
    """
    by_status = {s.value: 0 for s in JobStatus}
    by_type = {t.value: 0 for t in JobType}
    durations: list[float] = []
    shots = 0.0
    shot_time = 0.0
    running_rate = 0.0
    last_hour = 0
    for record in records:
        by_status[record.status] = by_status.get(record.status, 0) + 1
        by_type[record.type] = by_type.get(record.type, 0) + 1
        counts_shots = record.unit == "shots"
        if record.status == _RUNNING and counts_shots and record.rate:
            running_rate += record.rate
        if record.status not in _TERMINAL:
            continue
        if record.elapsed_s is not None:
            durations.append(record.elapsed_s)
        if record.finished_at is not None and now - record.finished_at <= HOUR_S:
            last_hour += 1
        if record.status == _COMPLETED and counts_shots:
            shots += record.done
            shot_time += record.elapsed_s or 0.0
    total = sum(by_status.values())
    finished = sum(by_status[s] for s in _TERMINAL)
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
            "shots": int(shots),
            "shots_per_s": shots / shot_time if shot_time > 0 else None,
            "jobs_per_hour": float(last_hour),
            "running_shots_per_s": running_rate,
        },
        "success_rate": by_status[JobStatus.COMPLETED.value] / finished if finished else None,
    }
