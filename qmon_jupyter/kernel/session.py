"""A kernel's session: its one job manager, wired to the store and the resource sampler.

Also the conveniences that act on that manager (``qmon.submit``,
``qmon.progress``, ``qmon.resume``) and the one exit hook that ends the
session in order: jobs first, so their final state reaches the store, then
the store writers.
"""

from __future__ import annotations

import atexit
import logging
import sys
import threading
import warnings
from typing import TYPE_CHECKING, Any

from qmon_jupyter.core.states import JobStatus, JobType
from qmon_jupyter.errors import JobStateError
from qmon_jupyter.jobs import JobManager, MonitoredLoop

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from qmon_jupyter.jobs import ExecutionJob, JobSession, Result

__all__ = [
    "MonitoredSimulationExecutor",
    "get_manager",
    "kernel_shell",
    "progress",
    "resume",
    "session",
    "submit",
]

logger = logging.getLogger(__name__)

# Guards _manager: get_manager() may be called from several threads at once.
_lock = threading.Lock()
_manager: JobManager | None = None


def get_manager() -> JobManager:
    """Return the process's default :class:`JobManager` (created on first use).

    It is attached to the monitoring store (so the server extension sees its
    jobs and can send it commands) and to the resource monitor (memory-high
    notifications). A store that cannot be opened only warns: jobs run
    anyway.
    """
    global _manager  # noqa: PLW0603 - one manager per process, by design
    with _lock:
        if _manager is None or _manager.is_shutdown:
            _manager = JobManager()
            _attach_store(_manager)
            _attach_resources(_manager)
        return _manager


def _attach_store(manager: JobManager) -> None:
    from .store_writer import attach_store

    try:
        attach_store(manager)
    except Exception as exc:
        warnings.warn(
            f"qmon: monitoring store unavailable, jobs still run: {exc}",
            RuntimeWarning,
            stacklevel=3,
        )


def _attach_resources(manager: JobManager) -> None:
    try:
        from .resources import get_resource_monitor

        get_resource_monitor().watch_memory(manager)
    except Exception:
        logger.debug("resource monitor unavailable", exc_info=True)


@atexit.register
def _end_session() -> None:
    # The one exit hook, so the order does not depend on what was imported
    # first: end the jobs (their final state, "cancelled" and resumable from
    # the last checkpoint, reaches the store), then close the store writers.
    # close_writers() ends the jobs of every manager that has a writer (and
    # waits a moment for their final events); then the default manager, if
    # it had no writer.
    writers = sys.modules.get(f"{__package__}.store_writer")
    if writers is not None:
        writers.close_writers()
    manager = _manager
    if manager is not None and not manager.is_shutdown:
        manager.shutdown(wait=False, cancel_futures=True, cancel_running=True)


def submit(circuit: Any, shots: int = 1024, **options: Any) -> ExecutionJob:
    """``get_manager().submit(circuit, shots, ...)``: a monitored simulation."""
    return get_manager().submit(circuit, shots, **options)


def progress(
    iterable: Iterable | None = None,
    name: str | None = None,
    total: float | None = None,
    *,
    desc: str | None = None,
    unit: str = "iterations",
    manager: JobManager | None = None,
    on_end: Callable[[ExecutionJob], object] | None = None,
) -> MonitoredLoop:
    """Wrap a loop so it shows on the dashboard as an ``analysis`` job (tqdm-like).

    ``desc`` is tqdm's name for ``name``. ``total`` defaults to
    ``len(iterable)`` when there is one (generators show a count and a
    rate); without an iterable, :meth:`~MonitoredLoop.update` counts. Cancel
    from the dashboard raises :class:`~qmon_jupyter.JobCancelled` at the
    loop's next iteration. ``qmon.progress`` (:func:`qmon_jupyter.widget.progress`)
    also shows it in the cell. See :class:`~qmon_jupyter.jobs.MonitoredLoop`.
    """
    if name is not None and desc is not None and name != desc:
        raise TypeError(f"progress() got name={name!r} and desc={desc!r}: give one of them")
    return MonitoredLoop(
        iterable,
        get_manager() if manager is None else manager,
        name=name or desc,
        total=total,
        unit=unit,
        job_type=JobType.ANALYSIS,
        on_end=on_end,
    )


