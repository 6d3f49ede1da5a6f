"""The engine's entry points: ``prepare``, ``run`` and ``simulate_statevector``."""

from __future__ import annotations

import secrets
from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np

from qmon_jupyter.circuits.ir import Circuit
from qmon_jupyter.errors import QmonError

from ._errors import check_continue, validate_precision, validate_seed, validate_shots
from .fusion import DEFAULT_WIDTH
from .memory import check_memory as _check_memory
from .memory import estimate_memory
from .simulator import SimulationPlan

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["prepare", "run", "simulate_statevector"]

# Sample-mode counts are accumulated in a dense array up to this many outcomes.
_DENSE_OUTCOMES = 1 << 24


def _to_circuit(obj: Any) -> Circuit:
    """Whatever ``qmon_jupyter.circuits.to_circuit`` accepts (a Circuit at least)."""
    try:
        from qmon_jupyter.circuits import to_circuit
    except ImportError:
        to_circuit = None
    if to_circuit is not None:
        return to_circuit(obj)
    if isinstance(obj, Circuit):
        return obj
    raise QmonError(f"expected a Circuit, got {type(obj).__name__}")


def prepare(
    circuit: Any,
    *,
    check_memory: bool = True,
    fusion_width: int = DEFAULT_WIDTH,
    precision: str = "double",
) -> SimulationPlan:
    """Analyse ``circuit`` into a :class:`SimulationPlan`; nothing is allocated yet.

    Parameters
    ----------
    circuit
        A :class:`~qmon_jupyter.circuits.Circuit`, OpenQASM 2 text or a Qiskit circuit.
    check_memory
        Refuse a simulation that needs more memory than is available now.
    fusion_width
        The widest fused block, in qubits.
    precision
        ``"double"`` (complex128) or ``"single"`` (complex64: half the memory,
        one more qubit; amplitudes good to about 1e-7 relative).

    Raises
    ------
    PrecisionError
        For a precision other than ``"single"`` or ``"double"`` (a ``ValueError``).
    ResourceError
        For more than :data:`~qmon_jupyter.engine.MAX_QUBITS` qubits, or if
        ``check_memory`` and the simulation needs more memory than is available.
    QmonError
        For an instruction the engine cannot run (unknown gate, index out of range...).
    """
    precision = validate_precision(precision)
    plan = SimulationPlan(_to_circuit(circuit), fusion_width=fusion_width, precision=precision)
    if check_memory:
        _check_memory(plan.memory_bytes)
    return plan


def simulate_statevector(
    circuit: Any,
    *,
    should_continue: Callable[[], bool] | None = None,
    precision: str = "double",
    on_block: Callable[[int, int], None] | None = None,
    on_work: Callable[[float, float], None] | None = None,
) -> np.ndarray:
    """Return the final statevector of ``circuit`` (qubit 0 = least significant bit).

    complex128 for ``precision="double"``, complex64 for ``"single"``; the
    array returned is the one the engine evolved in place (no copy is made).
    Terminal measurements are ignored. A mid-circuit measurement or reset, or a
    conditioned gate, raises :class:`~qmon_jupyter.QmonError` naming it.
    ``should_continue``, ``on_block`` and ``on_work`` are as in :func:`run`.

    Raises
    ------
    PrecisionError
        For a precision other than ``"single"`` or ``"double"``.
    ResourceError
        For more qubits than the engine simulates or than memory holds
        (before anything is allocated).
    """
    precision = validate_precision(precision)
    plan = SimulationPlan(_to_circuit(circuit), precision=precision)
    _check_memory(estimate_memory(plan.num_qubits, "statevector", precision))
    return plan.statevector(should_continue, on_block, on_work)


def run(
    circuit: Any,
    shots: int = 1024,
    seed: int | None = None,
    *,
    batch_size: int | None = None,
    should_continue: Callable[[], bool] | None = None,
    on_batch: Callable[[int, int], None] | None = None,
    on_block: Callable[[int, int], None] | None = None,
    precision: str = "double",
    on_work: Callable[[float, float], None] | None = None,
) -> dict[str, int]:
    """Run ``circuit`` for ``shots`` shots and return the counts.

    Count keys are bitstrings with clbit 0 rightmost. A circuit without any
    measurement is read as if every qubit ``i`` were measured into clbit ``i``.

    Parameters
    ----------
    circuit
        A :class:`~qmon_jupyter.circuits.Circuit`, OpenQASM 2 text or a Qiskit circuit.
    shots
        A positive integer.
    seed
        Makes the counts reproducible (for the same ``batch_size``); None draws one.
    batch_size
        Shots per batch (default: about ten batches).
    should_continue
        Asked between batches, between gate blocks and, on large states,
        within a block (every few tens of milliseconds of work); returning
        False raises :class:`~qmon_jupyter.engine.Interrupted`.
    on_batch
        Called as ``on_batch(done_shots, total_shots)`` after each batch.
    on_block
        Called as ``on_block(done_blocks, total_blocks)`` during the one-off
        evolution of the state (see :meth:`SimulationPlan.evolve`).
    on_work
        Called as ``on_work(done_work, total_work)`` during the evolution, in
        estimated work units (:attr:`SimulationPlan.block_costs`): progress
        weighted by work rather than by blocks.
    precision
        ``"double"`` (complex128) or ``"single"`` (complex64), see :func:`prepare`.

    Raises
    ------
    ShotsError
        For shots that are not a positive integer (nothing is started).
    PrecisionError
        For a precision other than ``"single"`` or ``"double"`` (nothing is started).
    ResourceError
        If the simulation cannot fit in the memory available (nothing is allocated).
    Interrupted
        When ``should_continue()`` returns False.
    """
    shots = validate_shots(shots)
    seed = validate_seed(seed)
    plan = prepare(circuit, precision=precision)
    if seed is None:
        seed = secrets.randbits(63)
    sizes = plan.batch_sizes(shots, batch_size)
    plan.evolve(should_continue, on_block, on_work)
    dense: np.ndarray | None = None
    sparse: Counter[int] = Counter()
    done = 0
    for index, size in enumerate(sizes):
        check_continue(should_continue)
        raw = plan.run_batch_raw(index, size, seed, should_continue)
        if isinstance(raw, Counter):
            sparse.update(raw)
        else:
            outcomes, counts = raw
            k = plan.num_outcomes or 0
            if k <= _DENSE_OUTCOMES:
                if dense is None:
                    dense = np.zeros(k, dtype=np.int64)
                dense[outcomes] += counts
            else:
                sparse.update(dict(zip(outcomes.tolist(), counts.tolist(), strict=True)))
        done += size
        if on_batch is not None:
            on_batch(done, shots)
    if plan.mode == "trajectory":
        return plan.format_counts(sparse)
    if dense is not None:
        idx = np.flatnonzero(dense)
        return plan.format_counts((idx, dense[idx]))
    items = sorted(sparse.items())
    return plan.format_counts((np.array([i for i, _ in items]), np.array([c for _, c in items])))
