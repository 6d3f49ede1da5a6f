"""``qmon.reattach()``: follow again the provider jobs whose kernel died.

When a kernel dies, the server marks its provider jobs ``detached`` in the
store (they run on at their providers; see :mod:`qmon_jupyter.store._detached`).
Each keeps a ``provider.locator``: the provider's kind and job id, and the
emulator's URL, the IBM backend and instance, or the Braket task's ARN. Here
a new kernel or process finds each job again from its locator, claims it in
the store and tracks it under the same qmon id, so it ends once, with its
provider's result. A job whose provider cannot be reached stays detached,
with the reason in its message and in a warning.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from ._detect import adapter_for
from .emulator_client import EmulatorJob, EmulatorProvider

if TYPE_CHECKING:
    from qmon_jupyter.jobs import ExecutionJob
    from qmon_jupyter.store import Store

    from .monitor import StatusMonitor

__all__ = ["ReattachWarning", "reattach"]


class ReattachWarning(RuntimeWarning):
    """Some detached jobs could not be followed again: their providers could not be reached."""


def _emulator(locator: dict[str, Any], monitor: StatusMonitor, token: str | None) -> Any:
    provider = EmulatorProvider(str(locator["url"]), token=token, monitor=monitor)
    job = EmulatorJob(
        provider,
        str(locator["job_id"]),
        device=locator.get("device"),
        shots=int(locator.get("shots") or 0),
    )
    job.poll()  # it answers, and knows the job
    return job


def _ibm(locator: dict[str, Any], service: Any) -> Any:
    if service is None:
        try:
            from qiskit_ibm_runtime import QiskitRuntimeService
        except ImportError:
            raise RuntimeError("qiskit-ibm-runtime is not installed") from None
        instance = locator.get("instance")
        # the account saved with QiskitRuntimeService.save_account(); nothing is stored here
        service = QiskitRuntimeService(**({"instance": instance} if instance else {}))
    return adapter_for(service.job(str(locator["job_id"])))


def _braket(locator: dict[str, Any]) -> Any:
    try:
        from braket.aws import AwsQuantumTask
    except ImportError:
        raise RuntimeError("amazon-braket-sdk is not installed") from None
    task = AwsQuantumTask(str(locator["arn"]))
    task.state()  # it answers, with this environment's AWS credentials
    return adapter_for(task)


def _find(
    locator: dict[str, Any], monitor: StatusMonitor, emulator_token: str | None, ibm_service: Any
) -> Any:
    """Return an adapter of the job ``locator`` names; raise if its provider cannot be reached."""
    kind = locator.get("kind")
    if kind == "emulator":
        return _emulator(locator, monitor, emulator_token)
    if kind == "ibm-runtime":
        return _ibm(locator, ibm_service)
    if kind == "braket":
        return _braket(locator)
    raise RuntimeError(f"qmon cannot find a {kind!r} job again")


def reattach(
    *,
    emulator_token: str | None = None,
    ibm_service: Any = None,
    monitor: StatusMonitor | None = None,
    store: Store | None = None,
) -> list[ExecutionJob]:
    """Follow again every detached provider job of the store that can be reached.

    Each job is tracked under its old id and name by this process's monitor
    (its kernel's dashboard), and ends with its provider's result. Jobs whose
    provider cannot be reached stay detached: the reason goes into the job's
    message and a :class:`ReattachWarning`; nothing is raised for them.

    Parameters
    ----------
    emulator_token
        The API token of emulated QPUs that need one (tokens are never stored).
    ibm_service
        A ``QiskitRuntimeService`` to find IBM jobs with; default one built
        from the saved account (and the job's instance).
    monitor, store
        Default: the process-wide monitor and the default store.

    Returns
    -------
    list of ExecutionJob
        The jobs followed again, in the order they were created.
    """
    from qmon_jupyter.store import get_store

    from .monitor import get_monitor

    monitor = get_monitor() if monitor is None else monitor
    store = get_store() if store is None else store
    monitor.check_open()  # before claiming a job nobody here could follow
    kernel_id = monitor.manager.kernel_id
    jobs: list[ExecutionJob] = []
    unreachable: list[str] = []
    for snap in store.detached_jobs():
        provider = snap.get("provider") or {}
        locator = provider.get("locator") or {}
        try:
            adapter = _find(locator, monitor, emulator_token, ibm_service)
        except Exception as exc:  # one unreachable provider does not stop the others
            why = (
                f"job {snap['id']} stays detached: its {locator.get('kind')} job "
                f"{locator.get('job_id')} cannot be reached: {type(exc).__name__}: {exc}"
            )
            store.note_detached(snap["id"], why)
            unreachable.append(why)
            continue
        if store.claim_detached(snap["id"], kernel_id) is None:
            continue  # another kernel reattached it meanwhile
        jobs.append(monitor.track(adapter, name=snap.get("name"), job_id=snap["id"]))
    if unreachable:
        warnings.warn("qmon.reattach(): " + "; ".join(unreachable), ReattachWarning, stacklevel=2)
    return jobs
