"""The manager's threads: workers and housekeeping, holding their owner only weakly.

As in CPython's ``concurrent.futures.thread``, a thread never keeps its
owner alive while idle: a forgotten manager is collected, its finalizers
wake the threads, and they exit.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import queue
    import threading
    import weakref
    from collections.abc import Callable

    from ._scheduler import Scheduler
    from .job import ExecutionJob

__all__ = ["housekeeping_loop", "wake_threads", "worker"]

logger = logging.getLogger(__name__)


def worker(
    scheduler_ref: weakref.ReferenceType[Scheduler],
    work: queue.SimpleQueue[tuple[ExecutionJob, Callable] | None],
    idle: threading.Semaphore,
) -> None:
    """Run jobs handed over in ``work`` until woken with None after shutdown."""
    while True:
        item = work.get()
        if item is None:
            scheduler = scheduler_ref()
            if scheduler is None or scheduler.is_shutdown:
                return
            del scheduler
            continue
        scheduler = scheduler_ref()
        if scheduler is None:
            return
        job, run = item
        try:
            scheduler.run(job, run)
        except Exception:
            logger.exception("qmon worker: unexpected error around job %s", job.id)
        del scheduler, job, run, item  # idle: hold nothing
        idle.release()


def housekeeping_loop(
    housekeep_ref: weakref.WeakMethod[Callable[[], None]],
    stop: threading.Event,
    interval: float,
) -> None:
    """Every ``interval`` s: flush trailing progress, expire notifications, clean up."""
    while not stop.wait(interval):
        housekeep = housekeep_ref()
        if housekeep is None:
            return
        try:
            housekeep()
        except Exception:
            logger.exception("qmon housekeeping failed")
        del housekeep


def wake_threads(work: queue.SimpleQueue, count: int) -> None:
    """Wake the workers of a collected scheduler so they see it is gone (its finalizer)."""
    for _ in range(count):
        work.put(None)
