"""The job manager: admission, worker threads, the state machine, cleanup and stats.

Modelled on CPython's ``concurrent.futures.thread``: every lock says what it
guards, worker threads hold only a weak reference to their manager (a
forgotten manager's threads exit), ``submit`` after ``shutdown`` raises
``RuntimeError`` and ``shutdown(wait=True, *, cancel_futures=False)`` says what
it does to work not yet started.

Lock order (never the reverse): manager ``_lock`` -> a job's ``_lock`` ->
its tracker's lock; and manager ``_lock`` -> notification center -> event
bus. Event callbacks never run under these locks: the bus delivers them on
its own thread.
"""

from __future__ import annotations

import functools
import logging
import os
import queue
import secrets
import threading
import time
import traceback
import weakref
from collections import deque
from typing import TYPE_CHECKING, Any

from qmon_jupyter.core.identity import detect_kernel_id, detect_owner
from qmon_jupyter.core.states import TERMINAL, JobStatus, JobType, transition_path
from qmon_jupyter.errors import JobCancelled
from qmon_jupyter.executors import LocalExecutor, create_executor

from ._controls import JobControls
from ._function import run_function_job
from ._simulation import SimulationRun, SimulationSpec, run_simulation
from ._stats import job_stats
from ._threads import housekeeping_loop, wake_threads, worker
from .events import EventBus
from .job import ExecutionJob, Result
from .notifications import NotificationCenter
from .progress import ProgressTracker, SimulationProgressTracker

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from qmon_jupyter.executors.base import Executor

__all__ = ["JobManager"]

logger = logging.getLogger(__name__)

_S = JobStatus
# When the queue moves, the first this-many queued jobs get a ``job.progress``
# event at once; deeper ones (whose new position matters less, and whose events
# would cost O(queue) per dequeue in a burst) are published by housekeeping at
# most every _QUEUE_REFRESH_S. Positions themselves are always exact.
_QUEUE_EVENT_LIMIT = 20
_QUEUE_REFRESH_S = 2.0


