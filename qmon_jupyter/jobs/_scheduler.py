"""Admission and worker threads: which local job runs when, and on which thread.

At most ``max_concurrent_jobs`` local jobs hold a slot (running or paused);
the others wait in a queue, in submission order, with ``queue_position``
1..k. Worker threads are started on demand, reused when idle, and hold only
a weak reference to the scheduler (see :mod:`._threads`).
"""

from __future__ import annotations

import logging
import queue
import threading
import weakref
from collections import deque
from typing import TYPE_CHECKING

from qmon_jupyter.core.states import TERMINAL, JobStatus

from ._lifecycle import format_traceback
from ._threads import wake_threads, worker

if TYPE_CHECKING:
    from collections.abc import Callable

    from ._lifecycle import Lifecycle
    from .job import ExecutionJob, Result

    Work = Callable[[ExecutionJob], Result]

__all__ = ["Scheduler"]

logger = logging.getLogger(__name__)

_S = JobStatus
# When the queue moves, the first this-many queued jobs get a ``job.progress``
# event at once; deeper ones (whose new position matters less, and whose events
# would cost O(queue) per dequeue in a burst) are published by housekeeping at
# most every _QUEUE_REFRESH_S. Positions themselves are always exact.
_QUEUE_EVENT_LIMIT = 20
_QUEUE_REFRESH_S = 2.0


