"""Function jobs: any callable ``fn(reporter, token, *args, **kwargs)``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qmon_jupyter.errors import JobCancelled

from .job import Result

if TYPE_CHECKING:
    from collections.abc import Callable

    from .job import ExecutionJob

__all__ = ["CancellationToken", "ProgressReporter", "run_function"]


class ProgressReporter:
    """What a function job uses to say how far it got.

    ``update(n=1)`` adds work done, ``set(done, total=None)`` sets it,
    ``stage(name)`` and ``message(text)`` describe it. Cheap enough to call
    every step: dashboard updates are throttled behind it.
    """

    __slots__ = ("_tracker",)

    def __init__(self, job: ExecutionJob) -> None:
        self._tracker = job.tracker

    def update(self, n: float = 1) -> None:
        """Add ``n`` units done."""
        self._tracker.update(n)

    def set(self, done: float, total: float | None = None) -> None:
        """Set the units done (and the total, if it changed or was unknown)."""
        self._tracker.set(done, total)

    def stage(self, name: str | None) -> None:
        """Name the current stage of the work."""
        self._tracker.set_stage(name)

    def message(self, text: str | None) -> None:
        """Show a short status line on the dashboard."""
        self._tracker.set_message(text)


class CancellationToken:
    """How a function job learns it should stop or wait.

    Call :meth:`check` at safe points (each iteration): it raises
    :class:`~qmon_jupyter.JobCancelled` once the job is cancelled and blocks
    while the job is paused. Or poll :attr:`cancelled` and return early.
    """

    __slots__ = ("_job_id", "_signals")

    def __init__(self, job: ExecutionJob) -> None:
        self._job_id = job.id
        self._signals = job.signals

    @property
    def cancelled(self) -> bool:
        """Whether the job was asked to stop."""
        return self._signals.cancel_requested

    @property
    def paused(self) -> bool:
        """Whether the job is paused (``check()`` would block)."""
        return self._signals.paused

    def check(self) -> None:
        """Raise ``JobCancelled`` if cancelled; block while paused."""
        signals = self._signals
        signals.wait_while_paused()  # until resume() or cancel()
        if signals.cancel_requested:
            raise JobCancelled(self._job_id, signals.cancel_reason)

    def should_continue(self) -> bool:
        """Return False once cancelled; block while paused (the engine's callback shape)."""
        return self._signals.should_continue()


def run_function(
    job: ExecutionJob, *, fn: Callable[..., Any], args: tuple, kwargs: dict[str, Any]
) -> Result:
    """Run ``fn(reporter, token, *args, **kwargs)``; its return value is ``Result.value``."""
    token = CancellationToken(job)
    token.check()  # paused or cancelled before it started
    value = fn(ProgressReporter(job), token, *args, **kwargs)
    job.tracker.finish()
    return Result(job_id=job.id, value=value, elapsed_s=job.elapsed_s or 0.0)