def kernel_shell() -> Any:
    """Return IPython's shell when this process is a Jupyter kernel, else None."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell if getattr(shell, "kernel", None) is not None else None


def session(name: str = "session", *, manager: JobManager | None = None) -> JobSession:
    """Group the jobs started in ``with qmon.session(name) as s:`` under one dashboard row.

    Simulations, function jobs, Qiskit primitive runs and tracked provider
    jobs started in the block are its children: the row shows them ended of
    started, their shots and the iteration count, and cancelling it cancels
    them. See :class:`~qmon_jupyter.jobs.JobSession`.
    """
    return (get_manager() if manager is None else manager).session(name)


def resume(job_id: str, *, manager: JobManager | None = None, store: Any = None) -> ExecutionJob:
    """Continue a simulation from its last checkpoint in the store (e.g. after a restart).

    The new job runs the batches the checkpoint lacks and starts from its
    counts, so the final counts equal an uninterrupted run with the same
    seed. Its snapshot has ``resumed_from`` = ``job_id``.

    Once the continuation checkpoints or completes, the old checkpoint is
    deleted: a job is resumed once.

    Raises
    ------
    KeyError
        No checkpoint for ``job_id`` (the message names a job it was already
        resumed as).
    JobStateError
        A job of this manager is already continuing ``job_id``, or completed it.
    """
    from qmon_jupyter.circuits.ir import circuit_from_dict

    manager = get_manager() if manager is None else manager
    for job in manager.jobs():
        if (job.extra or {}).get("resumed_from") != job_id:
            continue
        if not job.status.is_terminal:
            msg = f"job {job_id!r} is already being resumed as job {job.id!r} ({job.status})"
            raise JobStateError(msg)
        if job.status is JobStatus.COMPLETED:  # its checkpoint may not be deleted yet
            msg = f"job {job_id!r} was already resumed as job {job.id!r}, which completed"
            raise JobStateError(msg)
    if store is None:
        from qmon_jupyter.store import get_store

        store = get_store()
    checkpoint = store.load_checkpoint(job_id)
    spec = checkpoint["spec"]
    return manager.submit(
        circuit_from_dict(spec["circuit"]),
        shots=spec["shots"],
        seed=spec["seed"],
        batch_size=spec.get("batch_size"),
        backend=spec.get("backend"),
        precision=spec.get("precision", "double"),
        start_batch=int(checkpoint["batches_done"]),
        initial_counts=checkpoint["counts"],
        name=checkpoint.get("name"),
        resumed_from=job_id,
    )


class MonitoredSimulationExecutor:
    """Run circuits as monitored jobs and wait for them (the original design's API).

    Parameters
    ----------
    manager
        The manager to submit to (the default one if None).
    shots, backend
        Defaults for :meth:`execute_circuit`.
    """

    def __init__(
        self, manager: JobManager | None = None, *, shots: int = 1024, backend: str | None = None
    ) -> None:
        self.manager = get_manager() if manager is None else manager
        self.shots = shots
        self.backend = backend

    def execute_circuit(
        self,
        circuit: Any,
        shots: int | None = None,
        job_name: str | None = None,
        **options: Any,
    ) -> ExecutionJob:
        """Submit ``circuit``; returns the running :class:`ExecutionJob` at once."""
        options.setdefault("backend", self.backend)
        return self.manager.submit(
            circuit, shots=self.shots if shots is None else shots, name=job_name, **options
        )

    def wait_for_job(self, job: ExecutionJob, timeout: float | None = None) -> Result:
        """Block until ``job`` ends; its :class:`Result` (raises ``JobCancelled``/``JobFailed``)."""
        return job.result(timeout)
