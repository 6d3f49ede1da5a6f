"""The job manager: a scheduler and a lifecycle, composed, behind one public API.

Modelled on CPython's ``concurrent.futures.thread``: every lock says what it
guards, worker threads hold only a weak reference to their owner (a
forgotten manager's threads exit), ``submit`` after ``shutdown`` raises
``RuntimeError`` and ``shutdown(wait=True, *, cancel_futures=False)`` says what
it does to work not yet started.

The parts: :mod:`._factories` makes each kind of job, :mod:`._executors`
keeps the executors by name, :mod:`._scheduler` gives local jobs their slots
and threads, :mod:`._lifecycle` moves jobs through their states and carries
out their controls. Jobs own their state (:class:`ExecutionJob`).

Lock order (never the reverse): manager ``_lock`` -> a job's ``_lock`` ->
its tracker's lock; and manager ``_lock`` -> notification center -> event
bus. The jobs' shared condition and the executor registry's lock are
leaves. Event callbacks never run under these locks: the bus delivers them
on its own thread.
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any

from qmon_jupyter.core.identity import detect_kernel_id, detect_owner
from qmon_jupyter.core.states import TERMINAL, JobStatus, JobType

from ._executors import ExecutorRegistry
from ._factories import external_job, function_job, inline_job, simulation_job
from ._lifecycle import Lifecycle
from ._scheduler import Scheduler
from ._stats import job_stats
from ._threads import housekeeping_loop
from .events import EventBus
from .notifications import NotificationCenter
from .session import JobSession

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from qmon_jupyter.executors.base import Executor

    from .job import ExecutionJob

__all__ = ["JobManager"]

_S = JobStatus


class JobManager:
    """Runs and monitors jobs: simulations, functions, loops and provider jobs.

    Parameters
    ----------
    max_concurrent_jobs
        Local jobs running (or paused) at once; more are ``queued`` in order,
        ``queue_position`` 1 being the next to start.
    executor
        The default executor for simulations (a ``LocalExecutor`` if None);
        it is also registered under its ``name`` for ``submit(backend=...)``.
    cleanup_interval
        Seconds between automatic cleanups of finished jobs.
    max_finished_jobs, max_finished_age_s
        What a cleanup keeps: at most this many finished jobs, none older
        than this (None: no age limit).
    kernel_id, owner
        Shown in snapshots; detected when None.
    progress_interval
        Minimum seconds between two ``job.progress`` events of one job.
    checkpoint_interval
        Minimum seconds between two ``job.checkpoint`` events of one job
        (also emitted on pause and cancel; longer for large registers, so
        checkpoints take at most 1 % of a job's time).
    max_notifications
        Notifications kept (the oldest is evicted first).
    housekeeping_interval
        Seconds between housekeeping rounds (trailing progress events,
        notification expiry, the cleanup clock).
    check_memory
        Refuse simulations that cannot fit in memory (``ResourceError``).
    """

    def __init__(
        self,
        max_concurrent_jobs: int = 10,
        *,
        executor: Executor | None = None,
        cleanup_interval: float = 3600.0,
        max_finished_jobs: int = 10_000,
        max_finished_age_s: float | None = None,
        kernel_id: str | None = None,
        owner: str | None = None,
        progress_interval: float = 0.1,
        checkpoint_interval: float = 1.0,
        max_notifications: int = 100,
        housekeeping_interval: float = 0.25,
        check_memory: bool = True,
    ) -> None:
        if max_concurrent_jobs < 1:
            raise ValueError(f"max_concurrent_jobs must be at least 1, not {max_concurrent_jobs}")
        self.max_concurrent_jobs = max_concurrent_jobs
        self.cleanup_interval = cleanup_interval
        self.max_finished_jobs = max_finished_jobs
        self.max_finished_age_s = max_finished_age_s
        self.kernel_id = kernel_id or detect_kernel_id()
        self.owner = owner or detect_owner()
        self.progress_interval = progress_interval
        self.checkpoint_interval = checkpoint_interval
        self.check_memory = check_memory
        self.pid = os.getpid()
        self.events = EventBus()
        self.notifications = NotificationCenter(self.events, max_notifications=max_notifications)
        self._executors = ExecutorRegistry(executor)
        # Guards the lifecycle's job table, the scheduler's queue, slots and
        # threads, and every job's status: all transitions happen under it.
        self._lock = threading.Lock()
        # Shared by all jobs of this manager (their JobSignals): wakes wait()
        # callers when a job ends and parked workers on resume or cancel (a
        # leaf lock: nothing else is taken while it is held).
        self.job_condition = threading.Condition(threading.Lock())
        self._lifecycle = Lifecycle(self._lock, self.events, self.notifications)
        self._scheduler = Scheduler(
            self._lifecycle, max_concurrent_jobs, on_drained=self._executors.close_owned
        )
        self._started_at = time.monotonic()
        # Written by cleanup() (under _lock), read by housekeeping.
        self._last_cleanup = time.monotonic()
        self._stop = threading.Event()
        self._housekeeper = threading.Thread(
            target=housekeeping_loop,
            args=(weakref.WeakMethod(self._housekeep), self._stop, housekeeping_interval),
            name="qmon-housekeeping",
            daemon=True,
        )
        self._housekeeper.start()
        # A forgotten manager stops its housekeeper (the scheduler wakes its workers).
        weakref.finalize(self, self._stop.set)

    # ------------------------------------------------------------------ submit
    def submit(  # noqa: PLR0917 - the contract's positional order
        self,
        circuit: Any,
        shots: int = 1024,
        name: str | None = None,
        seed: int | None = None,
        batch_size: int | None = None,
        backend: str | None = None,
        start_batch: int = 0,
        initial_counts: Mapping[str, int] | None = None,
        *,
        resumed_from: str | None = None,
        precision: str = "double",
    ) -> ExecutionJob:
        """Simulate ``circuit`` on the engine as a monitored job; returns at once.

        ``circuit`` is a :class:`~qmon_jupyter.circuits.Circuit`, OpenQASM 2
        text or a Qiskit ``QuantumCircuit``. Without ``seed`` a random one is
        drawn (and shown in the snapshot), so every job can be reproduced and
        resumed. ``start_batch``/``initial_counts`` continue a checkpoint.
        ``precision`` is ``"double"`` (complex128) or ``"single"`` (complex64:
        half the memory, 30 qubits in 16 GiB).

        Raises
        ------
        ResourceError
            The simulation cannot fit in memory; nothing was started.
        RuntimeError
            The manager was shut down.
        """
        self._scheduler.check_open()
        job, work = simulation_job(
            self,
            circuit,
            shots=shots,
            name=name,
            seed=seed,
            batch_size=batch_size,
            executors=self._executors,
            backend=backend,
            start_batch=start_batch,
            initial_counts=initial_counts,
            resumed_from=resumed_from,
            precision=precision,
        )
        self._scheduler.admit(job, work)
        return job

    def submit_function(
        self,
        fn: Callable[..., Any],
        *args: Any,
        name: str | None = None,
        job_type: JobType | str = JobType.OPTIMIZATION,
        total: float | None = None,
        unit: str = "steps",
        **kwargs: Any,
    ) -> ExecutionJob:
        """Run ``fn(reporter, token, *args, **kwargs)`` as a monitored job.

        ``reporter`` has ``update(n=1)``, ``set(done, total=None)``,
        ``stage(name)``, ``message(text)``; ``token`` has ``cancelled`` and
        ``check()`` (raises ``JobCancelled`` once cancelled, blocks while
        paused). The return value is ``job.result().value``. Pause and
        cancel are cooperative: they act where ``fn`` calls ``check()``.
        """
        if not callable(fn):
            raise TypeError(f"submit_function needs a callable, not {type(fn).__name__}")
        self._scheduler.check_open()
        job, work = function_job(
            self, fn, args, kwargs, name=name, job_type=job_type, total=total, unit=unit
        )
        self._scheduler.admit(job, work)
        return job

    def add_external_job(
        self,
        *,
        name: str,
        backend: str,
        controller: Any,
        capabilities: Mapping[str, bool],
        job_type: JobType | str = JobType.HARDWARE,
        provider: dict | None = None,
        total: float | None = None,
        unit: str = "shots",
        job_id: str | None = None,
    ) -> ExecutionJob:
        """Add a job that runs elsewhere (a provider); its state comes from ``apply_external``.

        The job starts ``pending`` and takes no local slot. Its ``cancel()``,
        ``pause()`` and ``resume()`` call ``controller.cancel()`` (and
        ``pause()``/``resume()``) when ``capabilities`` allow it, else raise
        :class:`JobStateError` with the state unchanged; after a successful
        ``controller.cancel()`` the job is ``cancelled`` at once. ``job_id``
        keeps the id the job had in another kernel (ValueError if this manager has it).
        """
        self._scheduler.check_open()
        job = external_job(
            self,
            name=name,
            backend=backend,
            controller=controller,
            capabilities=capabilities,
            job_type=job_type,
            provider=provider,
            total=total,
            unit=unit,
            job_id=job_id,
        )
        with self._lock:
            self._scheduler.check_open()  # again under the lock: shutdown may have won the race
            if job.id in self._lifecycle.jobs:
                raise ValueError(f"this manager already has a job {job.id!r}")
            self._lifecycle.register_locked(job)
        return job

    def session(self, name: str = "session") -> JobSession:
        """Group the jobs started in ``with manager.session(name) as s:`` under one job.

        See :class:`~qmon_jupyter.jobs.session.JobSession`: the parent shows
        its children ended of started, their shots and the iteration count;
        cancelling it cancels them. Sessions nest.
        """
        self._scheduler.check_open()
        return JobSession(self, name)

    def _add_inline_job(
        self, *, name: str, total: float | None, unit: str, job_type: JobType
    ) -> ExecutionJob:
        """Add a job whose work runs in the caller's thread (``progress()`` loops).

        It is ``pending`` until :meth:`_start_inline`: a loop that is made but
        not (yet) iterated does not claim to run.
        """
        self._scheduler.check_open()
        job = inline_job(self, name=name, total=total, unit=unit, job_type=job_type)
        with self._lock:
            self._scheduler.check_open()  # again under the lock: shutdown may have won the race
            self._lifecycle.register_locked(job)
        return job

    def _start_inline(self, job: ExecutionJob) -> None:
        """Move a ``progress()`` loop's job to ``running`` at its first iteration."""
        with self._lock:
            if job.status is _S.PENDING:
                self._lifecycle.move_locked(job, _S.RUNNING)

    def _finish_inline(self, job: ExecutionJob, error: BaseException | None = None) -> None:
        """End a ``progress()`` loop's job."""
        self._lifecycle.finish_inline(job, error)

    # ---------------------------------------------------------------- reading
    def get(self, job_id: str) -> ExecutionJob:
        """Return the job with ``job_id``; KeyError naming the id if unknown."""
        with self._lock:
            job = self._lifecycle.jobs.get(job_id)
        if job is None:
            raise KeyError(f"no job with id {job_id!r}")
        return job

    def jobs(
        self,
        status: JobStatus | str | Iterable[JobStatus | str] | None = None,
        type: JobType | str | None = None,  # noqa: A002 - the contract's name
    ) -> list[ExecutionJob]:
        """Jobs in submission order, optionally filtered by status(es) and type."""
        statuses = _status_set(status)
        job_type = None if type is None else JobType(type)
        with self._lock:
            jobs = list(self._lifecycle.jobs.values())
        return [
            j
            for j in jobs
            if (statuses is None or j.status in statuses)
            and (job_type is None or j.type is job_type)
        ]

    def __contains__(self, job_id: object) -> bool:
        with self._lock:
            return job_id in self._lifecycle.jobs

    def stats(self) -> dict:
        """Return counts by status and type, durations, throughput and success rate.

        ``total`` equals the sum of ``by_status`` and of ``by_type``;
        ``removed`` counts jobs dropped by cleanups (not in the counts).
        """
        with self._lock:
            jobs = list(self._lifecycle.jobs.values())
            removed = self._lifecycle.removed
        return job_stats(jobs, removed=removed, since=self._started_at)

    # ---------------------------------------------------------------- actions
    def cancel(self, job_id: str, reason: str | None = None) -> bool:
        """Cancel the job ``job_id`` (see :meth:`ExecutionJob.cancel`)."""
        return self._cancel_job(self.get(job_id), reason)

    def pause(self, job_id: str) -> None:
        """Pause the job ``job_id`` (see :meth:`ExecutionJob.pause`)."""
        self._lifecycle.pause(self.get(job_id))

    def resume(self, job_id: str) -> None:
        """Resume the paused job ``job_id`` (see :meth:`ExecutionJob.resume`)."""
        self._lifecycle.resume(self.get(job_id))

    # What a job's own controls call (ExecutionJob.cancel, .pause, ...).
    def _cancel_job(self, job: ExecutionJob, reason: str | None = None) -> bool:
        if job.controller is not None:
            return self._lifecycle.cancel_external(job, reason)
        return self._scheduler.cancel(job, reason)

    def _pause_job(self, job: ExecutionJob) -> None:
        self._lifecycle.pause(job)

    def _resume_job(self, job: ExecutionJob) -> None:
        self._lifecycle.resume(job)

    def _update_external(self, job: ExecutionJob, **report: Any) -> None:
        self._lifecycle.apply_external(job, **report)

    def executors(self) -> list[Executor]:
        """Return the executors this manager can run simulations on now (each once).

        Those passed in or registered, and those it created for a
        ``backend=`` (which it closes on :meth:`shutdown`).
        """
        return self._executors.all()

    def register_executor(self, executor: Executor, *, default: bool = False) -> None:
        """Make ``executor`` available as ``submit(backend=executor.name)``."""
        self._executors.register(executor, default=default)

    def cleanup(self, now: float | None = None) -> int:
        """Forget finished jobs beyond ``max_finished_jobs`` or older than the age limit.

        Returns how many were removed (each gets a ``job.removed`` event).
        Jobs still held by the caller keep working as objects.
        """
        now_mono = time.monotonic() if now is None else now
        table = self._lifecycle
        with self._lock:
            finished = [j for j in table.jobs.values() if j.status in TERMINAL]
            finished.sort(key=lambda j: j.finished_mono or 0.0)
            drop: list[ExecutionJob] = []
            if self.max_finished_age_s is not None:
                drop = [
                    j
                    for j in finished
                    if now_mono - (j.finished_mono or 0.0) > self.max_finished_age_s
                ]
            keep = len(finished) - len(drop)
            if keep > self.max_finished_jobs:
                drop.extend(finished[len(drop) : len(drop) + keep - self.max_finished_jobs])
            table.forget_locked(drop)
            self._last_cleanup = time.monotonic()
        return len(drop)

    def shutdown(
        self, wait: bool = True, *, cancel_futures: bool = False, cancel_running: bool = False
    ) -> None:
        """Stop accepting jobs; what happens to the others is explicit.

        Parameters
        ----------
        wait
            Block until every local job has ended and the worker threads have
            exited (a paused job waits for ``resume``; cancel it to stop it).
        cancel_futures
            Cancel jobs not started yet (pending and queued); otherwise they
            still run, in order.
        cancel_running
            Also cancel running and paused local jobs (they stop within a
            batch); provider jobs are left to their providers.

        The executors the manager created itself (for ``submit(backend=...)``)
        are closed once no job runs on them any more: here with ``wait``,
        else when the last job ends. Executors passed in (``executor=``,
        :meth:`register_executor`) belong to the caller and stay open.
        """
        self._executors.stop_creating()
        idle = self._scheduler.shut_down(
            cancel_futures=cancel_futures, cancel_running=cancel_running
        )
        if not wait and idle:
            # Nothing runs on them any more; otherwise the last job to end closes them.
            self._executors.close_owned()
        if wait:
            for thread in self._scheduler.threads:
                if thread is not threading.current_thread():  # shutdown from inside a job
                    thread.join()
            self._stop.set()
            if self._housekeeper is not threading.current_thread():
                self._housekeeper.join(5.0)
            self._executors.close_owned()
            self.events.close(timeout=2.0)

    @property
    def is_shutdown(self) -> bool:
        """Whether :meth:`shutdown` was called."""
        return self._scheduler.is_shutdown

    def __enter__(self) -> JobManager:  # noqa: PYI034 - Self needs Python 3.11
        return self

    def __exit__(self, *exc: object) -> None:
        # As concurrent.futures: wait for the jobs submitted in the block.
        self.shutdown(wait=True)

    def __repr__(self) -> str:
        running, queued = self._scheduler.counts()
        return (
            f"<JobManager {len(self._lifecycle.jobs)} jobs, {running} running, "
            f"{queued} queued, kernel {self.kernel_id}>"
        )

    # -------------------------------------------------------------- internals
    def _housekeep(self) -> None:
        with self._lock:
            active = list(self._lifecycle.active.values())
        for job in active:
            job.tracker.flush()
        self.notifications.expire()
        now = time.monotonic()
        self._scheduler.refresh_deep_positions(now)
        if now - self._last_cleanup >= self.cleanup_interval:
            self.cleanup()


def _status_set(
    status: JobStatus | str | Iterable[JobStatus | str] | None,
) -> frozenset[JobStatus] | None:
    if status is None:
        return None
    if isinstance(status, (str, JobStatus)):
        return frozenset({JobStatus(status)})
    return frozenset(JobStatus(s) for s in status)
