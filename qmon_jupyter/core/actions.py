"""What a user may do to a job, and the one set of rules and messages for refusing it.

The job layer (a live job) and the server (a stored snapshot) both ask
:func:`refusal` before acting, so a refused action reads the same from
Python, from the widget and from REST.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from .states import JobStatus, JobType

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["ACTIONS", "Action", "refusal"]


class Action(str, Enum):
    """A control a job may offer."""

    CANCEL = "cancel"
    PAUSE = "pause"
    RESUME = "resume"

    def __str__(self) -> str:
        return self.value


#: The job actions, as REST paths and store commands name them.
ACTIONS: tuple[str, ...] = tuple(a.value for a in Action)

#: action -> the statuses in which it does something or is a no-op (pausing a
#: paused job and resuming a running one change nothing).
ALLOWED_FROM: dict[Action, frozenset[JobStatus]] = {
    Action.CANCEL: frozenset(
        {JobStatus.PENDING, JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.PAUSED}
    ),
    Action.PAUSE: frozenset({JobStatus.RUNNING, JobStatus.PAUSED}),
    Action.RESUME: frozenset({JobStatus.PAUSED, JobStatus.RUNNING}),
}

#: action -> the capability a job needs for it
_CAPABILITY = {Action.CANCEL: "cancel", Action.PAUSE: "pause", Action.RESUME: "pause"}


def refusal(
    action: Action | str,
    *,
    job_id: str,
    status: JobStatus | str,
    capabilities: Mapping[str, bool],
    backend: str | None = None,
    why_ended: str | None = None,
    cancelling: bool = False,
    detached: bool = False,
    job_type: str | None = None,
) -> str | None:
    """Why ``action`` cannot be done to the job, or None when it may.

    Parameters
    ----------
    action
        ``cancel``, ``pause`` or ``resume``; anything else raises ValueError.
    job_id, backend
        Named in the message.
    status, capabilities
        The job's status and its ``capabilities`` (a missing one means no).
    why_ended
        For a finished job, what ended it (a failure's message), shown in brackets.
    cancelling
        Cancel was already asked for: the job may not be paused.
    detached
        A provider job whose kernel died (snapshot ``detached``): no kernel can act on it
        until ``qmon.reattach()`` follows it again.
    job_type
        The job's type: a session is cancelled (with its jobs) but not paused.
    """
    try:
        act = Action(action)
    except ValueError:
        raise ValueError(f"unknown action {action!r}; use one of {ACTIONS}") from None
    state = JobStatus(status)
    where = f" on {backend}" if backend else ""
    if state.is_terminal:
        detail = f" ({why_ended})" if why_ended else ""
        return f"cannot {act} job {job_id}: it is already {state}{detail}"
    special = _special_refusal(act, job_id, where, detached=detached, job_type=job_type)
    if special is not None:
        return special
    if not capabilities.get(_CAPABILITY[act], False):
        need = _CAPABILITY[act]
        why = f"not supported (its provider does not support {need})"
        return f"cannot {act} job {job_id}{where}: {why}"
    if act is Action.PAUSE and cancelling:
        return f"cannot pause job {job_id}: it is being cancelled"
    if state not in ALLOWED_FROM[act]:
        want = (
            "a running job can be paused" if act is Action.PAUSE else "a paused job can be resumed"
        )
        return f"cannot {act} job {job_id}: it is {state}; only {want}"
    return None


def _special_refusal(
    act: Action, job_id: str, where: str, *, detached: bool, job_type: str | None
) -> str | None:
    # the refusals of a detached job and of a session, whatever their status
    if detached:
        return (
            f"cannot {act} job {job_id}{where}: it is detached (its kernel died and no kernel"
            " follows it; it runs on at its provider); run qmon.reattach() in a kernel to"
            " follow and control it again"
        )
    if job_type == JobType.SESSION and act is not Action.CANCEL:
        return (
            f"cannot {act} session {job_id}: a session has no work of its own;"
            f" {act} its jobs one by one, or cancel the session to stop them all"
        )
    return None
