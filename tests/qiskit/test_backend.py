"""QmonBackend: transpile to its target, run, and read counts as from Aer."""

from __future__ import annotations

import pytest
from qiskit import ClassicalRegister, QuantumCircuit, QuantumRegister, transpile
from qiskit.circuit.library import ECRGate, QFTGate
from qiskit_aer import AerSimulator
from scipy import stats

from qmon_jupyter.qiskit import QmonBackend


def test_transpile_to_the_target_then_run_gives_counts_keyed_like_aers(manager):
    backend = QmonBackend(manager=manager)
    q = QuantumRegister(3)
    low, high = ClassicalRegister(2, "low"), ClassicalRegister(1, "high")
    circuit = QuantumCircuit(q, low, high)
    circuit.append(QFTGate(3), q)
    circuit.append(ECRGate(), [q[0], q[2]])
    circuit.measure(q[0], low[0])
    circuit.measure(q[1], low[1])
    circuit.measure(q[2], high[0])
    ours = (
        backend.run(transpile(circuit, backend), shots=8000, seed_simulator=3).result().get_counts()
    )
    aer = (
        AerSimulator()
        .run(transpile(circuit, AerSimulator()), shots=8000, seed_simulator=3)
        .result()
    )
    reference = aer.get_counts()
    assert set(ours) <= set(reference)  # same key format: registers space-separated
    assert all(" " in key for key in ours)
    keys = sorted(reference)
    table = [[ours.get(k, 0) for k in keys], [reference[k] for k in keys]]
    assert stats.chi2_contingency(table)[1] > 1e-6


def test_several_circuits_in_one_run_are_one_job(manager):
    backend = QmonBackend(manager=manager)
    bell = QuantumCircuit(2, name="bell")
    bell.h(0)
    bell.cx(0, 1)
    bell.measure_all()
    flip = QuantumCircuit(1, name="flip")
    flip.x(0)
    flip.measure_all()
    job = backend.run([bell, flip], shots=100, seed_simulator=1)
    result = job.result(timeout=30)
    assert set(result.get_counts(0)) <= {"00", "11"}
    assert result.get_counts(1) == {"1": 100}
    [qmon_job] = manager.jobs()
    assert qmon_job is job.qmon_job
    snapshot = qmon_job.snapshot()
    assert (snapshot["type"], snapshot["status"], snapshot["unit"]) == (
        "simulation",
        "completed",
        "shots",
    )
    assert snapshot["done"] == snapshot["total"] == 200


def test_a_gate_outside_the_target_is_named_when_run_without_transpiling(manager):
    circuit = QuantumCircuit(2)
    circuit.append(ECRGate(), [0, 1])
    with pytest.raises(ValueError, match=r"'ecr'.*transpile"):
        QmonBackend(manager=manager).run(circuit)
    assert manager.jobs() == []