class JobManager(JobControls):
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
        default = executor or LocalExecutor()
        # Guards _executors (name -> executor), _owned_executors (those this
        # manager created, and closes on shutdown) and _default_backend.
        self._executors_lock = threading.Lock()
        self._owned_executors: list[Executor] = []
        self._executors: dict[str, Executor] = {"local": LocalExecutor(), default.name: default}
        self._default_backend = default.name
        # Guards _jobs (id -> job, in submission order), _active (ids of jobs
        # not yet terminal), _queue (queued jobs, next first), _running (local
        # jobs holding a slot: running or paused), _shutdown, _threads,
        # _removed, every job's status and every job's _queue_position. All
        # status transitions happen under it, in _transition_locked.
        self._lock = threading.Lock()
        self._jobs: dict[str, ExecutionJob] = {}
        self._active: dict[str, ExecutionJob] = {}
        self._queue: deque[ExecutionJob] = deque()
        self._running = 0
        self._shutdown = False
        self._threads: set[threading.Thread] = set()
        self._removed = 0
        self._started_at = time.monotonic()
        # Jobs handed to workers (None wakes a worker to check for shutdown).
        self._work: queue.SimpleQueue[ExecutionJob | None] = queue.SimpleQueue()
        # Released by a worker when it goes idle; a new thread is only started
        # when no idle worker can take the job.
        self._idle = threading.Semaphore(0)
        # Shared by all jobs of this manager: wakes wait() callers when a job
        # ends and parked workers on resume or cancel (a leaf lock: nothing
        # else is taken while it is held).
        self._job_cond = threading.Condition(threading.Lock())
        self._last_cleanup = time.monotonic()
        # Deep queue positions changed since they were last published
        # (guarded by _lock; see _QUEUE_EVENT_LIMIT).
        self._queue_stale = False
        self._queue_refreshed = 0.0
        self._stop = threading.Event()
        self._housekeeper = threading.Thread(
            target=housekeeping_loop,
            args=(weakref.ref(self), self._stop, housekeeping_interval),
            name="qmon-housekeeping",
            daemon=True,
        )
        self._housekeeper.start()
        # A forgotten manager wakes its workers so they can exit.
        weakref.finalize(self, wake_threads, self._work, max_concurrent_jobs, self._stop)

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
    ) -> ExecutionJob:
        """Simulate ``circuit`` on the engine as a monitored job; returns at once.

        ``circuit`` is a :class:`~qmon_jupyter.circuits.Circuit`, OpenQASM 2
        text or a Qiskit ``QuantumCircuit``. Without ``seed`` a random one is
        drawn (and shown in the snapshot), so every job can be reproduced and
        resumed. ``start_batch``/``initial_counts`` continue a checkpoint.

        Raises
        ------
        ResourceError
            The simulation cannot fit in memory; nothing was started.
        RuntimeError
            The manager was shut down.
        """
        self._check_open()
        from qmon_jupyter.engine import prepare, validate_shots

        circ = _to_circuit(circuit)
        shots = validate_shots(shots)
        executor = self._executor_for(backend)
        plan = prepare(circ, check_memory=self.check_memory)
        sizes = [int(s) for s in plan.batch_sizes(shots, batch_size)]
        if not 0 <= start_batch <= len(sizes):
            msg = (
                f"start_batch must be in 0..{len(sizes)} ({len(sizes)} batches), not {start_batch}"
            )
            raise ValueError(msg)
        if seed is None:
            seed = secrets.randbits(32)  # 32 bits: exact in JSON numbers and JavaScript
        start_shots = sum(sizes[:start_batch])
        tracker = SimulationProgressTracker(
            shots, mode=plan.mode, start_shots=start_shots, update_interval=self.progress_interval
        )
        spec = SimulationSpec(
            circuit=circ,
            plan=plan,
            shots=shots,
            seed=seed,
            sizes=sizes,
            start_batch=start_batch,
            initial_counts=initial_counts,
            backend=executor.name,
        )
        job = ExecutionJob(
            self,
            name=name or circ.name or "simulation",
            job_type=JobType.SIMULATION,
            tracker=tracker,
            backend=executor.name,
            executor=executor.name,
            capabilities={"cancel": True, "pause": True, "queue_position": True, "eta": True},
            seed=seed,
            # Extra snapshot keys: the engine's memory estimate, the executor's
            # own description (asked at each snapshot: its worker count moves)
            # and where a resumed job came from.
            extra={"memory_bytes": int(plan.memory_bytes)}
            | _executor_info_extra(executor)
            | ({"resumed_from": resumed_from} if resumed_from else {}),
        )
        job._work = functools.partial(run_simulation, spec=spec, executor=executor)
        self._admit(job)
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
        self._check_open()
        tracker = ProgressTracker(total, unit=unit, update_interval=self.progress_interval)
        job = ExecutionJob(
            self,
            name=name or getattr(fn, "__name__", "function"),
            job_type=JobType(job_type),
            tracker=tracker,
            backend="local",
            executor="thread",
            capabilities={
                "cancel": True,
                "pause": True,
                "queue_position": True,
                "eta": total is not None,
            },
        )
        job._work = functools.partial(run_function_job, fn=fn, args=args, kwargs=kwargs)
        self._admit(job)
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
    ) -> ExecutionJob:
        """Add a job that runs elsewhere (a provider); its state comes from ``apply_external``.

        The job starts ``pending`` and takes no local slot. Its ``cancel()``,
        ``pause()`` and ``resume()`` call ``controller.cancel()`` (and
        ``pause()``/``resume()``) when ``capabilities`` allow it, else raise
        :class:`JobStateError` with the state unchanged; after a successful
        ``controller.cancel()`` the job is ``cancelled`` at once.
        """
        self._check_open()
        tracker = ProgressTracker(total, unit=unit, update_interval=self.progress_interval)
        job = ExecutionJob(
            self,
            name=name,
            job_type=JobType(job_type),
            tracker=tracker,
            backend=backend,
            executor=None,
            capabilities=dict(capabilities),
            provider=provider,
            controller=controller,
        )
        with self._lock:
            self._check_open()  # again under the lock: shutdown may have won the race
            self._register_locked(job)
        return job

    def _add_inline_job(
        self, *, name: str, total: float | None, unit: str, job_type: JobType
    ) -> ExecutionJob:
        """Add a job whose work runs in the caller's thread (``progress()`` loops)."""
        self._check_open()
        tracker = ProgressTracker(total, unit=unit, update_interval=self.progress_interval)
        job = ExecutionJob(
            self,
            name=name,
            job_type=job_type,
            tracker=tracker,
            backend="local",
            executor="inline",
            capabilities={"cancel": True, "pause": True, "queue_position": False, "eta": True},
        )
        with self._lock:
            self._check_open()  # again under the lock: shutdown may have won the race
            self._register_locked(job)
            self._transition_locked(job, _S.RUNNING)
        return job

    # ---------------------------------------------------------------- reading
    def get(self, job_id: str) -> ExecutionJob:
        """Return the job with ``job_id``; KeyError naming the id if unknown."""
        with self._lock:
            job = self._jobs.get(job_id)
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
            jobs = list(self._jobs.values())
        return [
            j
            for j in jobs
            if (statuses is None or j._status in statuses)
            and (job_type is None or j.type is job_type)
        ]

    def __contains__(self, job_id: object) -> bool:
        with self._lock:
            return job_id in self._jobs

    def stats(self) -> dict:
        """Return counts by status and type, durations, throughput and success rate.

        ``total`` equals the sum of ``by_status`` and of ``by_type``;
        ``removed`` counts jobs dropped by cleanups (not in the counts).
        """
        with self._lock:
            jobs = list(self._jobs.values())
            removed = self._removed
        return job_stats(jobs, removed=removed, since=self._started_at)

    # ---------------------------------------------------------------- actions
    def cancel(self, job_id: str, reason: str | None = None) -> bool:
        """Cancel the job ``job_id`` (see :meth:`ExecutionJob.cancel`)."""
        return self._cancel_job(self.get(job_id), reason)

    def pause(self, job_id: str) -> None:
        """Pause the job ``job_id`` (see :meth:`ExecutionJob.pause`)."""
        self._pause_job(self.get(job_id))

    def resume(self, job_id: str) -> None:
        """Resume the paused job ``job_id`` (see :meth:`ExecutionJob.resume`)."""
        self._resume_job(self.get(job_id))

    def executors(self) -> list[Executor]:
        """Return the executors this manager can run simulations on now (each once).

        Those passed in or registered, and those it created for a
        ``backend=`` (which it closes on :meth:`shutdown`).
        """
        with self._executors_lock:
            found = list(self._executors.values())
        unique: dict[int, Executor] = {}
        for executor in found:
            unique.setdefault(id(executor), executor)
        return list(unique.values())

    def register_executor(self, executor: Executor, *, default: bool = False) -> None:
        """Make ``executor`` available as ``submit(backend=executor.name)``."""
        with self._executors_lock:
            self._executors[executor.name] = executor
            if default:
                self._default_backend = executor.name

    def cleanup(self, now: float | None = None) -> int:
        """Forget finished jobs beyond ``max_finished_jobs`` or older than the age limit.

        Returns how many were removed (each gets a ``job.removed`` event).
        Jobs still held by the caller keep working as objects.
        """
        now_mono = time.monotonic() if now is None else now
        with self._lock:
            finished = [j for j in self._jobs.values() if j._status in TERMINAL]
            finished.sort(key=lambda j: j._finished_mono or 0.0)
            drop: list[ExecutionJob] = []
            if self.max_finished_age_s is not None:
                drop = [
                    j
                    for j in finished
                    if now_mono - (j._finished_mono or 0.0) > self.max_finished_age_s
                ]
            keep = len(finished) - len(drop)
            if keep > self.max_finished_jobs:
                drop.extend(finished[len(drop) : len(drop) + keep - self.max_finished_jobs])
            for job in drop:
                del self._jobs[job.id]
                self.events.publish(
                    "job.removed", job_id=job.id, data={"status": job._status.value}
                )
            self._removed += len(drop)
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
        with self._lock:
            self._shutdown = True
            doomed = []
            for job in self._active.values():
                if job._controller is not None:
                    continue
                if (cancel_futures and job._status in (_S.PENDING, _S.QUEUED)) or (
                    cancel_running and job._status in (_S.RUNNING, _S.PAUSED)
                ):
                    doomed.append(job)
        for job in doomed:
            self._cancel_job(job, "manager shut down")
        with self._lock:
            self._stop_workers_if_idle_locked()
            threads = list(self._threads)
            idle = not self._running and not self._queue
        if not wait and idle:
            # Nothing runs on them any more; otherwise the last job to end closes them.
            self._close_owned_executors()
        if wait:
            for thread in threads:
                if thread is not threading.current_thread():  # shutdown from inside a job
                    thread.join()
            self._stop.set()
            if self._housekeeper is not threading.current_thread():
                self._housekeeper.join(5.0)
            self._close_owned_executors()
            self.events.close(timeout=2.0)

    def _close_owned_executors(self) -> None:
        """Close the executors this manager created (never those it was given)."""
        with self._executors_lock:
            owned, self._owned_executors = self._owned_executors, []
        for executor in owned:
            _close_quietly(executor)

    @property
    def is_shutdown(self) -> bool:
        """Whether :meth:`shutdown` was called."""
        return self._shutdown

    def __enter__(self) -> JobManager:  # noqa: PYI034 - Self needs Python 3.11
        return self

    def __exit__(self, *exc: object) -> None:
        # As concurrent.futures: wait for the jobs submitted in the block.
        self.shutdown(wait=True)

    def __repr__(self) -> str:
        return (
            f"<JobManager {len(self._jobs)} jobs, {self._running} running, "
            f"{len(self._queue)} queued, kernel {self.kernel_id}>"
        )

    # -------------------------------------------------------------- internals
    def _check_open(self) -> None:
        if self._shutdown:
            raise RuntimeError("cannot submit a job: this JobManager was shut down")

    def _executor_for(self, backend: str | None) -> Executor:
        with self._executors_lock:
            name = backend or self._default_backend
            executor = self._executors.get(name)
        if executor is not None:
            return executor
        # Created outside the lock: connecting to a cluster may take up to its
        # timeout, and other submits (other backends) must not wait for it.
        created = create_executor(name)
        with self._executors_lock:
            executor = self._executors.get(name)
            if executor is None and not self._shutdown:
                self._executors[name] = executor = created
                self._owned_executors.append(created)
                return created
        # Another submit installed one first, or the manager was shut down
        # meanwhile (its executors are closed): ours is not needed.
        _close_quietly(created)
        if executor is None:
            raise RuntimeError("cannot submit a job: this JobManager was shut down")
        return executor

    def _register_locked(self, job: ExecutionJob) -> None:
        self._jobs[job.id] = job
        self._active[job.id] = job
        self._publish_locked("job.created", job)
        job.tracker.add_callback(functools.partial(_relay_progress, weakref.ref(self), job))

    def _admit(self, job: ExecutionJob) -> None:
        with self._lock:
            self._check_open()  # again under the lock: shutdown may have won the race
            self._register_locked(job)
            if self._running < self.max_concurrent_jobs and not self._queue:
                self._start_locked(job)
            else:
                self._queue.append(job)
                job._queue_position = len(self._queue)
                self._transition_locked(job, _S.QUEUED)

    def _start_locked(self, job: ExecutionJob) -> None:
        job._queue_position = None
        self._transition_locked(job, _S.RUNNING)
        self._running += 1
        self._work.put(job)
        self._adjust_threads_locked()

    def _adjust_threads_locked(self) -> None:
        if self._idle.acquire(timeout=0):
            return  # an idle worker will take it
        self._threads = {t for t in self._threads if t.is_alive()}
        if len(self._threads) < self.max_concurrent_jobs:
            thread = threading.Thread(
                target=worker,
                args=(weakref.ref(self), self._work, self._idle),
                name=f"qmon-worker-{len(self._threads)}",
                daemon=True,
            )
            thread.start()
            self._threads.add(thread)

    def _dispatch_locked(self) -> None:
        started = False
        while self._queue and self._running < self.max_concurrent_jobs:
            self._start_locked(self._queue.popleft())
            started = True
        if started:
            self._renumber_locked(0)
        self._stop_workers_if_idle_locked()

    def _renumber_locked(self, start: int) -> None:
        for index in range(start, len(self._queue)):
            job = self._queue[index]
            if job._queue_position != index + 1:
                job._queue_position = index + 1
                if index < _QUEUE_EVENT_LIMIT:
                    self._publish_locked("job.progress", job)
                else:
                    self._queue_stale = True

    def _stop_workers_if_idle_locked(self) -> None:
        if self._shutdown and not self._running and not self._queue:
            for _ in self._threads:
                self._work.put(None)

    def _publish_locked(self, kind: str, job: ExecutionJob, data: dict | None = None) -> None:
        job._publish(self.events, kind, data)

    def _transition_locked(self, job: ExecutionJob, new: JobStatus) -> bool:
        """Change a job's status: the one place it happens (table: ``states.TRANSITIONS``)."""
        try:
            moved = job._move(new, self.events)
        finally:
            # Reached the end (even if publishing it raised): done once, whatever raises.
            if job._status in TERMINAL and not job._ended:
                self._active.pop(job.id, None)
                try:
                    self._notify_end_locked(job)
                except Exception:  # a notification never keeps a job from ending
                    logger.exception("notifying the end of job %s failed", job.id)
                finally:
                    job._mark_ended()  # last: a waiter sees the whole outcome
        if not moved:
            logger.debug("refused transition of job %s from %s to %s", job.id, job._status, new)
        return moved

    def _end_locked(
        self,
        job: ExecutionJob,
        status: JobStatus,
        *,
        result: Result | None = None,
        error: BaseException | tuple[str, str] | None = None,
        tb: str | None = None,
        reason: str | None = None,
    ) -> bool:
        """End ``job`` with ``status`` (stepping through the table if needed)."""
        if job._status in TERMINAL:
            return False
        if status is _S.CANCELLED:
            job._cancel_reason = job._cancel_reason or reason
            job._message = job._cancel_reason or "cancelled"
        elif status is _S.FAILED:
            if isinstance(error, tuple):
                info, exc = {"type": str(error[0]), "message": str(error[1])}, None
            elif error is not None:
                info, exc = {"type": type(error).__name__, "message": str(error)}, error
            else:
                info, exc = {"type": "Error", "message": reason or "failed"}, None
            job._set_outcome(error=info, exception=exc, traceback=tb)
            job._message = None
        else:
            if result is None:
                result = Result(job_id=job.id, elapsed_s=job.elapsed_s or 0.0)
            job._set_outcome(result=result)
        for step in transition_path(job._status, status) or [status]:
            if not self._transition_locked(job, step):
                return False
        return True

    def _notify_end_locked(self, job: ExecutionJob) -> None:
        status = job._status
        elapsed = job.elapsed_s or 0.0
        if status is _S.COMPLETED:
            shots = job._result.shots if job._result is not None else 0
            what = f"{shots} shots" if shots else "done"
            self.notifications.notify(
                "success", f"{job.name} completed", f"{what} in {elapsed:.1f} s", job_id=job.id
            )
        elif status is _S.FAILED:
            error = job._error or {}
            self.notifications.notify(
                "error",
                f"{job.name} failed",
                f"{error.get('type', 'Error')}: {error.get('message', '')}",
                job_id=job.id,
            )
        else:
            self.notifications.notify(
                "warning", f"{job.name} cancelled", job._cancel_reason or "", job_id=job.id
            )

    def _run_job(self, job: ExecutionJob) -> None:
        """Run a local job on this worker thread and end it exactly once."""
        result: Result | None = None
        error: BaseException | None = None
        tb: str | None = None
        try:
            result = job._work(self, job)
        except BaseException as exc:  # a job never takes its worker down
            error = exc
            tb = "".join(traceback.format_exception(exc))
        if job._cancel_requested:
            try:
                self._checkpoint(job)  # outside the lock: formatting counts takes time
            except Exception:  # a lost checkpoint never keeps a job from ending
                logger.exception("checkpointing job %s failed", job.id)
        last = False
        try:
            with self._lock:
                try:
                    # Decided under the lock, so a cancel() that returned True always
                    # ends the job cancelled: a cancel requested before the job ends wins.
                    if job._cancel_requested:
                        status = _S.CANCELLED
                    elif error is not None:
                        status = _S.FAILED
                    else:
                        status = _S.COMPLETED
                    self._end_locked(job, status, result=result, error=error, tb=tb)
                except Exception as exc:
                    logger.exception("ending job %s failed", job.id)
                    self._fail_locked(job, exc)
                finally:
                    self._running -= 1
                    self._dispatch_locked()
                    last = self._shutdown and not self._running and not self._queue
            if last:
                # shutdown(wait=False) left the executors to the last job to end
                self._close_owned_executors()
        finally:
            # Drop the plan, circuit and cached state: finished jobs stay small.
            job._work = None
            job._run = None

    def _fail_locked(self, job: ExecutionJob, exc: BaseException) -> None:
        """End ``job`` failed with ``exc`` after ending it raised ``exc``, exactly once."""
        if job._status in TERMINAL:
            return  # it did end; only what followed (already logged) raised
        tb = "".join(traceback.format_exception(exc))
        try:
            self._end_locked(job, _S.FAILED, error=exc, tb=tb)
        except Exception:
            logger.exception("failing job %s failed", job.id)
        if job._status in TERMINAL:
            return
        # Last resort (publishing keeps raising): end it without an event.
        with job._lock:
            now = time.time()
            job._status = _S.FAILED
            job._updated = job._finished = now
            job._finished_mono = time.monotonic()
            if job._started_mono is None:
                job._started_mono = job._finished_mono
            job._queue_position = None
        info = {"type": type(exc).__name__, "message": str(exc)}
        job._set_outcome(error=info, exception=exc, traceback=tb)
        self._active.pop(job.id, None)
        job._mark_ended()

    def _finish_inline(self, job: ExecutionJob, error: BaseException | None = None) -> None:
        """End a ``progress()`` loop's job."""
        if job._status in TERMINAL:
            return
        tb = None if error is None else "".join(traceback.format_exception(error))
        if error is None:
            job.tracker.finish()
        with self._lock:
            if job._cancel_requested or isinstance(error, (JobCancelled, KeyboardInterrupt)):
                status = _S.CANCELLED
                if isinstance(error, KeyboardInterrupt):
                    job._cancel_reason = job._cancel_reason or "interrupted"
            elif error is not None:
                status = _S.FAILED
            else:
                status = _S.COMPLETED
            try:
                self._end_locked(job, status, error=error, tb=tb)
            except Exception as exc:
                logger.exception("ending job %s failed", job.id)
                self._fail_locked(job, exc)

    def _checkpoint(self, job: ExecutionJob) -> None:
        run = getattr(job, "_run", None)
        if run is not None:
            self._emit_checkpoint(run)

    def _emit_checkpoint(self, run: SimulationRun) -> None:
        if not self.events.has_subscribers("job.checkpoint"):
            return  # nobody keeps checkpoints: skip copying the counts
        batches_done, counts = run.checkpoint_data()
        data = {
            "spec": run.spec.checkpoint_spec(),
            "batches_done": batches_done,
            "counts": counts,
            "name": run.job.name,
        }
        run.job._publish(self.events, "job.checkpoint", data)

    def _housekeep(self) -> None:
        with self._lock:
            active = list(self._active.values())
        for job in active:
            job.tracker.flush()
        self.notifications.expire()
        now = time.monotonic()
        if self._queue_stale and now - self._queue_refreshed >= _QUEUE_REFRESH_S:
            with self._lock:
                self._queue_stale = False
                self._queue_refreshed = now
                for index in range(_QUEUE_EVENT_LIMIT, len(self._queue)):
                    self._publish_locked("job.progress", self._queue[index])
        if now - self._last_cleanup >= self.cleanup_interval:
            self.cleanup()


# ------------------------------------------------------------------ helpers
def _relay_progress(
    manager_ref: weakref.ReferenceType[JobManager], job: ExecutionJob, _tracker: object
) -> None:
    # Tracker callbacks are already throttled to progress_interval per job.
    manager = manager_ref()
    if manager is not None:
        job._publish(manager.events, "job.progress", if_active=True)


def _close_quietly(executor: Executor) -> None:
    try:
        executor.close()
    except Exception:  # one failing close must not skip the others
        logger.exception("closing executor %r failed", executor)


def _executor_info_extra(executor: Executor) -> dict[str, Any]:
    info = getattr(executor, "info", None)
    return {"executor_info": info} if callable(info) else {}


def _to_circuit(obj: Any) -> Any:
    from qmon_jupyter.circuits.ir import Circuit

    if isinstance(obj, Circuit):
        return obj
    from qmon_jupyter.circuits import to_circuit

    return to_circuit(obj)


def _status_set(
    status: JobStatus | str | Iterable[JobStatus | str] | None,
) -> frozenset[JobStatus] | None:
    if status is None:
        return None
    if isinstance(status, (str, JobStatus)):
        return frozenset({JobStatus(status)})
    return frozenset(JobStatus(s) for s in status)
