"""A job's life from registration to its end: transitions, outcomes, notifications, controls.

The one place a job's status changes (through :meth:`ExecutionJob.move` and
:meth:`ExecutionJob.end`, which enforce the transition table), always under
the manager's lock. A provider job's actions call its controller first,
outside that lock (it may do network I/O), and change the state only when
the controller agreed. Refusals read as :func:`~qmon_jupyter.core.actions.refusal`
words them, so Python and REST say the same.
"""

from __future__ import annotations

import functools
import logging
import traceback
import weakref
from typing import TYPE_CHECKING

from qmon_jupyter.core.actions import refusal
from qmon_jupyter.core.states import TERMINAL, JobStatus, JobType, transition_path
from qmon_jupyter.core.text import format_seconds, short_name
from qmon_jupyter.errors import JobCancelled, JobStateError

if TYPE_CHECKING:
    import threading

    from .events import EventBus
    from .job import ExecutionJob, Result
    from .notifications import NotificationCenter

__all__ = ["Lifecycle", "format_traceback"]

logger = logging.getLogger(__name__)

_S = JobStatus


def format_traceback(exc: BaseException) -> str:
    """Return ``exc``'s formatted traceback (what ``job.traceback`` shows)."""
    return "".join(traceback.format_exception(exc))


class Lifecycle:
    """Registers jobs, moves them through their states and carries out their controls.

    Parameters
    ----------
    lock
        The manager's lock. It guards ``jobs``, ``active`` and ``removed``
        here, and every job's status: methods named ``*_locked`` expect the
        caller to hold it; the others take it.
    events, notifications
        Where transitions are published and ends are announced.
    """

    def __init__(
        self, lock: threading.Lock, events: EventBus, notifications: NotificationCenter
    ) -> None:
        self.lock = lock
        self.events = events
        self.notifications = notifications
        # Guarded by lock: every job by id in submission order, those not yet
        # terminal, and how many cleanups removed.
        self.jobs: dict[str, ExecutionJob] = {}
        self.active: dict[str, ExecutionJob] = {}
        self.removed = 0

    # ---------------------------------------------------------- transitions
    def register_locked(self, job: ExecutionJob) -> None:
        """Add ``job`` to the table and publish ``job.created`` (counted by its session)."""
        session = self._session_of_locked(job)
        if session is not None:
            session.controller.adopt_locked(job)  # raises if the session ended
        self.jobs[job.id] = job
        self.active[job.id] = job
        job.publish(self.events, "job.created")
        job.tracker.add_callback(functools.partial(_relay_progress, weakref.ref(self.events), job))

    def forget_locked(self, finished: list[ExecutionJob]) -> None:
        """Drop ``finished`` jobs from the table, each with a ``job.removed`` event."""
        for job in finished:
            del self.jobs[job.id]
            self.events.publish("job.removed", job_id=job.id, data={"status": job.status.value})
        self.removed += len(finished)

    def move_locked(self, job: ExecutionJob, new: JobStatus) -> bool:
        """Move ``job`` to a non-terminal ``new`` (False, logged, if the table refuses)."""
        moved = job.move(new, self.events)
        if not moved:
            logger.debug("refused move of job %s from %s to %s", job.id, job.status, new)
        return moved

    def end_locked(
        self,
        job: ExecutionJob,
        status: JobStatus,
        *,
        result: Result | None = None,
        error: BaseException | tuple[str, str] | None = None,
        tb: str | None = None,
        reason: str | None = None,
    ) -> bool:
        """End ``job`` with ``status`` and its outcome, exactly once (False if it had ended)."""
        if job.status in TERMINAL:
            return False
        info = exc = None
        if isinstance(error, tuple):
            info = {"type": str(error[0]), "message": str(error[1])}
        elif error is not None:
            info, exc = {"type": type(error).__name__, "message": str(error)}, error
        try:
            return job.end(
                status,
                self.events,
                result=result,
                error=info,
                exception=exc,
                traceback=tb,
                reason=reason,
            )
        finally:
            # Reached the end (even if publishing it raised): done once, whatever raises.
            if job.status in TERMINAL and not job.done:
                self._close_locked(job)

    def fail_locked(self, job: ExecutionJob, exc: BaseException) -> None:
        """End ``job`` failed with ``exc`` after ending it raised ``exc``, exactly once."""
        if job.status in TERMINAL:
            return  # it did end; only what followed (already logged) raised
        tb = format_traceback(exc)
        try:
            self.end_locked(job, _S.FAILED, error=exc, tb=tb)
        except Exception:
            logger.exception("failing job %s failed", job.id)
        if job.status in TERMINAL:
            return
        # Last resort (publishing keeps raising): end it without an event.
        job.end_silently({"type": type(exc).__name__, "message": str(exc)}, exc, tb)
        self.active.pop(job.id, None)
        job.signals.mark_ended()

    def _close_locked(self, job: ExecutionJob) -> None:
        self.active.pop(job.id, None)
        try:
            try:
                self._notify_end(job)
            except Exception:  # a notification never keeps a job from ending
                logger.exception("notifying the end of job %s failed", job.id)
            self._tell_session_locked(job)
        except Exception:  # nor does its session
            logger.exception("counting the end of job %s in its session failed", job.id)
        finally:
            job.signals.mark_ended()  # last: a waiter sees the whole outcome

    def _session_of_locked(self, job: ExecutionJob) -> ExecutionJob | None:
        parent = self.jobs.get(job.parent_id) if job.parent_id else None
        return parent if parent is not None and parent.type is JobType.SESSION else None

    def _tell_session_locked(self, job: ExecutionJob) -> None:
        # Before the child's waiters wake: a block that awaited every child and
        # is left next finds them all counted. The last child completes it.
        session = self._session_of_locked(job)
        if session is not None:
            result = session.controller.child_ended_locked(job)
            if result is not None:
                self.end_locked(session, _S.COMPLETED, result=result)

    def _notify_end(self, job: ExecutionJob) -> None:
        status = job.status
        elapsed = job.elapsed_s or 0.0
        if status is _S.COMPLETED:
            outcome = job.outcome
            shots = outcome.shots if outcome is not None else 0
            what = f"{shots} shots" if shots else "done"
            self.notifications.notify(
                "success",
                f"{short_name(job.name)} completed",
                f"{what} in {format_seconds(elapsed)}",
                job_id=job.id,
            )
        elif status is _S.FAILED:
            error = job.error or {}
            self.notifications.notify(
                "error",
                f"{short_name(job.name)} failed",
                f"{error.get('type', 'Error')}: {error.get('message', '')}",
                job_id=job.id,
            )
        else:
            self.notifications.notify(
                "warning",
                f"{short_name(job.name)} cancelled",
                job.signals.cancel_reason or "",
                job_id=job.id,
            )

    def finish_inline(self, job: ExecutionJob, error: BaseException | None = None) -> None:
        """End a ``progress()`` loop's job: completed, or failed/cancelled by ``error``."""
        if job.status in TERMINAL:
            return
        tb = None if error is None else format_traceback(error)
        if error is None and not job.cancel_requested:
            job.tracker.finish()  # only a completed loop did all its work
        if isinstance(error, KeyboardInterrupt):
            job.signals.request_cancel("interrupted")
        with self.lock:
            if job.cancel_requested or isinstance(error, JobCancelled):
                status = _S.CANCELLED
            elif error is not None:
                status = _S.FAILED
            else:
                status = _S.COMPLETED
            try:
                self.end_locked(job, status, error=error, tb=tb)
            except Exception as exc:
                logger.exception("ending job %s failed", job.id)
                self.fail_locked(job, exc)

    # ------------------------------------------------------------- controls
    def cancel_external(self, job: ExecutionJob, reason: str | None) -> bool:
        """Cancel a provider job through its controller (False if it ended otherwise)."""
        status = job.status
        if status in TERMINAL:
            return status is _S.CANCELLED
        why = refusal(
            "cancel",
            job_id=job.id,
            status=status,
            capabilities=job.capabilities,
            backend=job.backend,
        )
        if why is not None:
            raise JobStateError(why)
        try:
            job.controller.cancel()
        except Exception as exc:
            raise JobStateError(f"cancelling job {job.id} on {job.backend} failed: {exc}") from exc
        job.signals.request_cancel(reason)
        with self.lock:
            self.end_locked(job, _S.CANCELLED, reason=reason)
            return job.status is _S.CANCELLED

    def pause(self, job: ExecutionJob) -> None:
        """Pause a running job (a no-op if paused); JobStateError if it cannot be."""
        with self.lock:
            controller = self._check_allowed(job, "pause")
            if job.status is _S.PAUSED:
                return
            if controller is None:
                job.signals.set_paused(paused=True)
                self.move_locked(job, _S.PAUSED)
                return
        self._call_controller(job, controller, "pause")
        with self.lock:
            self.move_locked(job, _S.PAUSED)

    def resume(self, job: ExecutionJob) -> None:
        """Resume a paused job (a no-op if running); JobStateError if it cannot be."""
        with self.lock:
            controller = self._check_allowed(job, "resume")
            if job.status is _S.RUNNING:
                return
            if controller is None:
                self.move_locked(job, _S.RUNNING)
                job.signals.set_paused(paused=False)
                return
        self._call_controller(job, controller, "resume")
        with self.lock:
            self.move_locked(job, _S.RUNNING)

    def _check_allowed(self, job: ExecutionJob, verb: str) -> object:
        why = refusal(
            verb,
            job_id=job.id,
            status=job.status,
            capabilities=job.capabilities,
            backend=job.backend,
            why_ended=(job.error or {}).get("message"),
            cancelling=job.cancel_requested,
            job_type=job.type,
        )
        if why is not None:
            raise JobStateError(why)
        controller = job.controller
        if controller is not None and not callable(getattr(controller, verb, None)):
            raise JobStateError(
                f"cannot {verb} job {job.id} on {job.backend}: its controller has no {verb}()"
            )
        return controller

    @staticmethod
    def _call_controller(job: ExecutionJob, controller: object, verb: str) -> None:
        try:
            getattr(controller, verb)()
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
        ran: tuple[float, float] | None = None,
    ) -> None:
        """See :meth:`ExecutionJob.apply_external`."""
        target = None if status is None else JobStatus(status)
        if job.status in TERMINAL:
            logger.debug("ignoring update of finished job %s", job.id)
            return
        if target is _S.RUNNING and queue_position is ...:
            queue_position = None  # it left the provider's queue
        _apply_progress(job, progress, stage)
        with self.lock:
            current = job.status
            if current in TERMINAL:
                return
            job.update_fields(
                queue_position=queue_position,
                eta_s=eta_s,
                message=message,
                provider=provider,
                ran=ran,
            )
            path = None if target is None else transition_path(current, target)
            if not path:
                if target is not None and path is None:
                    logger.debug("ignoring move of job %s from %s to %s", job.id, current, target)
                job.publish(self.events, "job.progress")
            elif target in TERMINAL:
                self.end_locked(job, target, result=result, error=error)
            else:
                self.move_locked(job, target)


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


def _relay_progress(
    events_ref: weakref.ReferenceType[EventBus], job: ExecutionJob, _tracker: object
) -> None:
    # Tracker callbacks are already throttled to progress_interval per job.
    events = events_ref()
    if events is not None:
        job.publish(events, "job.progress", if_active=True)
