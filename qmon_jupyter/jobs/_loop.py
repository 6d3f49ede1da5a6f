"""``progress(iterable)``: a loop in a cell as a monitored job of type analysis."""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from qmon_jupyter.core.states import JobStatus, JobType

from ._function import CancellationToken

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from types import TracebackType

    from .job import ExecutionJob
    from .manager import JobManager

__all__ = ["NOT_TO_THE_END", "MonitoredLoop"]

T = TypeVar("T")

#: why a loop's job is cancelled when its iterable was not used up
NOT_TO_THE_END = "not iterated to the end"


class MonitoredLoop(Generic[T]):
    """Iterate ``iterable`` as a monitored job: a drop-in for ``tqdm.notebook.tqdm``.

    The job is ``pending`` until the first item (or :meth:`update`), then
    ``running``; each finished iteration counts one step. When the iterable
    is exhausted the job completes. A loop left before its end (``break``,
    or garbage-collected, or its ``with`` block ended, without being used
    up) is cancelled with :data:`NOT_TO_THE_END` and where it stopped: it
    neither sits on the dashboard nor claims work it did not do.

    Cancel from the dashboard makes the loop raise
    :class:`~qmon_jupyter.JobCancelled` when it asks for its next item (the
    body of the current item is never interrupted); pause blocks it there
    until resumed. Inside ``with`` an exception in the body fails the job
    (``KeyboardInterrupt`` cancels it)::

        with qmon.progress(items, desc="scan") as loop:
            for item in loop:
                loop.set_postfix(loss=0.12)

    Without an iterable it counts what :meth:`update` reports, as tqdm does::

        with qmon.progress(total=100, desc="sweep") as bar:
            bar.update(10)
    """

    def __init__(
        self,
        iterable: Iterable[T] | None,
        manager: JobManager,
        *,
        name: str | None = None,
        total: float | None = None,
        unit: str = "iterations",
        job_type: JobType = JobType.ANALYSIS,
        on_end: Callable[[ExecutionJob], object] | None = None,
    ) -> None:
        if total is None and iterable is not None:
            try:
                total = len(iterable)  # type: ignore[arg-type]
            except TypeError:
                total = None  # a generator: progress shows a count and rate only
        self._iterable = iterable
        self._manager = manager
        self._on_end = on_end
        self.job: ExecutionJob = manager._add_inline_job(
            name=name or "loop", total=total, unit=unit, job_type=job_type
        )
        self._iterating = False
        self._entered = False
        self._exhausted = False
        weakref.finalize(self, _abandoned, manager, self.job)

    # -- tqdm's API ------------------------------------------------------
    def __iter__(self) -> Iterator[T]:
        if self._iterable is None:
            raise TypeError(f"progress {self.job.name!r} has no iterable: call update(n)")
        if self._iterating:
            raise RuntimeError(f"progress loop {self.job.name!r} can only be iterated once")
        self._iterating = True
        return self._run()

    def __len__(self) -> int:
        total = self.job.tracker.total
        if total is None:
            raise TypeError("this progress loop has no known length")
        return int(total)

    def update(self, n: float = 1) -> None:
        """Count ``n`` more units done (the job starts running at the first)."""
        self._manager._start_inline(self.job)
        CancellationToken(self.job).check()
        self.job.tracker.update(n)

    def set_postfix(self, ordered_dict: Mapping[str, Any] | None = None, **kwargs: Any) -> None:
        """Show ``key=value`` pairs as the job's message ("loss=0.1234, step=3")."""
        values = {**(ordered_dict or {}), **kwargs}
        self.job.tracker.set_message(", ".join(f"{k}={_short(v)}" for k, v in values.items()))

    def close(self) -> None:
        """End the job: completed when its work is done, else cancelled (not to the end)."""
        self._finish(None)

    # -- the loop ----------------------------------------------------------
    def _run(self) -> Iterator[T]:
        job = self.job
        token = CancellationToken(job)
        update = job.tracker.update
        error: BaseException | None = None
        try:
            self._manager._start_inline(job)
            iterator = iter(self._iterable)  # type: ignore[arg-type] - checked in __iter__
            while True:
                token.check()
                try:
                    item = next(iterator)
                except StopIteration:
                    self._exhausted = True
                    break
                yield item
                update(1)
        except GeneratorExit:
            pass  # left early: _finish says where
        except BaseException as exc:
            error = exc
            raise
        finally:
            # Inside ``with``, __exit__ knows whether the body raised: let it decide.
            if self._exhausted or error is not None or not self._entered:
                self._finish(error)

    def _finish(self, error: BaseException | None) -> None:
        job = self.job
        if job.status.is_terminal:
            return
        if error is None and not self._done():
            _abandoned(self._manager, job)
        else:
            self._manager._finish_inline(job, error)
        if self._on_end is not None:
            self._on_end(job)

    def _done(self) -> bool:
        if self._iterable is not None:
            return self._exhausted
        return self.job.status is not JobStatus.PENDING  # update() mode: done when closed

    def __enter__(self) -> MonitoredLoop[T]:
        self._entered = True
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._finish(exc)

    def __repr__(self) -> str:
        return f"<progress {self.job!r}>"

    def __getattr__(self, name: str) -> Any:
        # job-like conveniences: loop.status, loop.cancel(), ...
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.job, name)


def _short(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _abandoned(manager: JobManager, job: ExecutionJob) -> None:
    # also the weakref.finalize of a MonitoredLoop: a loop dropped before its end
    if job.status.is_terminal:
        return
    tracker = job.tracker
    of = f" of {tracker.total:g}" if tracker.total is not None else ""
    manager._cancel_job(job, f"{NOT_TO_THE_END}: stopped after {tracker.done:g}{of} {tracker.unit}")
    manager._finish_inline(job)  # a running loop has no worker to end it: end it here
