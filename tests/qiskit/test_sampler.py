"""QmonSampler against exact probabilities and Qiskit's StatevectorSampler layout."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit import Parameter
from qiskit.circuit.random import random_circuit
from qiskit.primitives import StatevectorSampler
from qiskit.quantum_info import Statevector
from scipy import stats

from qmon_jupyter.qiskit import QmonSampler

FALSE_ALARM = 1e-6  # each goodness-of-fit test wrongly fails this rarely


def _goodness_of_fit(counts: dict[str, int], probabilities: dict[str, float], shots: int) -> float:
    keys = [k for k, p in probabilities.items() if p > 1e-12]
    assert set(counts) <= set(keys), set(counts) - set(keys)
    observed = np.array([counts.get(k, 0) for k in keys], dtype=float)
    expected = np.array([probabilities[k] for k in keys]) * shots
    return stats.chisquare(observed, expected * observed.sum() / expected.sum()).pvalue


@pytest.mark.parametrize("seed", range(4))
def test_counts_of_random_circuits_fit_the_exact_probabilities(manager, seed):
    circuit = random_circuit(4, 5, seed=seed)
    exact = Statevector(circuit).probabilities_dict()
    measured = circuit.copy()
    measured.measure_all()
    shots = 20_000
    bits = (
        QmonSampler(manager=manager, seed=seed).run([measured], shots=shots).result()[0].data.meas
    )
    assert bits.num_shots == shots
    assert _goodness_of_fit(bits.get_counts(), exact, shots) > FALSE_ALARM


def test_every_register_gets_its_bit_array_in_qiskits_layout(manager):
    q = QuantumRegister(3, "q")
    alpha, beta = ClassicalRegister(2, "alpha"), ClassicalRegister(1, "beta")
    circuit = QuantumCircuit(q, alpha, beta)
    circuit.x(0)
    circuit.h(2)
    circuit.measure(q[0], alpha[1])
    circuit.measure(q[1], alpha[0])
    circuit.measure(q[2], beta[0])
    ours = QmonSampler(manager=manager, seed=1).run([circuit], shots=500).result()[0].data
    reference = StatevectorSampler(seed=1).run([circuit], shots=500).result()[0].data
    assert ours.alpha.get_counts() == reference.alpha.get_counts() == {"10": 500}
    assert set(ours.beta.get_counts()) == set(reference.beta.get_counts()) == {"0", "1"}
    assert ours.alpha.array.shape == reference.alpha.array.shape


def test_parameter_sweeps_and_per_pub_shots(manager):
    theta = Parameter("theta")
    circuit = QuantumCircuit(1)
    circuit.ry(theta, 0)
    circuit.measure_all()
    values = np.array([[0.0], [np.pi], [np.pi / 2]])
    result = (
        QmonSampler(manager=manager, seed=5)
        .run([(circuit, values, 300), (circuit, [0.0])])
        .result()
    )
    sweep = result[0].data.meas
    assert sweep.shape == (3,)
    assert sweep.num_shots == 300
    assert sweep.get_counts(0) == {"0": 300}
    assert sweep.get_counts(1) == {"1": 300}
    assert _goodness_of_fit(sweep.get_counts(2), {"0": 0.5, "1": 0.5}, 300) > FALSE_ALARM
    assert result[1].data.meas.num_shots == 1024  # the sampler's default


def test_the_same_seed_gives_the_same_samples_and_another_seed_others(manager):
    circuit = random_circuit(5, 4, seed=3, measure=True)
    first = QmonSampler(manager=manager, seed=42).run([circuit], shots=2000).result()[0].data
    second = QmonSampler(manager=manager, seed=42).run([circuit], shots=2000).result()[0].data
    other = QmonSampler(manager=manager, seed=43).run([circuit], shots=2000).result()[0].data
    [name] = [creg.name for creg in circuit.cregs]
    assert np.array_equal(first[name].array, second[name].array)
    assert not np.array_equal(first[name].array, other[name].array)


def test_mid_circuit_measurement_and_reset_run_as_trajectories(manager):
    circuit = QuantumCircuit(1, 2)
    circuit.h(0)
    circuit.measure(0, 0)
    circuit.reset(0)
    circuit.measure(0, 1)
    counts = (
        QmonSampler(manager=manager, seed=2)
        .run([circuit], shots=4000)
        .result()[0]
        .data.c.get_counts()
    )
    assert set(counts) == {"00", "01"}
    assert _goodness_of_fit(counts, {"00": 0.5, "01": 0.5}, 4000) > FALSE_ALARM
