"""A real VQE: scipy minimises H2's energy through QmonEstimator down to the exact ground state."""

from __future__ import annotations

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp
from scipy.optimize import minimize

from qmon_jupyter.qiskit import QmonEstimator

# H2 at 0.735 Angstrom, STO-3G, Jordan-Wigner (4 qubits).
H2 = SparsePauliOp.from_list(
    [
        ("IIII", -0.8105479805373266),
        ("IIIZ", 0.17218393261915552),
        ("IIZI", -0.22575349222402472),
        ("IIZZ", 0.12091263261776641),
        ("IZII", 0.17218393261915546),
        ("IZIZ", 0.16892753870087912),
        ("IZZI", 0.16614543256382414),
        ("ZIII", -0.22575349222402472),
        ("ZIIZ", 0.16614543256382414),
        ("ZIZI", 0.17464343068300453),
        ("ZZII", 0.12091263261776641),
        ("XXXX", 0.04523279994605788),
        ("XXYY", 0.04523279994605788),
        ("YYXX", 0.04523279994605788),
        ("YYYY", 0.04523279994605788),
    ]
)


def _double_excitation() -> QuantumCircuit:
    """cos(t/2)|0101> + sin(t/2)|1010>: Hartree-Fock and its double excitation."""
    theta = Parameter("theta")
    circuit = QuantumCircuit(4)
    circuit.ry(theta, 1)
    circuit.cx(1, 3)
    circuit.x(1)
    circuit.cx(1, 0)
    circuit.cx(1, 2)
    circuit.x(1)
    return circuit


def test_vqe_of_h2_reaches_the_exact_ground_energy(manager):
    exact = float(np.linalg.eigvalsh(H2.to_matrix()).min())
    ansatz = _double_excitation()
    estimator = QmonEstimator(manager=manager, name="VQE H2")
    calls = []

    def energy(x: np.ndarray) -> float:
        calls.append(x)
        return float(estimator.run([(ansatz, H2, x)]).result()[0].data.evs)

    def gradient(x: np.ndarray) -> np.ndarray:
        # Parameter shift, both shifts in one run (a sweep of two bindings).
        shifted = np.array([x + np.pi / 2, x - np.pi / 2])
        evs = estimator.run([(ansatz, H2, shifted)]).result()[0].data.evs
        return np.array([(evs[0] - evs[1]) / 2])

    found = minimize(energy, x0=np.array([0.3]), jac=gradient, method="BFGS", tol=1e-12)
    assert abs(found.fun - exact) < 1e-6, (found.fun, exact)
    # Every estimator call was one finished job on the dashboard.
    assert len(manager.jobs(status="completed")) == len(manager.jobs()) >= len(calls)
