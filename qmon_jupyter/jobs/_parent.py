"""The session jobs started now belong to: a context variable, so each thread and task has its own.

A thread does not inherit it from the thread that started it (as with every
context variable): run its work in ``contextvars.copy_context()`` or inside
``with session.attach():`` to make its jobs children of the session.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .job import ExecutionJob

__all__ = ["current_parent", "enter_parent", "leave_parent"]

_current: ContextVar[ExecutionJob | None] = ContextVar("qmon_parent_job", default=None)


def current_parent() -> ExecutionJob | None:
    """Return the session job that jobs started here belong to, or None (top level)."""
    return _current.get()


def enter_parent(job: ExecutionJob) -> Token:
    """Make ``job`` the parent of the jobs started in this context; returns the reset token."""
    return _current.set(job)


def leave_parent(token: Token) -> None:
    """Undo the :func:`enter_parent` that returned ``token``."""
    _current.reset(token)
