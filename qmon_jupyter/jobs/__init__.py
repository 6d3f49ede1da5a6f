"""Jobs: the job, the manager, progress, events and notifications.

The job layer knows nothing of widgets, HTTP or SQL: it emits events
(:class:`EventBus`) that the widget, the store and the server consume.

Semantics worth knowing:

- **Admission.** At most ``max_concurrent_jobs`` local jobs hold a slot
  (running or paused); the others are ``queued`` in submission order with
  ``queue_position`` 1..k (1 starts next). Provider jobs and ``progress()``
  loops take no slot.
- **Cancel.** A pending or queued job is cancelled at once and never starts.
  A running one stops at its next check (a simulation: before the next batch
  or gate block) and then ends ``cancelled``. A cancel requested before a
  job ends always wins, even if the work finished meanwhile.
- **Pause.** Only a running job can be paused; it parks between batches
  (function jobs: in ``token.check()``) and keeps its slot. Pausing or
  resuming a job that cannot (finished, queued, a provider without the
  capability) raises :class:`JobStateError` and changes nothing; pausing a
  paused job or resuming a running one is a no-op.
- **Loops.** ``progress(iterable)`` raises :class:`~qmon_jupyter.JobCancelled`
  at the next iteration after a cancel from the dashboard (not
  ``KeyboardInterrupt``: the cell's own interrupt stays distinct).
- **Reproducibility.** Every simulation has a seed (drawn if not given);
  batches are pure functions of (circuit, index, shots, seed), so pause,
  resume, checkpoints and executors never change the counts.
"""

from __future__ import annotations

from qmon_jupyter.core.states import JobStatus, JobType
from qmon_jupyter.errors import JobStateError

from ._function import CancellationToken, ProgressReporter
from ._loop import MonitoredLoop
from .events import EventBus
from .job import ExecutionJob, Result
from .manager import JobManager
from .notifications import DashboardNotification, NotificationCenter
from .progress import MultiStageProgressTracker, ProgressTracker, SimulationProgressTracker
from .session import JobSession

__all__ = [
    "CancellationToken",
    "DashboardNotification",
    "EventBus",
    "ExecutionJob",
    "JobManager",
    "JobSession",
    "JobStateError",
    "JobStatus",
    "JobType",
    "MonitoredLoop",
    "MultiStageProgressTracker",
    "NotificationCenter",
    "ProgressReporter",
    "ProgressTracker",
    "Result",
    "SimulationProgressTracker",
]
