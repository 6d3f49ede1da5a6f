"""JobWidget: one job's live status, progress, ETA and cancel; its outcome when done."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import traitlets

from qmon_jupyter.core.states import TERMINAL
from qmon_jupyter.kernel.session import kernel_shell

from ._base import QmonWidget, esm_source
from ._sync import get_publisher

if TYPE_CHECKING:
    from qmon_jupyter.jobs import ExecutionJob

__all__ = ["JobWidget", "job_mimebundle"]

_TERMINAL = frozenset(s.value for s in TERMINAL)


def newer(candidate: dict | None, current: dict | None) -> dict | None:
    """Return the later of two snapshots of one job.

    A terminal snapshot beats a non-terminal one (a job ends exactly once);
    otherwise the candidate wins unless it is older (events arrive in order,
    and two snapshots may share a millisecond).
    """
    if not candidate or not current:
        return candidate or current
    ended = candidate.get("status") in _TERMINAL, current.get("status") in _TERMINAL
    if ended[0] != ended[1]:
        return candidate if ended[0] else current
    older = (candidate.get("updated_at") or "") < (current.get("updated_at") or "")
    return current if older else candidate


def manager_of(job: Any) -> Any:
    """Return the JobManager a job belongs to (the process-wide one when the job does not say)."""
    ref = getattr(job, "_manager_ref", None)  # the job holds its manager weakly
    manager = ref() if callable(ref) else getattr(job, "manager", None)
    if manager is not None and hasattr(manager, "events"):
        return manager
    from qmon_jupyter.kernel import get_manager

    return get_manager()


class JobWidget(QmonWidget):
    """The live view of one job (what ``%%qmon`` and ``qmon.submit`` display).

    Parameters
    ----------
    job
        The ``ExecutionJob`` to follow.
    manager
        Its ``JobManager`` (found from the job when omitted).
    compact
        Draw one line instead of the card (what ``qmon.progress`` shows).
    """

    _esm = esm_source("job.js")

    #: The job's latest snapshot (schema version 1).
    job = traitlets.Dict().tag(sync=True)
    #: One line (status, name, bar, ETA, controls), as ``qmon.progress`` shows a loop.
    compact = traitlets.Bool(default_value=False).tag(sync=True)

    def __init__(self, job: ExecutionJob, *, manager: Any = None, compact: bool = False) -> None:
        self._job = job
        self._latest: dict | None = None
        super().__init__(job=job.snapshot(), compact=compact)
        self._manager = manager if manager is not None else manager_of(job)
        self._qmon_start(self._manager.events, job.id)
        # An event between the first snapshot and the subscription would be
        # lost: read the snapshot again now that events are flowing.
        self._latest = newer(job.snapshot(), self._latest)
        get_publisher().mark_dirty(self, urgent=self._latest.get("status") in _TERMINAL)

    @property
    def execution_job(self) -> ExecutionJob:
        """The job this widget follows."""
        return self._job

    def _qmon_on_event(self, event: dict) -> bool:
        snapshot = event.get("snapshot")
        if event.get("job_id") != self._job.id or not snapshot:
            return False
        self._latest = newer(snapshot, self._latest)
        return True

    def _qmon_state(self) -> dict[str, Any]:
        return {"job": self._latest or self.job}

    def _qmon_flush(self) -> None:
        super()._qmon_flush()
        if self.job.get("status") in _TERMINAL:
            # The final state is out: nothing more will change, stop listening.
            get_publisher().unregister(self)

    def _qmon_wants_heartbeat(self) -> bool:
        return self.job.get("status") not in _TERMINAL

    def _qmon_action(self, content: dict) -> str | None:
        action = content.get("action")
        if action not in self.ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        getattr(self._job, action)()
        return None

    def __repr__(self) -> str:
        return f"<JobWidget {self._job.id} {self.job.get('status')}>"


def job_mimebundle(job: ExecutionJob, **kwargs: Any) -> Any:
    """Return the display bundle of a live ``JobWidget`` for ``job``, or None outside a kernel.

    Meant for ``ExecutionJob._repr_mimebundle_``, so that a cell ending in
    ``qmon.submit(...)`` shows the job widget. Outside a Jupyter kernel (a
    plain IPython terminal, a script) it returns None and the caller's
    ``repr`` is used instead.
    """
    if kernel_shell() is None:
        return None
    return JobWidget(job)._repr_mimebundle_(**kwargs)
