"""``session(name)``: the jobs started inside a ``with`` block, grouped under one parent job.

The parent is a job of type ``session`` whose progress is its children
ended out of its children started (``done``/``total``, unit ``jobs``); its
message and ``result_summary`` count the iterations (children) and their
shots, and its ``elapsed_s`` runs from ``__enter__`` to the end. It
completes when the block was left and every child has ended, on whichever
thread ends last; the lifecycle tells it of each child under the manager's
lock, so the counts are exact however many threads end children at once.

Cancelling the session cancels each of its children that is still active
(once each) and ends the session ``cancelled``; a job started in a cancelled
session raises :class:`~qmon_jupyter.JobCancelled` instead of starting, which
stops the loop that starts it. A session has no work of its own to pause:
pause and resume are refused (:func:`~qmon_jupyter.core.actions.refusal`).

Sessions nest: a session started inside another is one child of it, and
its own jobs are its children (``parent_id`` names the nearest session).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import TYPE_CHECKING

from qmon_jupyter.core.states import TERMINAL, JobStatus, JobType
from qmon_jupyter.errors import JobCancelled, JobStateError

from ._parent import enter_parent, leave_parent
from ._result import Result

if TYPE_CHECKING:
    from collections.abc import Iterator
    from contextvars import Token
    from types import TracebackType

    from .job import ExecutionJob
    from .manager import JobManager

__all__ = ["JobSession"]

logger = logging.getLogger(__name__)

_CAPABILITIES = {"cancel": True, "pause": False, "queue_position": False, "eta": False}


class JobSession:
    """A group of jobs: each job started inside ``with`` is a child of :attr:`job`.

    Made by :meth:`JobManager.session <qmon_jupyter.jobs.JobManager.session>`
    (``qmon.session(name)`` on the kernel's manager). Threads started inside
    the block do not inherit it (context variables never cross threads): run
    their work inside ``with session.attach():``.
    """

    def __init__(self, manager: JobManager, name: str = "session") -> None:
        self._manager = manager
        self.name = name
        self.job: ExecutionJob | None = None
        self._token: Token | None = None
        # Guards every field below. A leaf: the lifecycle calls the *_locked
        # hooks holding the manager's lock, and nothing is taken under this one.
        self._lock = threading.Lock()
        self._children: list[ExecutionJob] = []
        self._ended = 0
        self._failed = 0
        self._shots = 0
        self._left = False  # the with block was left
        self._stopping = False  # cancelled, or the block raised: never completes
        self._finishing = False  # one caller (the last to see all ended) completes it

    # -- the with block ------------------------------------------------------
    def __enter__(self) -> JobSession:  # noqa: PYI034 - Self needs Python 3.11
        if self.job is not None:
            raise RuntimeError(f"session {self.name!r} was already entered; start a new one")
        self.job = self._manager.add_external_job(
            name=self.name,
            backend="local",
            controller=self,
            capabilities=_CAPABILITIES,
            job_type=JobType.SESSION,
            unit="jobs",
        )
        self.job.apply_external(status=JobStatus.RUNNING)
        self._token = enter_parent(self.job)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._token is not None:
            leave_parent(self._token)
            self._token = None
        job = self._entered("leave")
        if exc is None:
            with self._lock:
                self._left = True
                finish = self._should_finish_locked()
            if finish:
                job.apply_external(status=JobStatus.COMPLETED, result=self.result())
        elif isinstance(exc, (KeyboardInterrupt, JobCancelled)):
            job.cancel("interrupted" if isinstance(exc, KeyboardInterrupt) else None)
        else:
            self.cancel(f"session {self.name!r} failed")
            job.apply_external(status=JobStatus.FAILED, error=exc)

    @contextlib.contextmanager
    def attach(self) -> Iterator[JobSession]:
        """Make the jobs started in this block (in any thread) children of the session."""
        token = enter_parent(self._entered("attach to"))
        try:
            yield self
        finally:
            leave_parent(token)

    # -- reading -------------------------------------------------------------
    @property
    def iterations(self) -> int:
        """How many jobs were started in the session (each estimator call is one)."""
        with self._lock:
            return len(self._children)

    @property
    def shots(self) -> int:
        """The shots of the session's completed jobs, in all."""
        with self._lock:
            return self._shots

    def children(self) -> list[ExecutionJob]:
        """Return the session's jobs, in the order they started."""
        with self._lock:
            return list(self._children)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the session ended; True if it did within ``timeout`` seconds."""
        return self._entered("wait for").wait(timeout)

    def result(self) -> Result:
        """Return what the session adds up to: its jobs' shots (counts stay with each job)."""
        job = self._entered("read")
        return Result(job_id=job.id, shots=self.shots, elapsed_s=job.elapsed_s or 0.0)

    # -- control (the lifecycle calls it as the session job's controller) -----
    def cancel(self, reason: str | None = None) -> None:
        """Cancel every active child once; the lifecycle then ends the session cancelled."""
        name = self.job.name if self.job is not None else self.name
        with self._lock:
            self._stopping = True
            children = list(self._children)
        for child in children:
            if child.status in TERMINAL:
                continue
            try:
                child.cancel(reason or f"session {name!r} cancelled")
            except JobStateError as exc:  # a provider that cannot cancel: it runs on
                logger.warning("session %s: %s", name, exc)

    # -- hooks of the lifecycle (the manager's lock is held) ------------------
    def adopt_locked(self, child: ExecutionJob) -> None:
        """Count ``child`` as one of the session's jobs; raise if the session ended."""
        job = self._entered("start a job in")
        with self._lock:
            stopping = self._stopping
            if not stopping and job.status not in TERMINAL:
                self._children.append(child)
        if job.status is JobStatus.CANCELLED or stopping:
            raise JobCancelled(job.id, f"session {job.name!r} was cancelled")
        if job.status in TERMINAL:
            raise JobStateError(
                f"cannot start a job in session {job.name!r} ({job.id}): it is already {job.status}"
            )
        self._show()

    def child_ended_locked(self, child: ExecutionJob) -> Result | None:
        """Count ``child``'s end; the session's result when it should complete now."""
        outcome = child.outcome
        with self._lock:
            self._ended += 1
            self._failed += child.status is JobStatus.FAILED
            self._shots += outcome.shots if outcome is not None else 0
            finish = self._should_finish_locked()
        self._show()
        return self.result() if finish else None

    # -- internals -----------------------------------------------------------
    def _should_finish_locked(self) -> bool:
        if self._left and not self._stopping and not self._finishing:
            self._finishing = self._ended == len(self._children)
            return self._finishing
        return False

    def _show(self) -> None:
        job = self._entered("show")
        with self._lock:
            started, ended, failed, shots = (
                len(self._children),
                self._ended,
                self._failed,
                self._shots,
            )
        plural = "" if started == 1 else "s"
        line = f"{started} iteration{plural}, {shots:,} shots"
        job.note(f"{line}, {failed} failed" if failed else line)
        job.set_summary({"shots": shots, "iterations": started, "failed": failed})
        job.tracker.set(ended, total=started)

    def _entered(self, verb: str) -> ExecutionJob:
        if self.job is None:
            raise RuntimeError(f"cannot {verb} session {self.name!r}: use it as `with` first")
        return self.job

    def __repr__(self) -> str:
        state = self.job.status.value if self.job is not None else "not entered"
        return f"<JobSession {self.name!r} {state}, {self.iterations} jobs>"
