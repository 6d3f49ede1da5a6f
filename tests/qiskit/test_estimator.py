"""QmonEstimator against StatevectorEstimator: exact values, noise, broadcasting, errors."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.circuit.library import efficient_su2
from qiskit.circuit.random import random_circuit
from qiskit.primitives import StatevectorEstimator
from qiskit.quantum_info import SparsePauliOp, random_pauli_list
from scipy import stats

from qmon_jupyter.qiskit import QmonEstimator


def _hermitian(num_qubits: int, terms: int, seed: int) -> SparsePauliOp:
    paulis = random_pauli_list(num_qubits, terms, seed=seed, phase=False)
    coeffs = np.random.default_rng(seed).normal(size=terms)
    return SparsePauliOp(paulis, coeffs)


@pytest.mark.parametrize("seed", range(6))
def test_exact_values_of_random_circuits_equal_the_statevector_estimator(manager, seed):
    width = 3 + seed % 4
    circuit = random_circuit(width, 6, seed=seed)
    pub = (circuit, [_hermitian(width, 12, seed), _hermitian(width, 3, seed + 100)])
    ours = QmonEstimator(manager=manager).run([pub]).result()[0].data
    reference = StatevectorEstimator().run([pub]).result()[0].data
    np.testing.assert_allclose(ours.evs, reference.evs, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(ours.stds, np.zeros(2))


def test_observables_broadcast_against_parameter_sweeps_as_qiskit_defines(manager):
    ansatz = efficient_su2(4, reps=1)
    rng = np.random.default_rng(7)
    values = rng.uniform(-np.pi, np.pi, size=(3, 1, ansatz.num_parameters))  # shape (3, 1)
    observables = [[_hermitian(4, 5, 1), _hermitian(4, 5, 2)]]  # shape (1, 2)
    pub = (ansatz, observables, values)
    ours = QmonEstimator(manager=manager).run([pub]).result()[0].data
    reference = StatevectorEstimator().run([pub]).result()[0].data
    assert ours.evs.shape == reference.evs.shape == (3, 2)
    np.testing.assert_allclose(ours.evs, reference.evs, rtol=0, atol=1e-10)


def test_a_positive_precision_adds_noise_of_that_standard_deviation(manager):
    theta = Parameter("theta")
    circuit = QuantumCircuit(2)
    circuit.ry(theta, 0)
    circuit.cx(0, 1)
    values = np.linspace(0, np.pi, 400)
    pub = (circuit, SparsePauliOp(["ZZ", "XX"], [1.0, 0.5]), values, 0.05)
    ours = QmonEstimator(manager=manager, seed=11).run([pub]).result()[0].data
    exact = QmonEstimator(manager=manager).run([(circuit, pub[1], values)]).result()[0].data
    residual = (ours.evs - exact.evs) / 0.05
    np.testing.assert_array_equal(ours.stds, np.full(400, 0.05))
    # Standardised residuals are N(0, 1): a Kolmogorov-Smirnov test at false-alarm rate 1e-6.
    assert stats.kstest(residual, "norm").pvalue > 1e-6
    again = QmonEstimator(manager=manager, seed=11).run([pub]).result()[0].data
    np.testing.assert_array_equal(again.evs, ours.evs)


def test_an_observable_on_the_wrong_number_of_qubits_names_both_sizes(manager):
    circuit = QuantumCircuit(3)
    circuit.h(0)
    with pytest.raises(ValueError, match=r"2 qubits.*circuit has 3|3.*2"):
        QmonEstimator(manager=manager).run([(circuit, SparsePauliOp("ZZ"))])
    assert manager.jobs() == []


def test_shapes_that_do_not_broadcast_raise_qiskits_own_error(manager):
    theta = Parameter("theta")
    circuit = QuantumCircuit(1)
    circuit.rx(theta, 0)
    pub = (circuit, [SparsePauliOp("Z")] * 3, np.zeros((2, 1)))
    with pytest.raises(ValueError) as reference:
        StatevectorEstimator().run([pub])
    with pytest.raises(type(reference.value)) as ours:
        QmonEstimator(manager=manager).run([pub])
    assert str(ours.value) == str(reference.value)


def test_pauli_terms_near_and_far_apart_match_qiskits_expectation_values():
    from qiskit.quantum_info import random_statevector

    from qmon_jupyter.qiskit._numerics import pauli_expectation

    state = random_statevector(2**14, seed=5)
    # 14 qubits: random terms span up to all 14 (past the view-based span of 12)
    labels = [*random_pauli_list(14, 60, seed=6, phase=False).to_labels(), "I" * 14]
    for label in labels:
        expected = state.expectation_value(SparsePauliOp(label))
        assert abs(pauli_expectation(state.data, {label: 1.0}) - expected) < 1e-10, label