class Scheduler:
    """Gives local jobs their slots in order and runs them on worker threads.

    Parameters
    ----------
    lifecycle
        Moves the jobs (its ``lock``, the manager's, guards this
        scheduler's state too).
    max_concurrent_jobs
        Slots: local jobs running or paused at once.
    on_drained
        Called, outside the lock, when the last job ends after
        :meth:`shut_down` (the manager closes its executors then).
    """

    def __init__(
        self, lifecycle: Lifecycle, max_concurrent_jobs: int, on_drained: Callable[[], None]
    ) -> None:
        self._lifecycle = lifecycle
        self.lock = lifecycle.lock
        self.max_concurrent_jobs = max_concurrent_jobs
        self._on_drained = on_drained
        # Guarded by lock: queued jobs (next first) and their work, the number
        # of jobs holding a slot, whether shut down, the worker threads, and
        # whether deep queue positions changed since last published (see
        # _QUEUE_EVENT_LIMIT) and when they were.
        self._queue: deque[ExecutionJob] = deque()
        self._waiting_work: dict[str, Work] = {}
        self._running = 0
        self._shutdown = False
        self._threads: set[threading.Thread] = set()
        self._queue_stale = False
        self._queue_refreshed = 0.0
        # Jobs handed to workers (None wakes a worker to check for shutdown).
        self._work: queue.SimpleQueue[tuple[ExecutionJob, Work] | None] = queue.SimpleQueue()
        # Released by a worker when it goes idle; a new thread is only started
        # when no idle worker can take the job.
        self._idle = threading.Semaphore(0)
        # A forgotten scheduler (its manager was collected) wakes its workers so they exit.
        weakref.finalize(self, wake_threads, self._work, max_concurrent_jobs)

    # -------------------------------------------------------------- reading
    @property
    def is_shutdown(self) -> bool:
        """Whether :meth:`shut_down` was called."""
        return self._shutdown

    @property
    def threads(self) -> list[threading.Thread]:
        """The worker threads started so far."""
        with self.lock:
            return list(self._threads)

    def counts(self) -> tuple[int, int]:
        """Return ``(jobs holding a slot, jobs queued)``."""
        with self.lock:
            return self._running, len(self._queue)

    def check_open(self) -> None:
        """Raise RuntimeError after :meth:`shut_down` (callers check again under the lock)."""
        if self._shutdown:
            raise RuntimeError("cannot submit a job: this JobManager was shut down")

    # ------------------------------------------------------------ admission
    def admit(self, job: ExecutionJob, work: Work) -> None:
        """Register ``job`` and start it if a slot is free, else queue it."""
        with self.lock:
            self.check_open()  # again under the lock: shutdown may have won the race
            self._lifecycle.register_locked(job)
            if self._running < self.max_concurrent_jobs and not self._queue:
                self._start_locked(job, work)
            else:
                self._queue.append(job)
                self._waiting_work[job.id] = work
                job.set_queue_position(len(self._queue))
                self._lifecycle.move_locked(job, _S.QUEUED)

    def cancel(self, job: ExecutionJob, reason: str | None) -> bool:
        """Cancel a local job: at once if it waits, at its next check if it runs."""
        with self.lock:
            status = job.status
            if status in TERMINAL:
                return status is _S.CANCELLED
            job.signals.request_cancel(reason)
            if status in (_S.PENDING, _S.QUEUED):
                if job.id in self._waiting_work:
                    index = self._queue.index(job)
                    del self._queue[index]
                    del self._waiting_work[job.id]
                    self._renumber_locked(index)
                self._lifecycle.end_locked(job, _S.CANCELLED, reason=reason)
                self._stop_workers_if_idle_locked()
            else:
                # Running or paused: the worker stops at its next check and
                # ends the job (a parked worker was woken by request_cancel).
                job.note("cancelling…")
                job.publish(self._lifecycle.events, "job.progress")
        return True

    def shut_down(self, *, cancel_futures: bool, cancel_running: bool) -> bool:
        """Accept no more jobs, cancel those asked for; True if no local job is left."""
        with self.lock:
            self._shutdown = True
            doomed = [
                job
                for job in self._lifecycle.active.values()
                if job.controller is None
                and (
                    (cancel_futures and job.status in (_S.PENDING, _S.QUEUED))
                    or (cancel_running and job.status in (_S.RUNNING, _S.PAUSED))
                )
            ]
        for job in doomed:
            self.cancel(job, "manager shut down")
        with self.lock:
            self._stop_workers_if_idle_locked()
            return not self._running and not self._queue

    def refresh_deep_positions(self, now: float) -> None:
        """Publish the positions of deep queued jobs, at most every ``_QUEUE_REFRESH_S``."""
        if not self._queue_stale or now - self._queue_refreshed < _QUEUE_REFRESH_S:
            return
        with self.lock:
            self._queue_stale = False
            self._queue_refreshed = now
            events = self._lifecycle.events
            for index in range(_QUEUE_EVENT_LIMIT, len(self._queue)):
                self._queue[index].publish(events, "job.progress")

    # -------------------------------------------------------------- running
    def run(self, job: ExecutionJob, work: Work) -> None:
        """Run a local job on this worker thread and end it exactly once."""
        result: Result | None = None
        error: BaseException | None = None
        tb: str | None = None
        try:
            result = work(job)
        except BaseException as exc:  # a job never takes its worker down
            error = exc
            tb = format_traceback(exc)
        lifecycle = self._lifecycle
        with self.lock:
            try:
                # Decided under the lock, so a cancel() that returned True always
                # ends the job cancelled: a cancel requested before the job ends wins.
                if job.cancel_requested:
                    status = _S.CANCELLED
                elif error is not None:
                    status = _S.FAILED
                else:
                    status = _S.COMPLETED
                lifecycle.end_locked(job, status, result=result, error=error, tb=tb)
            except Exception as exc:
                logger.exception("ending job %s failed", job.id)
                lifecycle.fail_locked(job, exc)
            finally:
                self._running -= 1
                self._dispatch_locked()
                last = self._shutdown and not self._running and not self._queue
        if last:
            # shutdown(wait=False) left the executors to the last job to end
            self._on_drained()

    # ------------------------------------------------------------ internals
    def _start_locked(self, job: ExecutionJob, work: Work) -> None:
        self._lifecycle.move_locked(job, _S.RUNNING)
        self._running += 1
        self._work.put((job, work))
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
            job = self._queue.popleft()
            self._start_locked(job, self._waiting_work.pop(job.id))
            started = True
        if started:
            self._renumber_locked(0)
        self._stop_workers_if_idle_locked()

    def _renumber_locked(self, start: int) -> None:
        events = self._lifecycle.events
        for index in range(start, len(self._queue)):
            job = self._queue[index]
            if job.queue_position != index + 1:
                job.set_queue_position(index + 1)
                if index < _QUEUE_EVENT_LIMIT:
                    job.publish(events, "job.progress")
                else:
                    self._queue_stale = True

    def _stop_workers_if_idle_locked(self) -> None:
        if self._shutdown and not self._running and not self._queue:
            for _ in self._threads:
                self._work.put(None)
