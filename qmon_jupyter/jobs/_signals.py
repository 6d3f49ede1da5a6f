"""A job's cooperative signals: cancel asked for, paused, ended.

What the job's worker checks between batches and what ``wait()`` waits
for. Kept apart from the job's state (its own lock) because the worker
reads it on the hot path without taking any lock.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import threading
    from collections.abc import Callable

__all__ = ["JobSignals"]


class JobSignals:
    """Cancel requested, paused and ended flags of one job, and waiting on them.

    Parameters
    ----------
    cond
        The condition shared by a manager's jobs (one instead of events per
        job; a leaf lock: nothing else is taken while it is held). It guards
        every field here; reads without it are single attribute loads.
    """

    __slots__ = ("_cancel_reason", "_cancel_requested", "_cond", "_ended", "_paused")

    def __init__(self, cond: threading.Condition) -> None:
        self._cond = cond
        # True once the outcome is complete (after the terminal transition,
        # its event and its notification); wait() returns then.
        self._ended = False
        # Set when cancel is requested; a running job stops at its next check.
        self._cancel_requested = False
        self._cancel_reason: str | None = None
        # True while paused: workers park in wait_while_paused() between batches.
        self._paused = False

    @property
    def ended(self) -> bool:
        """Whether the job's outcome is complete."""
        return self._ended

    @property
    def cancel_requested(self) -> bool:
        """Whether cancel was asked for."""
        return self._cancel_requested

    @property
    def cancel_reason(self) -> str | None:
        """Why cancel was asked for, if a reason was given."""
        return self._cancel_reason

    @property
    def paused(self) -> bool:
        """Whether the worker parks at its next check."""
        return self._paused

    def request_cancel(self, reason: str | None) -> None:
        """Ask the job to stop (the first reason given is kept; a parked worker wakes)."""
        with self._cond:
            self._cancel_reason = self._cancel_reason or reason
            self._cancel_requested = True
            self._paused = False
            self._cond.notify_all()

    def set_paused(self, *, paused: bool) -> None:
        """Park (True) or release (False) the worker at its next check."""
        with self._cond:
            self._paused = paused
            self._cond.notify_all()

    def mark_ended(self) -> None:
        """Say the outcome is complete: waiters return, a parked worker wakes."""
        with self._cond:
            self._ended = True
            self._paused = False
            self._cond.notify_all()

    def wait_ended(self, timeout: float | None) -> bool:
        """Block until the job ended; True if it did within ``timeout`` seconds."""
        if self._ended:
            return True
        with self._cond:
            return self._cond.wait_for(lambda: self._ended, timeout)

    def wait_while_paused(self) -> None:
        """Block while paused (until resumed or cancelled); called by the job's worker."""
        if self._paused:
            with self._cond:
                self._cond.wait_for(lambda: not self._paused)

    def should_continue(self, on_pause: Callable[[], object] | None = None) -> bool:
        """Return False once cancelled; block while paused (calling ``on_pause`` first)."""
        if self._paused:
            if on_pause is not None:
                on_pause()
            self.wait_while_paused()
        return not self._cancel_requested
