"""The executors a manager runs simulations on, by name."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from qmon_jupyter.executors import LocalExecutor, create_executor

if TYPE_CHECKING:
    from qmon_jupyter.executors.base import Executor

__all__ = ["ExecutorRegistry", "executor_info_extra"]

logger = logging.getLogger(__name__)


class ExecutorRegistry:
    """Executors by name: those given (the caller's) and those created on demand (ours).

    Parameters
    ----------
    default
        The executor ``submit()`` uses without ``backend=`` (a ``LocalExecutor``
        if None); ``"local"`` always names a ``LocalExecutor``.
    """

    def __init__(self, default: Executor | None = None) -> None:
        default = default or LocalExecutor()
        # Guards _executors (name -> executor), _owned (those created here,
        # closed by close_owned), _default and _closed (no more creating).
        self._lock = threading.Lock()
        self._owned: list[Executor] = []
        self._executors: dict[str, Executor] = {"local": LocalExecutor(), default.name: default}
        self._default = default.name
        self._closed = False

    def get(self, backend: str | None) -> Executor:
        """Return the executor named ``backend`` (the default if None), creating it if needed.

        Raises
        ------
        RuntimeError
            It had to be created, and :meth:`stop_creating` was called.
        """
        with self._lock:
            name = backend or self._default
            executor = self._executors.get(name)
        if executor is not None:
            return executor
        # Created outside the lock: connecting to a cluster may take up to its
        # timeout, and other submits (other backends) must not wait for it.
        created = create_executor(name)
        with self._lock:
            executor = self._executors.get(name)
            if executor is None and not self._closed:
                self._executors[name] = executor = created
                self._owned.append(created)
                return created
        # Another submit installed one first, or the manager was shut down
        # meanwhile (its executors are closed): ours is not needed.
        close_quietly(created)
        if executor is None:
            raise RuntimeError("cannot submit a job: this JobManager was shut down")
        return executor

    def register(self, executor: Executor, *, default: bool = False) -> None:
        """Make ``executor`` available by its ``name`` (the caller keeps owning it)."""
        with self._lock:
            self._executors[executor.name] = executor
            if default:
                self._default = executor.name

    def all(self) -> list[Executor]:
        """Return every executor available now, each once."""
        with self._lock:
            found = list(self._executors.values())
        unique: dict[int, Executor] = {}
        for executor in found:
            unique.setdefault(id(executor), executor)
        return list(unique.values())

    def stop_creating(self) -> None:
        """Create no executor any more (the manager shuts down)."""
        with self._lock:
            self._closed = True

    def close_owned(self) -> None:
        """Close the executors created here (never those given)."""
        with self._lock:
            owned, self._owned = self._owned, []
        for executor in owned:
            close_quietly(executor)


def close_quietly(executor: Executor) -> None:
    """Close ``executor``, logging (not raising) what goes wrong."""
    try:
        executor.close()
    except Exception:  # one failing close must not skip the others
        logger.exception("closing executor %r failed", executor)


def executor_info_extra(executor: Executor) -> dict[str, Any]:
    """Return the snapshot key describing ``executor`` (its ``info``, if it has one)."""
    info = getattr(executor, "info", None)
    return {"executor_info": info} if callable(info) else {}
