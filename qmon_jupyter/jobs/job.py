"""One monitored job: its state, progress, outcome and controls."""

from __future__ import annotations

import threading
import time
import uuid
import weakref
from typing import TYPE_CHECKING, Any

from qmon_jupyter.core.snapshot import make_snapshot
from qmon_jupyter.core.states import TERMINAL, JobStatus, JobType, can_move, transition_path
from qmon_jupyter.core.text import short_name
from qmon_jupyter.errors import JobCancelled, JobFailed

from ._parent import current_parent
from ._result import Result, summarize
from ._signals import JobSignals

if TYPE_CHECKING:
    from .events import EventBus
    from .manager import JobManager
    from .progress import ProgressTracker

__all__ = ["ExecutionJob", "Result"]


class ExecutionJob:
    """A job on the dashboard: a simulation, a function, a loop or a provider job.

    A :class:`~qmon_jupyter.jobs.JobManager` makes it. A job owns its state, as a
    ``concurrent.futures.Future`` does: only its own methods change its fields,
    each under its lock, and :meth:`move` enforces the transition table. The
    user's controls (``cancel``, ``pause``, ``resume``) go through the manager,
    which decides what they mean for the queue and the provider.
    """

    # Slots keep 10,000 finished jobs small (no per-instance dict).
    __slots__ = (
        "__weakref__",
        "_controller",
        "_created",
        "_error",
        "_eta_override",
        "_exception",
        "_finished",
        "_finished_mono",
        "_lock",
        "_manager_ref",
        "_message",
        "_provider",
        "_queue_position",
        "_ran",
        "_result",
        "_started",
        "_started_mono",
        "_status",
        "_summary",
        "_updated",
        "backend",
        "capabilities",
        "executor",
        "extra",
        "id",
        "kernel_id",
        "name",
        "owner",
        "seed",
        "signals",
        "traceback",
        "tracker",
        "type",
    )

    def __init__(
        self,
        manager: JobManager,
        *,
        name: str,
        job_type: JobType,
        tracker: ProgressTracker,
        backend: str,
        executor: str | None,
        capabilities: dict[str, bool],
        seed: int | None = None,
        provider: dict | None = None,
        controller: Any = None,
        extra: dict | None = None,
        job_id: str | None = None,
    ) -> None:
        self.id = job_id or uuid.uuid4().hex[:12]
        self.name = name or self.id
        self.type = JobType(job_type)
        self.backend = backend
        self.executor = executor
        self.owner = manager.owner
        self.kernel_id = manager.kernel_id
        self.seed = seed
        self.capabilities = capabilities
        self.tracker = tracker
        parent = current_parent()  # the session this job is started in, if any
        if parent is not None and parent.manager is manager:
            extra = {**(extra or {}), "parent_id": parent.id}
        self.extra = extra
        # Weak: a job kept by a user does not keep its manager (and threads) alive.
        self._manager_ref = weakref.ref(manager)
        self._controller = controller
        # Cancel requested, paused, ended: what the worker and wait() see
        # (guarded by the condition the manager's jobs share).
        self.signals = JobSignals(manager.job_condition)
        # Guards every field below: _status, the timestamps, _result,
        # _summary, _error, traceback, _exception, _provider, _queue_position,
        # _eta_override and _message. Only this class's methods write them.
        # Status changes also hold the manager's lock, taken first, so a
        # status read under the manager's lock stays put.
        self._lock = threading.Lock()
        self._status = JobStatus.PENDING
        self._created = time.time()
        self._started: float | None = None
        self._finished: float | None = None
        self._started_mono: float | None = None
        self._finished_mono: float | None = None
        self._ran: tuple[float, float] | None = None  # the provider's account: apply_external
        self._updated = self._created
        self._result: Result | None = None
        self._summary: dict | None = None
        self._error: dict | None = None
        self._exception: BaseException | None = None
        self.traceback: str | None = None
        self._provider = dict(provider) if provider else None
        self._queue_position: int | None = None
        self._eta_override: float | object | None = _UNSET
        self._message: str | None = None

    # -- reading -----------------------------------------------------------
    @property
    def status(self) -> JobStatus:
        """Where the job is in its life."""
        return self._status

    @property
    def progress(self) -> float:
        """Fraction done, 0..1."""
        return 1.0 if self._status is JobStatus.COMPLETED else self.tracker.fraction

    @property
    def eta_s(self) -> float | None:
        """Seconds left (smoothed), or None when unknown."""
        if self._eta_override is not _UNSET:
            return self._eta_override  # type: ignore[return-value]
        if self._status in TERMINAL or self._status is JobStatus.PAUSED:
            return None  # a paused job has no time left to estimate
        return self.tracker.eta_s

    @property
    def queue_position(self) -> int | None:
        """1 for the next job to start; None when not queued (or unknown)."""
        return self._queue_position

    @property
    def done(self) -> bool:
        """Whether the job has ended (completed, failed or cancelled)."""
        return self.signals.ended

    @property
    def parent_id(self) -> str | None:
        """The id of the session this job belongs to, None for a top-level job."""
        return (self.extra or {}).get("parent_id")

    @property
    def manager(self) -> JobManager | None:
        """The manager the job belongs to (None once it was collected)."""
        return self._manager_ref()

    @property
    def cancel_requested(self) -> bool:
        """Whether cancel was asked for (the job may still be stopping)."""
        return self.signals.cancel_requested

    @property
    def elapsed_s(self) -> float | None:
        """Seconds since the job started (until it finished), None if it never ran."""
        start = self._started_mono
        if start is None:
            return None
        end = self._finished_mono if self._finished_mono is not None else time.monotonic()
        return end - start

    @property
    def finished_at(self) -> float | None:
        """When the job ended (seconds since the epoch), None while it has not."""
        return self._finished

    @property
    def error(self) -> dict | None:
        """``{"type", "message"}`` of a failed job, else None."""
        return self._error

    @property
    def exception(self) -> BaseException | None:
        """The exception a failed job raised (its traceback text is ``.traceback``)."""
        return self._exception

    def snapshot(self) -> dict:
        """Return the job as a JSON-safe dict (schema in :mod:`qmon_jupyter.core.snapshot`)."""
        with self._lock:
            return self._snapshot_locked()

    def _snapshot_locked(self) -> dict:
        state = self.tracker.state()
        status = self._status
        if status is JobStatus.COMPLETED:
            state["progress"] = 1.0
        eta = state["eta_s"] if self._eta_override is _UNSET else self._eta_override
        return make_snapshot(
            id=self.id,
            name=self.name,
            type=self.type.value,
            status=status.value,
            progress=state["progress"],
            done=state["done"],
            total=state["total"],
            unit=state["unit"],
            stage=state["stage"],
            message=self._message if self._message is not None else state["message"],
            rate=state["rate"] if status is JobStatus.RUNNING else None,
            eta_s=None if status in TERMINAL or status is JobStatus.PAUSED else eta,
            queue_position=self._queue_position,
            backend=self.backend,
            executor=self.executor,
            owner=self.owner,
            kernel_id=self.kernel_id,
            created_at=self._created,
            started_at=self._started,
            finished_at=self._finished,
            elapsed_s=self.elapsed_s,
            error=self._error,
            result_summary=self._summary,
            capabilities=self.capabilities,
            provider=dict(self._provider) if self._provider else None,
            seed=self.seed,
            updated_at=self._updated,
            **(self.extra or {}),
        )

    # -- waiting -------------------------------------------------------------
    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job ends; True if it did within ``timeout`` seconds."""
        return self.signals.wait_ended(timeout)

    def result(self, timeout: float | None = None) -> Result:
        """Return the job's :class:`Result`, waiting up to ``timeout`` seconds.

        Raises
        ------
        TimeoutError
            The job did not end in time.
        JobCancelled
            The job was cancelled.
        JobFailed
            The job failed; ``__cause__`` is the original exception and
            ``.traceback`` its formatted traceback.
        """
        if not self.signals.wait_ended(timeout):
            what = f"job {self.id} ({short_name(self.name)})"
            raise TimeoutError(f"{what} did not finish within {timeout} s")
        if self._status is JobStatus.CANCELLED:
            raise JobCancelled(self.id, self.signals.cancel_reason)
        if self._status is JobStatus.FAILED:
            error = self._error or {"type": "Error", "message": ""}
            raise JobFailed(
                self.id, error["type"], error["message"], self.traceback
            ) from self._exception
        assert self._result is not None
        return self._result

    # -- controls (delegate to the manager: one place for the rules) -------
    def cancel(self, reason: str | None = None) -> bool:
        """Stop the job (a queued job never starts); False if it already ended otherwise."""
        return self._manager("cancel")._cancel_job(self, reason)

    def pause(self) -> None:
        """Pause a running job between batches (cooperative for function jobs)."""
        self._manager("pause")._pause_job(self)

    def resume(self) -> None:
        """Resume a paused job."""
        self._manager("resume")._resume_job(self)

    def apply_external(
        self,
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
        """Apply what a provider reported (external jobs; see ``add_external_job``).

        Illegal moves are ignored with a debug log; a terminal state is final.
        ``...`` (the default) leaves ``queue_position``/``eta_s`` as they are.
        ``ran`` is the provider's own account of the run, ``(seconds it ran,
        time.monotonic() when it ended)``: the job's times once it ends.
        """
        self._manager("update")._update_external(
            self,
            status=status,
            progress=progress,
            queue_position=queue_position,
            message=message,
            stage=stage,
            eta_s=eta_s,
            provider=provider,
            result=result,
            error=error,
            ran=ran,
        )

    def _manager(self, action: str) -> JobManager:
        manager = self._manager_ref()
        if manager is None:
            raise RuntimeError(f"cannot {action} job {self.id}: its JobManager no longer exists")
        return manager

    # -- for the job layer -------------------------------------------------
    # As ``Future.set_result`` is for executors: the manager's lifecycle and
    # scheduler call these, the job's worker the waiting ones; users do not.
    # Each takes the job's lock; status changes also hold the manager's lock.
    @property
    def controller(self) -> Any:
        """What acts on a provider job (``cancel()``, ``pause()``...); None for local jobs."""
        return self._controller

    @property
    def provider(self) -> dict | None:
        """A copy of the provider's metadata (provider jobs), else None."""
        provider = self._provider
        return dict(provider) if provider else None

    @property
    def outcome(self) -> Result | None:
        """The :class:`Result` once the job completed, else None (never waits)."""
        return self._result

    @property
    def finished_mono(self) -> float | None:
        """``time.monotonic()`` when the job ended, None while it is active."""
        return self._finished_mono

    def publish(
        self, events: EventBus, kind: str, data: dict | None = None, *, if_active: bool = False
    ) -> None:
        """Publish ``kind`` with a snapshot, atomically with respect to status changes.

        Holding the job's lock while publishing keeps every subscriber's view
        in order: no progress event can carry an older status than the
        ``job.status`` event before it.
        """
        with self._lock:
            if if_active and self._status in TERMINAL:
                return
            events.publish(kind, job_id=self.id, snapshot=self._snapshot_locked(), data=data)

    def move(self, new: JobStatus, events: EventBus) -> bool:
        """Move to ``new`` if the table allows it and publish one ``job.status`` event.

        Legal when a path of allowed moves leads there through active states
        (a provider job first seen completed was running meanwhile); the
        event says what happened, ``from`` the old status ``to`` the new one.
        """
        with self._lock:
            return self._move_locked(new, events)

    def end(
        self,
        status: JobStatus,
        events: EventBus,
        *,
        result: Result | None = None,
        error: dict | None = None,
        exception: BaseException | None = None,
        traceback: str | None = None,
        reason: str | None = None,
    ) -> bool:
        """Record the outcome and move to the terminal ``status`` (False if refused).

        ``result`` for completed (an empty one if None), ``error`` (``{type,
        message}``), ``exception`` and ``traceback`` for failed, ``reason``
        for cancelled.
        """
        with self._lock:
            if not can_move(self._status, status):
                return False
            if status is JobStatus.CANCELLED:
                self._message = self.signals.cancel_reason or reason or "cancelled"
            elif status is JobStatus.FAILED:
                self._error = error or {"type": "Error", "message": reason or "failed"}
                self._exception = exception
                self.traceback = traceback
                self._message = None
            else:
                result = result or Result(job_id=self.id, elapsed_s=self.elapsed_s or 0.0)
                self._result = result
                if self._summary is None:
                    self._summary = summarize(result)
            return self._move_locked(status, events)

    def end_silently(self, error: dict, exception: BaseException, traceback: str) -> None:
        """Fail without an event: the last resort when publishing keeps raising."""
        with self._lock:
            self._error, self._exception, self.traceback = error, exception, traceback
            self._set_status_locked(JobStatus.FAILED, time.time(), via=())

    def set_queue_position(self, position: int | None) -> None:
        """Set where the job waits in the manager's queue (1 starts next)."""
        with self._lock:
            self._queue_position = position

    def set_summary(self, summary: dict) -> None:
        """Set the snapshot's ``result_summary`` (ranked once from the raw counts)."""
        with self._lock:
            self._summary = summary

    def note(self, message: str | None) -> None:
        """Show ``message`` instead of the tracker's (None: the tracker's again)."""
        with self._lock:
            self._message = message
            self._updated = time.time()

    def update_fields(
        self,
        *,
        queue_position: int | object | None = ...,
        eta_s: float | object | None = ...,
        message: str | None = None,
        provider: dict | None = None,
        ran: tuple[float, float] | None = None,
    ) -> None:
        """Apply a provider's fields (``...``/None leave one as it is); no event."""
        with self._lock:
            if ran is not None:
                self._ran = ran
            if provider:
                self._provider = {**(self._provider or {}), **provider}
            if queue_position is not ...:
                self._queue_position = queue_position  # type: ignore[assignment]
            if eta_s is not ...:
                self._eta_override = eta_s
            if message is not None:
                self._message = message
            self._updated = time.time()

    # -- internals ---------------------------------------------------------
    def _move_locked(self, new: JobStatus, events: EventBus) -> bool:
        old = self._status
        path = transition_path(old, new) if old is not new else None
        if not path:
            return False
        self._set_status_locked(new, time.time(), via=path)
        data = {"from": old.value, "to": new.value}
        events.publish("job.status", job_id=self.id, snapshot=self._snapshot_locked(), data=data)
        return True

    def _set_status_locked(self, new: JobStatus, now: float, via: tuple[JobStatus, ...]) -> None:
        self._status = new
        self._updated = now
        if JobStatus.RUNNING in via and self._started is None:
            self._started = now
            self._started_mono = time.monotonic()
            self.tracker.restart_clock()
        if new not in _WAITING:
            self._queue_position = None
        if new in TERMINAL:
            self._finished = now
            self._finished_mono = time.monotonic()
            if self._ran is not None:  # ended earlier than seen, after running this long
                seconds, ended = self._ran
                ago = max(0.0, self._finished_mono - ended)
                self._finished, self._finished_mono = now - ago, self._finished_mono - ago
                self._started = self._finished - seconds
                self._started_mono = self._finished_mono - seconds
            if self._started_mono is None:
                self._started_mono = self._finished_mono

    def __repr__(self) -> str:
        # What a terminal, a script or a front end without widgets shows.
        return (
            f"<ExecutionJob {short_name(self.name)!r} id={self.id} {self.type.value} "
            f"{self._status.value} {self.progress:.0%}>"
        )


_UNSET = object()
_WAITING = frozenset({JobStatus.PENDING, JobStatus.QUEUED})
