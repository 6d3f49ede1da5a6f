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


@lru_cache(maxsize=256)
def _local_signs(width: int, z: int) -> np.ndarray:
    """(-1)^{|m & z|} for every m of ``width`` bits."""
    m = np.arange(1 << width, dtype=np.int64)
    return 1.0 - 2.0 * (np.bitwise_count(m & z) & 1)


#: Terms whose qubits span at most this many (lowest to highest) are summed over a
#: view of the state (no index arrays); wider ones use a gather over all indices.
_LOCAL_SPAN = 12


def _masks(label: str) -> tuple[int, int, int]:
    x = z = n_y = 0
    for position, char in enumerate(reversed(label)):
        if char in "XY":
            x |= 1 << position
        if char in "ZY":
            z |= 1 << position
        n_y += char == "Y"
    return x, z, n_y


def _dot(u: np.ndarray, v: np.ndarray) -> float:
    """sum(u * v) of two same-shaped real views, without copying them."""
    return float(np.einsum("ij,ij->", u, v))


def _local_term(state: np.ndarray, probabilities: np.ndarray, x: int, z: int) -> complex:
    """sum_i conj(psi[i ^ x]) (-1)^{|i & z|} psi[i] over a view spanning the term's qubits."""
    support = x | z
    low = (support & -support).bit_length() - 1
    width = support.bit_length() - low
    signs = _local_signs(width, z >> low)
    shape = (-1, 1 << width, 1 << low)
    if x == 0:
        view = probabilities.reshape(shape)
        return complex(sum(signs[m] * view[:, m, :].sum() for m in range(1 << width)))
    view = state.reshape(shape)
    real, imag = view.real, view.imag
    flip = x >> low
    total = 0j
    for m in range(1 << width):
        p = m ^ flip
        if p < m:
            continue  # the pair (p, m) was summed with m's partner
        # g = sum conj(psi[p]) psi[m], from real views (conj would copy)
        g = complex(
            _dot(real[:, p, :], real[:, m, :]) + _dot(imag[:, p, :], imag[:, m, :]),
            _dot(real[:, p, :], imag[:, m, :]) - _dot(imag[:, p, :], real[:, m, :]),
        )
        total += signs[m] * g + signs[p] * g.conjugate()
    return total


def pauli_expectation(state: np.ndarray, terms: Mapping[str, complex]) -> complex:
    """<state| sum_k c_k P_k |state> for Pauli labels in Qiskit's order (qubit 0 rightmost).

    With ``P = i^{n_Y} X^x Z^z``: ``<psi|P|psi> = i^{n_Y} sum_i conj(psi[i ^ x])
    (-1)^{|i & z|} psi[i]``. A term on nearby qubits is summed over a reshaped
    view of the state (diagonal terms over the marginal probabilities of
    their qubits), so each costs about one pass over memory.
    """
    num_qubits = int(state.size).bit_length() - 1
    probabilities: np.ndarray | None = None
    total = 0j
    for label, coeff in terms.items():
        if len(label) != num_qubits:
            msg = f"observable {label!r} acts on {len(label)} qubits, the circuit has {num_qubits}"
            raise ValueError(msg)
        x, z, n_y = _masks(label)
        if probabilities is None and x == 0:
            probabilities = np.abs(state) ** 2
        support = x | z
        if support == 0:
            value = complex(np.vdot(state, state))
        elif support.bit_length() - ((support & -support).bit_length() - 1) <= _LOCAL_SPAN:
            value = _local_term(state, probabilities, x, z)  # type: ignore[arg-type]
        else:
            index = _indices(num_qubits)
            sign = 1.0 - 2.0 * (np.bitwise_count(index & z) & 1) if z else 1.0
            value = complex(
                np.dot(np.conj(state[index ^ x]) * state, np.broadcast_to(sign, state.shape))
            )
        total += complex(coeff) * (1j**n_y) * value
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
