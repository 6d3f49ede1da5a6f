"""Qiskit's own interfaces on the qmon engine: ``QmonSampler``, ``QmonEstimator``, ``QmonBackend``.

Each ``run()`` is one monitored qmon job: it shows on the dashboard with
progress over PUBs x parameter bindings (and shots), an ETA, and cancel,
pause and resume. Needs the ``qiskit`` extra (``pip install qmon_jupyter[qiskit]``).
"""

from __future__ import annotations

try:
    import qiskit  # noqa: F401 - fail here, clearly, when the extra is missing
except ImportError as exc:  # pragma: no cover - the test environment has qiskit
    msg = "qmon_jupyter.qiskit needs Qiskit: pip install 'qmon_jupyter[qiskit]'"
    raise ImportError(msg) from exc

from ._backend import QmonBackend, QmonBackendJob
from ._estimator import QmonEstimator
from ._job import QmonPrimitiveJob
from ._sampler import QmonSampler

__all__ = ["QmonBackend", "QmonBackendJob", "QmonEstimator", "QmonPrimitiveJob", "QmonSampler"]
