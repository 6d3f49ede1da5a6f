"""Executors run a simulation's batches: ``local`` threads (default) or ``dask``.

See :mod:`qmon_jupyter.executors.base` for the protocol.
"""

from __future__ import annotations

from typing import Any

from .base import Batch, BatchControl, Executor, cluster_infos, evolve_if_needed
from .local import LocalExecutor

__all__ = [
    "Batch",
    "BatchControl",
    "Executor",
    "LocalExecutor",
    "cluster_infos",
    "create_executor",
    "evolve_if_needed",
]


def create_executor(backend: str, **options: Any) -> Executor:
    """Create an executor for ``backend`` (``"local"`` or ``"dask"``).

    ``"dask"`` calls ``DaskExecutor(**options)`` (with no options it uses the
    current ``distributed`` client); import errors name the missing extra.
    """
    if backend == "local":
        return LocalExecutor()
    if backend == "dask":
        try:
            from .dask import DaskExecutor
        except ImportError as exc:
            msg = f"backend 'dask' needs the dask extra (pip install qmon_jupyter[dask]): {exc}"
            raise ValueError(msg) from exc
        return DaskExecutor(**options)
    raise ValueError(f"unknown backend {backend!r}; use 'local' or 'dask'")
