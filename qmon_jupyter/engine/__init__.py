"""The statevector engine: pure numerics, no jobs, widgets or storage.

``run(circuit, shots, seed)`` gives counts; ``simulate_statevector(circuit)``
gives the final state; ``prepare(circuit)`` gives a :class:`SimulationPlan`
that the job layer runs batch by batch (locally, or on Dask). Each takes
``precision="double"`` (complex128) or ``"single"`` (complex64).
"""

from __future__ import annotations

from ._api import prepare, run, simulate_statevector
from ._errors import (
    MAX_SHOTS,
    PRECISIONS,
    SEED_STREAM_VERSION,
    Interrupted,
    PrecisionError,
    ShotsError,
    validate_precision,
    validate_shots,
)
from .memory import MAX_QUBITS, check_memory, check_qubits, estimate_memory
from .simulator import SimulationPlan

__all__ = [
    "MAX_QUBITS",
    "MAX_SHOTS",
    "PRECISIONS",
    "SEED_STREAM_VERSION",
    "Interrupted",
    "PrecisionError",
    "ShotsError",
    "SimulationPlan",
    "check_memory",
    "check_qubits",
    "estimate_memory",
    "prepare",
    "run",
    "simulate_statevector",
    "validate_precision",
    "validate_shots",
]
