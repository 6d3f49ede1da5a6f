"""What the primitives compute per bound circuit: a statevector, samples, Pauli expectations."""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from qmon_jupyter.circuits import from_qiskit
from qmon_jupyter.engine import run, simulate_statevector

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

__all__ = [
    "estimate_binding",
    "pauli_expectation",
    "register_samples",
    "sample_binding",
    "sample_outcomes",
    "statevector",
]


def statevector(circuit: Any, should_continue: Callable[[], bool] | None = None) -> np.ndarray:
    """Return the final state of a bound Qiskit circuit (final measurements ignored)."""
    return simulate_statevector(
        from_qiskit(circuit.remove_final_measurements(inplace=False)),
        should_continue=should_continue,
    )


def sample_outcomes(
    circuit: Any, shots: int, seed: int, should_continue: Callable[[], bool] | None = None
) -> np.ndarray:
    """``shots`` outcomes of a bound circuit, as integers over all its clbits, in shot order.

    The engine returns counts; the shots are laid out from them and put in a
    random order drawn from ``seed``, as a device's memory would be.
    """
    counts = run(from_qiskit(circuit), shots=shots, seed=seed, should_continue=should_continue)
    if circuit.num_clbits <= 63:
        keys = np.array([int(k, 2) for k in counts], dtype=np.uint64)
    else:
        keys = np.array([int(k, 2) for k in counts], dtype=object)
    outcomes = np.repeat(keys, np.fromiter(counts.values(), dtype=np.int64, count=len(counts)))
    np.random.default_rng(seed).shuffle(outcomes)
    return outcomes


def register_samples(outcomes: np.ndarray, clbits: list[int]) -> np.ndarray:
    """Pack the register made of ``clbits`` (its bit 0 first) as ``BitArray`` bytes per shot.

    Returns an array of shape ``(shots, ceil(len(clbits) / 8))`` of uint8,
    big-endian (Qiskit's ``BitArray`` layout).
    """
    num_bytes = max(1, (len(clbits) + 7) // 8)
    packed = np.zeros((len(outcomes), num_bytes), dtype=np.uint8)
    for j, clbit in enumerate(clbits):
        if outcomes.dtype == object:
            bit = np.array([(int(v) >> clbit) & 1 for v in outcomes], dtype=np.uint8)
        else:
            bit = ((outcomes >> np.uint64(clbit)) & np.uint64(1)).astype(np.uint8)
        packed[:, num_bytes - 1 - j // 8] |= bit << np.uint8(j % 8)
    return packed


@lru_cache(maxsize=8)
def _indices(num_qubits: int) -> np.ndarray:
    return np.arange(1 << num_qubits, dtype=np.int64)


def pauli_expectation(state: np.ndarray, terms: Mapping[str, complex]) -> complex:
    """<state| sum_k c_k P_k |state> for Pauli labels in Qiskit's order (qubit 0 rightmost).

    With ``P = i^{n_Y} X^x Z^z``: ``<psi|P|psi> = i^{n_Y} sum_i conj(psi[i ^ x])
    (-1)^{|i & z|} psi[i]``. Diagonal terms share one pass over the probabilities.
    """
    num_qubits = int(state.size).bit_length() - 1
    index = _indices(num_qubits)
    probabilities: np.ndarray | None = None
    total = 0j
    for label, coeff in terms.items():
        if len(label) != num_qubits:
            msg = f"observable {label!r} acts on {len(label)} qubits, the circuit has {num_qubits}"
            raise ValueError(msg)
        x = z = 0
        n_y = 0
        for position, char in enumerate(reversed(label)):
            if char in "XY":
                x |= 1 << position
            if char in "ZY":
                z |= 1 << position
            n_y += char == "Y"
        # +1 / -1 by the parity of i & z (float: uint8 arithmetic would wrap)
        sign = 1.0 - 2.0 * (np.bitwise_count(index & z) & 1) if z else None
        if x == 0:
            if probabilities is None:
                probabilities = np.abs(state) ** 2
            value = probabilities.sum() if sign is None else np.dot(probabilities, sign)
        else:
            product = np.conj(state[index ^ x]) * state
            value = product.sum() if sign is None else np.dot(product, sign)
        total += complex(coeff) * (1j**n_y) * complex(value)
    return total


def estimate_binding(
    circuit: Any,
    observables: list[Mapping[str, complex]],
    *,
    should_continue: Callable[[], bool] | None = None,
) -> list[float]:
    """Return the expectation values of ``observables`` in one bound circuit's final state."""
    state = statevector(circuit, should_continue)
    return [pauli_expectation(state, terms).real for terms in observables]


def sample_binding(
    circuit: Any,
    shots: int,
    seed: int,
    registers: list[tuple[str, list[int]]],
    *,
    should_continue: Callable[[], bool] | None = None,
) -> dict[str, np.ndarray]:
    """Each register's packed samples for one bound circuit (see :func:`register_samples`)."""
    if not registers:
        return {}
    outcomes = sample_outcomes(circuit, shots, seed, should_continue)
    return {name: register_samples(outcomes, bits) for name, bits in registers}
