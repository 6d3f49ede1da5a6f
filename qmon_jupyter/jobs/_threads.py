"""The manager's threads: workers and housekeeping, holding it only weakly.

As in CPython's ``concurrent.futures.thread``, a thread never keeps its
manager alive while idle: a forgotten manager is collected, its finalizer
wakes the threads, and they exit.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import queue
    import threading
    import weakref

    from .job import ExecutionJob
    from .manager import JobManager

__all__ = ["housekeeping_loop", "wake_threads", "worker"]

logger = logging.getLogger(__name__)


def worker(
    manager_ref: weakref.ReferenceType[JobManager],
    work: queue.SimpleQueue[ExecutionJob | None],
    idle: threading.Semaphore,
) -> None:
    """Run jobs handed over in ``work`` until woken with None after shutdown."""
    while True:
        job = work.get()
        if job is None:
            manager = manager_ref()
            if manager is None or manager._shutdown:
                return
            del manager
            continue
        manager = manager_ref()
        if manager is None:
            return
        try:
            manager._run_job(job)
        except Exception:
            logger.exception("qmon worker: unexpected error around job %s", job.id)
        del manager, job  # idle: hold nothing
        idle.release()


def housekeeping_loop(
    manager_ref: weakref.ReferenceType[JobManager], stop: threading.Event, interval: float
) -> None:
    """Every ``interval`` s: flush trailing progress, expire notifications, clean up."""
    while not stop.wait(interval):
        manager = manager_ref()
        if manager is None:
            return
        try:
            manager._housekeep()
        except Exception:
            logger.exception("qmon housekeeping failed")
        del manager


def wake_threads(work: queue.SimpleQueue, count: int, stop: threading.Event) -> None:
    """Wake the threads of a collected manager so they see it is gone (its finalizer)."""
    stop.set()
    for _ in range(count):
        work.put(None)
