"""A real VQE: scipy minimises H2's energy through QmonEstimator down to the exact ground state."""

from __future__ import annotations

import numpy as np
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.quantum_info import SparsePauliOp
from scipy.optimize import minimize

import qmon_jupyter as qmon
from qmon_jupyter.kernel import manager_api
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


def test_vqe_of_h2_in_a_session_reaches_the_exact_ground_energy_as_one_row(manager):
    exact = float(np.linalg.eigvalsh(H2.to_matrix()).min())
    ansatz = _double_excitation()
    estimator = QmonEstimator(manager=manager, name="VQE H2 step")
    runs = []

    def energy(x: np.ndarray) -> float:
        runs.append(x)
        return float(estimator.run([(ansatz, H2, x)]).result()[0].data.evs)

    def gradient(x: np.ndarray) -> np.ndarray:
        # Parameter shift, both shifts in one run (a sweep of two bindings).
        runs.append(x)
        shifted = np.array([x + np.pi / 2, x - np.pi / 2])
        evs = estimator.run([(ansatz, H2, shifted)]).result()[0].data.evs
        return np.array([(evs[0] - evs[1]) / 2])

    with qmon.session("VQE H2", manager=manager) as session:
        found = minimize(energy, x0=np.array([0.3]), jac=gradient, method="BFGS", tol=1e-12)
    assert abs(found.fun - exact) < 1e-6, (found.fun, exact)
    # Every estimator call was one finished job, a child of the session...
    assert session.job.wait(10)
    assert len(manager.jobs(status="completed")) == len(manager.jobs()) == len(runs) + 1
    assert {j.parent_id for j in session.children()} == {session.job.id}
    # ...and the dashboard shows one row, with the iteration count.
    rows = manager_api(manager).get_dashboard_state()["jobs"]
    assert [r["id"] for r in rows] == [session.job.id]
    assert session.iterations == len(runs) == rows[0]["total"] == rows[0]["done"]
    assert rows[0]["result_summary"]["iterations"] == len(runs)
    assert rows[0]["message"].startswith(f"{len(runs)} iterations")


def test_a_loop_of_200_estimator_calls_in_a_session_is_one_row_of_200_iterations(manager):
    ansatz = _double_excitation()
    estimator = QmonEstimator(manager=manager)
    with qmon.session("scan", manager=manager) as session:
        for theta in np.linspace(0, np.pi, 200):
            estimator.run([(ansatz, H2, [theta])]).result()
    assert session.job.wait(10)
    rows = manager_api(manager).get_dashboard_state()["jobs"]
    assert len(rows) == 1
    assert (rows[0]["name"], rows[0]["status"]) == ("scan", "completed")
    assert (rows[0]["done"], rows[0]["total"]) == (200, 200)
    assert rows[0]["result_summary"]["iterations"] == 200
