"""One monitored job: its state, progress, outcome and controls."""

from __future__ import annotations

import heapq
import threading
import time
import uuid
import weakref
from dataclasses import dataclass, field
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from qmon_jupyter.core.snapshot import TOP_OUTCOMES, make_snapshot
from qmon_jupyter.core.states import TERMINAL, JobStatus, JobType, can_transition
from qmon_jupyter.errors import JobCancelled, JobFailed

if TYPE_CHECKING:
    from .events import EventBus
    from .manager import JobManager
    from .progress import ProgressTracker

__all__ = ["ExecutionJob", "Result"]


@dataclass(frozen=True)
class Result:
    """What a finished job produced.

    Attributes
    ----------
    job_id
        The job's id.
    counts
        Outcome bitstring -> count (simulations and hardware jobs).
    shots
        Shots in ``counts``.
    seed
        The seed the job ran with (reproduces ``counts``).
    value
        What a function job returned.
    elapsed_s
        Seconds the job ran.
    """

    job_id: str
    counts: dict[str, int] = field(default_factory=dict)
    shots: int = 0
    seed: int | None = None
    value: Any = None
    elapsed_s: float = 0.0

    def top(self, n: int = TOP_OUTCOMES) -> list[tuple[str, int]]:
        """Return the ``n`` most frequent outcomes, most frequent first."""
        return heapq.nlargest(n, self.counts.items(), key=itemgetter(1))


def _summary(result: Result | None) -> dict | None:
    if result is None or (not result.counts and not result.shots):
        return None
    return {"top": [[k, int(v)] for k, v in result.top()], "shots": int(result.shots)}


