"""How actions reach a job: cancel, pause, resume, and provider updates.

Mixed into :class:`~qmon_jupyter.jobs.manager.JobManager`; every status
change still goes through its ``_transition_locked`` (one transition table,
enforced in one place). A provider job's actions call its controller first,
outside the manager's lock (it may do network I/O), and change the state
only when the controller agreed.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from qmon_jupyter.core.states import TERMINAL, JobStatus, transition_path
from qmon_jupyter.errors import JobStateError

if TYPE_CHECKING:
    import threading
    from collections import deque

    from .job import ExecutionJob, Result

__all__ = ["JobControls"]

logger = logging.getLogger(__name__)

_S = JobStatus


class JobControls:
    """Cancel, pause, resume and ``apply_external`` for :class:`JobManager`.

    Relies on the manager's ``_lock``, ``_queue`` and its ``_*_locked``
    helpers (``_transition_locked``, ``_end_locked``, ``_publish_locked``,
    ``_renumber_locked``, ``_stop_workers_if_idle_locked``).
    """

    _lock: threading.Lock
    _queue: deque[ExecutionJob]

    def _cancel_job(self, job: ExecutionJob, reason: str | None = None) -> bool:
        if job._controller is not None:
            return self._cancel_external(job, reason)
        with self._lock:
            status = job._status
            if status in TERMINAL:
                return status is _S.CANCELLED
            job._request_cancel(reason)
            if status in (_S.PENDING, _S.QUEUED):
                if job in self._queue:
                    index = self._queue.index(job)
                    del self._queue[index]
                    self._renumber_locked(index)
                self._end_locked(job, _S.CANCELLED, reason=reason)
                self._stop_workers_if_idle_locked()
            else:
                # Running or paused: the worker stops at its next check and
                # ends the job; wake it if it waits in a pause.
                job._message = "cancelling…"
                self._publish_locked("job.progress", job)
        return True

    def _cancel_external(self, job: ExecutionJob, reason: str | None) -> bool:
        if job._status in TERMINAL:
            return job._status is _S.CANCELLED
        if not job.capabilities.get("cancel"):
            raise JobStateError(
                f"job {job.id} on {job.backend} cannot be cancelled: the provider does not allow it"
            )
        try:
            job._controller.cancel()
        except Exception as exc:
            raise JobStateError(f"cancelling job {job.id} on {job.backend} failed: {exc}") from exc
        job._request_cancel(reason)
        with self._lock:
            self._end_locked(job, _S.CANCELLED, reason=reason)
            return job._status is _S.CANCELLED

    def _pause_job(self, job: ExecutionJob) -> None:
        self._check_pausable(job, "paused", "pause")
        with self._lock:
            status = job._status
            if status is _S.PAUSED:
                return
            if status is not _S.RUNNING or job._cancel_requested:
                doing = "being cancelled" if job._cancel_requested else str(status)
                raise JobStateError(
                    f"cannot pause job {job.id}: it is {doing}; only a running job can be paused"
                )
            if job._controller is None:
                job._set_paused(paused=True)
                self._transition_locked(job, _S.PAUSED)
                return
        self._call_controller(job, "pause")
        with self._lock:
            self._transition_locked(job, _S.PAUSED)

    def _resume_job(self, job: ExecutionJob) -> None:
        self._check_pausable(job, "resumed", "resume")
        with self._lock:
            status = job._status
            if status is _S.RUNNING:
                return
            if status is not _S.PAUSED:
                raise JobStateError(
                    f"cannot resume job {job.id}: it is {status}; only a paused job can be resumed"
                )
            if job._controller is None:
                self._transition_locked(job, _S.RUNNING)
                job._set_paused(paused=False)
                return
        self._call_controller(job, "resume")
        with self._lock:
            self._transition_locked(job, _S.RUNNING)

    def _check_pausable(self, job: ExecutionJob, done: str, verb: str) -> None:
        if not job.capabilities.get("pause"):
            msg = f"job {job.id} on {job.backend} cannot be {done}: {verb} is not supported"
            raise JobStateError(msg)
        if job._controller is not None and not callable(getattr(job._controller, verb, None)):
            raise JobStateError(
                f"job {job.id} on {job.backend} cannot be {done}: its controller has no {verb}()"
            )

    def _call_controller(self, job: ExecutionJob, verb: str) -> None:
        try:
            getattr(job._controller, verb)()
        except Exception as exc:
            raise JobStateError(f"{verb} of job {job.id} on {job.backend} failed: {exc}") from exc

    def apply_external(
        self,
        job: ExecutionJob,
        *,
        status: JobStatus | str | None = None,
        progress: float | None = None,
        queue_position: int | object | None = ...,
        message: str | None = None,
        stage: str | None = None,
        eta_s: float | object | None = ...,
        provider: dict | None = None,
        result: Result | None = None,
        error: BaseException | tuple[str, str] | None = None,
    ) -> None:
        """See :meth:`ExecutionJob.apply_external`."""
        target = None if status is None else JobStatus(status)
        if job._status in TERMINAL:
            logger.debug("ignoring update of finished job %s", job.id)
            return
        if target is _S.RUNNING and queue_position is ...:
            queue_position = None  # it left the provider's queue
        _apply_progress(job, progress, stage)
        with self._lock:
            if job._status in TERMINAL:
                return
            _apply_fields(job, queue_position, eta_s, message, provider)
            path = None if target is None else transition_path(job._status, target)
            if not path:
                if target is not None and path is None:
                    logger.debug(
                        "ignoring move of job %s from %s to %s", job.id, job._status, target
                    )
                self._publish_locked("job.progress", job)
            elif target in TERMINAL:
                self._end_locked(job, target, result=result, error=error)
            else:
                for step in path:
                    self._transition_locked(job, step)


def _apply_progress(job: ExecutionJob, progress: float | None, stage: str | None) -> None:
    # Outside every lock: the tracker's callbacks publish (taking the job's lock).
    tracker = job.tracker
    if progress is not None:
        if tracker.total:
            tracker.set(progress * tracker.total)
        else:
            tracker.set_fraction(progress)
    if stage is not None:
        tracker.set_stage(stage)


def _apply_fields(
    job: ExecutionJob,
    queue_position: int | object | None,
    eta_s: float | object | None,
    message: str | None,
    provider: dict | None,
) -> None:
    with job._lock:
        if provider:
            job._provider = {**(job._provider or {}), **provider}
        if queue_position is not ...:
            job._queue_position = queue_position  # type: ignore[assignment]
        if eta_s is not ...:
            job._eta_override = eta_s
        if message is not None:
            job._message = message
        job._updated = time.time()
