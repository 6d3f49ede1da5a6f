"""Recognise what kind of provider job an object is, without importing its library."""

from __future__ import annotations

import sys
from typing import Any

from qmon_jupyter.errors import QmonError

__all__ = ["adapter_for"]

SUPPORTED = (
    "an emulated-QPU job, a Qiskit JobV1 (e.g. AerJob), a Qiskit primitive job "
    "(PrimitiveJob, qiskit-ibm-runtime's LocalRuntimeJob), a qiskit-ibm-runtime "
    "RuntimeJobV2, an Amazon Braket quantum task, or a provider adapter"
)


def _class_names(obj: Any) -> set[str]:
    return {cls.__name__ for cls in type(obj).__mro__}


def _is_adapter(obj: Any) -> bool:
    return all(
        hasattr(obj, attr) for attr in ("poll", "cancel", "counts", "provider_key", "capabilities")
    )


def _is_braket_task(obj: Any) -> bool:
    # Only if braket is already imported: an object cannot be a braket task otherwise.
    tasks = sys.modules.get("braket.tasks")
    base = getattr(tasks, "QuantumTask", None)
    if base is not None and isinstance(obj, base):
        return True
    module = type(obj).__module__ or ""
    return module.startswith("braket.") and callable(getattr(obj, "state", None))


def adapter_for(provider_job: Any) -> Any:
    """Return the provider adapter for ``provider_job`` (see :data:`SUPPORTED`).

    Raises :class:`~qmon_jupyter.errors.QmonError` naming the type for an
    object qmon cannot follow.
    """
    if _is_adapter(provider_job):
        return provider_job
    names = _class_names(provider_job)
    if _is_braket_task(provider_job):
        from .braket_tasks import BraketTaskAdapter

        return BraketTaskAdapter(provider_job)
    if "RuntimeJobV2" in names:
        from .qiskit_jobs import RuntimeJobV2Adapter

        return RuntimeJobV2Adapter(provider_job)
    if names & {"JobV1", "BasePrimitiveJob", "PrimitiveJob"} and callable(
        getattr(provider_job, "status", None)
    ):
        from .qiskit_jobs import QiskitJobAdapter

        return QiskitJobAdapter(provider_job)
    raise QmonError(
        f"qmon cannot track a {type(provider_job).__module__}.{type(provider_job).__qualname__}: "
        f"track() takes {SUPPORTED}"
    )
