"""A qmon job seen through Qiskit's job interfaces."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qiskit.primitives.base.base_primitive_job import BasePrimitiveJob
from qiskit.providers import JobStatus as QiskitStatus

from qmon_jupyter.core.states import JobStatus

if TYPE_CHECKING:
    from collections.abc import Callable

    from qmon_jupyter.jobs import ExecutionJob

__all__ = ["QmonPrimitiveJob", "qiskit_status", "start_job"]

_STATUS = {
    JobStatus.PENDING: QiskitStatus.INITIALIZING,
    JobStatus.QUEUED: QiskitStatus.QUEUED,
    JobStatus.RUNNING: QiskitStatus.RUNNING,
    JobStatus.PAUSED: QiskitStatus.RUNNING,
    JobStatus.COMPLETED: QiskitStatus.DONE,
    JobStatus.FAILED: QiskitStatus.ERROR,
    JobStatus.CANCELLED: QiskitStatus.CANCELLED,
}


def qiskit_status(job: ExecutionJob) -> QiskitStatus:
    """Return the Qiskit ``JobStatus`` of a qmon job (paused counts as running)."""
    return _STATUS[job.status]


def start_job(
    manager: Any,
    work: Callable[..., Any],
    *,
    name: str,
    total: float,
    unit: str,
) -> ExecutionJob:
    """Run ``work(reporter, token)`` as one monitored simulation job of ``manager``."""
    if manager is None:
        from qmon_jupyter.kernel import get_manager

        manager = get_manager()
    return manager.submit_function(work, name=name, job_type="simulation", total=total, unit=unit)


class QmonPrimitiveJob(BasePrimitiveJob):
    """The job a ``QmonSampler`` or ``QmonEstimator`` returns: a qmon job underneath.

    ``result()`` waits for the ``PrimitiveResult``; a cancelled or failed qmon
    job raises :class:`~qmon_jupyter.JobCancelled` or
    :class:`~qmon_jupyter.JobFailed`. ``qmon_job`` is the dashboard's job.
    """

    def __init__(self, job: ExecutionJob) -> None:
        super().__init__(job.id)
        self.qmon_job = job

    def result(self, timeout: float | None = None) -> Any:
        """Return the ``PrimitiveResult`` (waits up to ``timeout`` seconds)."""
        return self.qmon_job.result(timeout).value

    def status(self) -> QiskitStatus:
        """Return Qiskit's status of the job."""
        return qiskit_status(self.qmon_job)

    def done(self) -> bool:
        """Whether the job completed."""
        return self.qmon_job.status is JobStatus.COMPLETED

    def running(self) -> bool:
        """Whether the job runs (or is paused)."""
        return self.qmon_job.status in (JobStatus.RUNNING, JobStatus.PAUSED)

    def cancelled(self) -> bool:
        """Whether the job was cancelled."""
        return self.qmon_job.status is JobStatus.CANCELLED

    def in_final_state(self) -> bool:
        """Whether the job ended (completed, failed or cancelled)."""
        return self.qmon_job.status.is_terminal

    def cancel(self) -> bool:
        """Cancel the job; False if it had already ended otherwise."""
        return self.qmon_job.cancel("cancelled from Qiskit")
