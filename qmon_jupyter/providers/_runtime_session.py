"""qiskit-ibm-runtime's ``Session`` and ``Batch`` as qmon sessions, through autotrack's hooks.

``with Session(backend=...) as s:`` (or ``Batch``) opens a
:class:`~qmon_jupyter.jobs.JobSession` named after it (``"Session on
fake_manila"``) when the runtime's ``__enter__`` returns, and leaves it after
the runtime's ``__exit__``: the jobs autotrack follows meanwhile are its
children. A runtime session used without ``with`` (``close()`` by hand) is
not grouped. A failure here is logged; the runtime session works as before.
"""

from __future__ import annotations

import functools
import logging
import threading
import weakref
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from qmon_jupyter.jobs import JobManager, JobSession

__all__ = ["wrap_session_method"]

log = logging.getLogger(__name__)

# Guards _open: runtime session -> the qmon session it opened (ended with it).
_lock = threading.Lock()
_open: weakref.WeakKeyDictionary[Any, JobSession] = weakref.WeakKeyDictionary()


def wrap_session_method(
    attr: str, function: Callable, manager_of: Callable[[], JobManager | None]
) -> Callable:
    """Wrap ``Session.__enter__`` or ``Session.__exit__`` (``attr``) to open or leave a group.

    ``manager_of()`` is the manager tracked jobs go to now (None: autotrack is
    off, so nothing is grouped).
    """
    if attr == "__enter__":

        @functools.wraps(function)
        def enter(runtime_session: Any) -> Any:
            entered = function(runtime_session)
            manager = manager_of()
            if manager is not None:
                try:
                    group = manager.session(_name(runtime_session))
                    group.__enter__()
                except Exception:
                    log.exception("qmon autotrack: could not group %r", runtime_session)
                else:
                    with _lock:
                        _open[runtime_session] = group
            return entered

        return enter

    @functools.wraps(function)
    def leave(runtime_session: Any, *exc_info: Any) -> Any:
        try:
            return function(runtime_session, *exc_info)
        finally:
            with _lock:
                group = _open.pop(runtime_session, None)
            if group is not None:
                try:
                    group.__exit__(*exc_info)
                except Exception:
                    log.exception("qmon autotrack: could not end the group of %r", runtime_session)

    return leave


def _name(runtime_session: Any) -> str:
    try:
        backend = runtime_session.backend()
    except Exception:  # a name is not worth failing for
        backend = None
    return f"{type(runtime_session).__name__} on {backend or 'an unknown backend'}"
