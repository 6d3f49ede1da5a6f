"""``progress(iterable)``: a loop in a cell as a monitored job of type analysis."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from qmon_jupyter.core.states import JobStatus, JobType

from ._function import CancellationToken

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator
    from types import TracebackType

    from .job import ExecutionJob
    from .manager import JobManager

__all__ = ["MonitoredLoop"]

T = TypeVar("T")

NEVER_ITERATED = "the progress loop was never iterated"


class MonitoredLoop(Generic[T]):
    """Iterate ``iterable`` as a monitored job (tqdm-like).

    The job is ``pending`` until the loop asks for its first item, then
    ``running``; each finished iteration counts one step. A loop that is
    garbage-collected, or whose ``with`` block ends, without ever being
    iterated is cancelled (:data:`NEVER_ITERATED`): it does not sit on the
    dashboard, nor claim work it did not do. Cancel from the dashboard makes the loop raise
    :class:`~qmon_jupyter.JobCancelled` when it asks for its next item (the
    body of the current item is never interrupted); pause blocks it there
    until resumed. When the iterable is exhausted the job completes.

    Leaving the loop early (``break``, or an exception in the loop body)
    closes the generator; Python does not tell a generator which of the two
    happened, so the job then completes with a message saying where it
    stopped. Use it as a context manager to have exceptions recorded too::

        with qmon.progress(items, name="scan") as loop:
            for item in loop:
                ...

    Then an exception fails the job (``KeyboardInterrupt`` cancels it).
    """

    def __init__(
        self,
        iterable: Iterable[T],
        manager: JobManager,
        *,
        name: str | None = None,
        total: float | None = None,
        unit: str = "iterations",
        job_type: JobType = JobType.ANALYSIS,
    ) -> None:
        if total is None:
            try:
                total = len(iterable)  # type: ignore[arg-type]
            except TypeError:
                total = None  # a generator: progress shows a count and rate only
        self._iterable = iterable
        self._manager = manager
        self.job: ExecutionJob = manager._add_inline_job(
            name=name or "loop", total=total, unit=unit, job_type=job_type
        )
        self._iterating = False
        self._entered = False
        weakref.finalize(self, _never_iterated, manager, self.job)

    def __iter__(self) -> Iterator[T]:
        if self._iterating:
            raise RuntimeError(f"progress loop {self.job.name!r} can only be iterated once")
        self._iterating = True
        return self._run()

    def __len__(self) -> int:
        total = self.job.tracker.total
        if total is None:
            raise TypeError("this progress loop has no known length")
        return int(total)

    def _run(self) -> Iterator[T]:
        job = self.job
        token = CancellationToken(job)
        update = job.tracker.update
        error: BaseException | None = None
        left_early = False
        try:
            self._manager._start_inline(job)
            iterator = iter(self._iterable)
            while True:
                token.check()
                try:
                    item = next(iterator)
                except StopIteration:
                    break
                yield item
                update(1)
        except GeneratorExit:
            left_early = True
            done, total = job.tracker.done, job.tracker.total
            of = f" of {total:g}" if total is not None else ""
            job.note(f"loop left after {done:g}{of} {job.tracker.unit}")
            raise
        except BaseException as exc:
            error = exc
            raise
        finally:
            # Inside ``with``, __exit__ knows whether the body raised: let it decide.
            if not (left_early and self._entered):
                self._manager._finish_inline(job, error)

    def __enter__(self) -> MonitoredLoop[T]:
        self._entered = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None and self.job.status is JobStatus.PENDING:
            _never_iterated(self._manager, self.job)
        self._manager._finish_inline(self.job, exc)

    def __repr__(self) -> str:
        return f"<progress {self.job!r}>"

    def __getattr__(self, name: str) -> Any:
        # job-like conveniences: loop.status, loop.cancel(), ...
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.job, name)


def _never_iterated(manager: JobManager, job: ExecutionJob) -> None:
    # weakref.finalize of a MonitoredLoop: a job still pending was never iterated
    if job.status is JobStatus.PENDING:
        manager._cancel_job(job, NEVER_ITERATED)
