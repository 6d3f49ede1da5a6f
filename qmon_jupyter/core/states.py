"""Job states and types, and the one table of allowed transitions."""

from __future__ import annotations

import functools
from collections import deque
from enum import Enum

__all__ = [
    "ACTIVE",
    "TERMINAL",
    "TRANSITIONS",
    "JobStatus",
    "JobType",
    "can_move",
    "can_transition",
    "transition_path",
]


class JobStatus(str, Enum):
    """Where a job is in its life. The value is what snapshots carry."""

    PENDING = "pending"
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    def __str__(self) -> str:
        return self.value

    @property
    def is_terminal(self) -> bool:
        """A terminal state is final: a job ends exactly once."""
        return self in TERMINAL


class JobType(str, Enum):
    """What kind of work a job is."""

    SIMULATION = "simulation"
    HARDWARE = "hardware"
    OPTIMIZATION = "optimization"
    ANALYSIS = "analysis"
    #: a group of jobs (``qmon.session``): its progress is its jobs ended
    SESSION = "session"

    def __str__(self) -> str:
        return self.value


TERMINAL = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})
ACTIVE = frozenset(JobStatus) - TERMINAL

_S = JobStatus
#: state -> states it may move to. Everything else is refused.
TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    _S.PENDING: frozenset({_S.QUEUED, _S.RUNNING, _S.CANCELLED, _S.FAILED}),
    _S.QUEUED: frozenset({_S.RUNNING, _S.CANCELLED, _S.FAILED}),
    _S.RUNNING: frozenset({_S.PAUSED, _S.COMPLETED, _S.CANCELLED, _S.FAILED}),
    _S.PAUSED: frozenset({_S.RUNNING, _S.CANCELLED, _S.FAILED}),
    _S.COMPLETED: frozenset(),
    _S.FAILED: frozenset(),
    _S.CANCELLED: frozenset(),
}


def can_transition(old: JobStatus, new: JobStatus) -> bool:
    """Whether a job in ``old`` may move to ``new``."""
    return new in TRANSITIONS[old]


@functools.lru_cache(maxsize=64)
def transition_path(old: JobStatus, new: JobStatus) -> tuple[JobStatus, ...] | None:
    """Shortest sequence of allowed moves from ``old`` to ``new`` (None if none)."""
    if old is new:
        return ()
    frontier = deque([(old, ())])
    seen = {old}
    while frontier:
        state, steps = frontier.popleft()
        for nxt in sorted(TRANSITIONS[state], key=lambda s: s.value):
            if nxt in seen:
                continue
            route = (*steps, nxt)
            if nxt is new:
                return route
            if nxt in ACTIVE:  # never route through a terminal state
                seen.add(nxt)
                frontier.append((nxt, route))
    return None


def can_move(old: JobStatus, new: JobStatus) -> bool:
    """Whether a job may be moved from ``old`` to ``new`` (directly or through a path)."""
    return old is not new and bool(transition_path(old, new))