class ExecutionJob:
    """A job on the dashboard: a simulation, a function, a loop or a provider job.

    Jobs are created by a :class:`~qmon_jupyter.jobs.JobManager`
    (``submit``, ``submit_function``, ``add_external_job``, ``progress``);
    every state change goes through the manager, which enforces
    :data:`~qmon_jupyter.core.states.TRANSITIONS` in one place.
    """

    # Slots keep 10,000 finished jobs small (no per-instance dict).
    __slots__ = (
        "__weakref__",
        "_cancel_reason",
        "_cancel_requested",
        "_cond",
        "_controller",
        "_created",
        "_ended",
        "_error",
        "_eta_override",
        "_exception",
        "_finished",
        "_finished_mono",
        "_lock",
        "_manager_ref",
        "_message",
        "_paused",
        "_provider",
        "_queue_position",
        "_result",
        "_run",
        "_started",
        "_started_mono",
        "_status",
        "_summary",
        "_updated",
        "_work",
        "backend",
        "capabilities",
        "executor",
        "extra",
        "id",
        "kernel_id",
        "name",
        "owner",
        "seed",
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
    ) -> None:
        self.id = uuid.uuid4().hex[:12]
        self.name = name or self.id
        self.type = JobType(job_type)
        self.backend = backend
        self.executor = executor
        self.owner = manager.owner
        self.kernel_id = manager.kernel_id
        self.seed = seed
        self.capabilities = capabilities
        self.tracker = tracker
        self.extra = extra
        # Weak: a job kept by a user does not keep its manager (and threads) alive.
        self._manager_ref = weakref.ref(manager)
        self._controller = controller
        self._work: Any = None  # set by the manager: how a local job runs
        self._run: Any = None  # a running simulation's batch control (checkpoints)
        # Guards _status, the timestamps, _result, _summary, _error,
        # traceback, _exception, _provider, _eta_override and _message.
        # Status changes additionally hold the manager's lock (taken first),
        # which also guards _queue_position.
        self._lock = threading.Lock()
        # Shared by the manager's jobs (one condition instead of events per
        # job): waiters for _ended, and workers parked while _paused.
        self._cond: threading.Condition = manager._job_cond
        self._status = JobStatus.PENDING
        self._created = time.time()
        self._started: float | None = None
        self._finished: float | None = None
        self._started_mono: float | None = None
        self._finished_mono: float | None = None
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
        # True once the outcome is complete (after the terminal transition,
        # its event and its notification); wait() returns then.
        self._ended = False
        # Set when cancel is requested; a running job stops at its next check.
        self._cancel_requested = False
        self._cancel_reason: str | None = None
        # True while paused: workers park in _wait_while_paused() between batches.
        self._paused = False

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
        if self._status in TERMINAL:
            return None
        return self.tracker.eta_s

    @property
    def queue_position(self) -> int | None:
        """1 for the next job to start; None when not queued (or unknown)."""
        return self._queue_position

    @property
    def done(self) -> bool:
        """Whether the job has ended (completed, failed or cancelled)."""
        return self._ended

    @property
    def manager(self) -> JobManager | None:
        """The manager the job belongs to (None once it was collected)."""
        return self._manager_ref()

    @property
    def cancel_requested(self) -> bool:
        """Whether cancel was asked for (the job may still be stopping)."""
        return self._cancel_requested

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
            eta_s=None if status in TERMINAL else eta,
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
        return self._wait_ended(timeout)

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
        if not self._wait_ended(timeout):
            raise TimeoutError(f"job {self.id} ({self.name}) did not finish within {timeout} s")
        if self._status is JobStatus.CANCELLED:
            raise JobCancelled(self.id, self._cancel_reason)
        if self._status is JobStatus.FAILED:
            error = self._error or {"type": "Error", "message": ""}
            raise JobFailed(
                self.id, error["type"], error["message"], self.traceback
            ) from self._exception
        assert self._result is not None
        return self._result

    # -- controls (delegate to the manager: one place for transitions) -----
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
    ) -> None:
        """Apply what a provider reported (external jobs; see ``add_external_job``).

        Illegal moves are ignored with a debug log; a terminal state is final.
        ``...`` (the default) leaves ``queue_position``/``eta_s`` as they are.
        """
        self._manager("update").apply_external(
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
        )

    # -- internals (called by the manager, under its lock) ----------------
    def _manager(self, action: str) -> JobManager:
        manager = self._manager_ref()
        if manager is None:
            raise RuntimeError(f"cannot {action} job {self.id}: its JobManager no longer exists")
        return manager

    def _publish(
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

    def _move(self, new: JobStatus, events: EventBus) -> bool:
        """Apply a transition if the table allows it and publish ``job.status``.

        The caller holds the manager's lock; this is only called from
        ``JobManager._transition_locked``.
        """
        with self._lock:
            old = self._status
            if not can_transition(old, new):
                return False
            now = time.time()
            self._status = new
            self._updated = now
            if new is JobStatus.RUNNING and self._started is None:
                self._started = now
                self._started_mono = time.monotonic()
                self.tracker.restart_clock()
            if new in TERMINAL:
                self._finished = now
                self._finished_mono = time.monotonic()
                if self._started_mono is None:
                    self._started_mono = self._finished_mono
                self._queue_position = None
            data = {"from": old.value, "to": new.value}
            events.publish(
                "job.status", job_id=self.id, snapshot=self._snapshot_locked(), data=data
            )
            return True

    def _wait_ended(self, timeout: float | None) -> bool:
        if self._ended:
            return True
        with self._cond:
            return self._cond.wait_for(lambda: self._ended, timeout)

    def _mark_ended(self) -> None:
        with self._cond:
            self._ended = True
            self._paused = False
            self._cond.notify_all()

    def _set_paused(self, *, paused: bool) -> None:
        with self._cond:
            self._paused = paused
            self._cond.notify_all()

    def _request_cancel(self, reason: str | None) -> None:
        with self._cond:
            self._cancel_reason = self._cancel_reason or reason
            self._cancel_requested = True
            self._paused = False  # a paused worker wakes up to stop
            self._cond.notify_all()

    def _wait_while_paused(self) -> None:
        """Block while paused (until resumed or cancelled); called by the job's worker."""
        if self._paused:
            with self._cond:
                self._cond.wait_for(lambda: not self._paused)

    def _set_outcome(
        self,
        *,
        result: Result | None = None,
        error: dict | None = None,
        exception: BaseException | None = None,
        traceback: str | None = None,
    ) -> None:
        with self._lock:
            if result is not None:
                self._result = result
                if self._summary is None:
                    self._summary = _summary(result)
            if error is not None:
                self._error = error
                self._exception = exception
                self.traceback = traceback

    def __repr__(self) -> str:
        # What a terminal, a script or a front end without widgets shows.
        return (
            f"<ExecutionJob {self.name!r} id={self.id} {self.type.value} "
            f"{self._status.value} {self.progress:.0%}>"
        )


_UNSET = object()
