"""Single precision (complex64) against Qiskit, bad precisions, and the 30-qubit ceiling."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from qmon_jupyter.circuits.ir import Circuit, Instruction
from qmon_jupyter.engine import (
    MAX_QUBITS,
    PrecisionError,
    estimate_memory,
    prepare,
    run,
    simulate_statevector,
)
from qmon_jupyter.errors import QmonError, ResourceError

from .conftest import fidelity, qiskit_statevector, random_circuit
from .test_counts import ALPHA, _chi2_goodness, _chi2_two_sample

SINGLE_TOLERANCE = 1e-5


@pytest.mark.parametrize("num_qubits", [1, 3, 7, 12, 18])
def test_single_precision_state_matches_qiskit(num_qubits):
    rng = np.random.default_rng(77 + num_qubits)
    gates = 12 * num_qubits if num_qubits < 18 else 150  # 18 qubits: the threaded paths
    circuit, qasm = random_circuit(rng, num_qubits, num_gates=gates)
    ours = simulate_statevector(circuit, precision="single")
    assert ours.dtype == np.complex64
    assert fidelity(qiskit_statevector(qasm), ours.astype(np.complex128)) >= 1 - SINGLE_TOLERANCE


def test_double_precision_is_the_default_and_complex128():
    rng = np.random.default_rng(5)
    circuit, _ = random_circuit(rng, 6, 40)
    assert simulate_statevector(circuit).dtype == np.complex128
    assert simulate_statevector(circuit, precision="double").dtype == np.complex128
    assert prepare(circuit).precision == "double"


@pytest.mark.parametrize("measured", [None, (1, 4, 6)])
def test_single_precision_counts_match_exact_probabilities(measured):
    from qiskit.quantum_info import Statevector

    from .conftest import qiskit_circuit

    rng = np.random.default_rng(31)
    circuit, qasm = random_circuit(rng, 8, 80)
    qubits = measured or tuple(range(8))
    ops = tuple(Instruction("measure", (q,), clbits=(i,)) for i, q in enumerate(qubits))
    full = Circuit(8, len(qubits), circuit.instructions + ops)
    probs = Statevector(qiskit_circuit(qasm)).probabilities(list(qubits))
    expected = {format(i, f"0{len(qubits)}b"): float(p) for i, p in enumerate(probs)}
    for shots in (200, 20_000):  # inverting the cumulative sums, and the multinomial
        counts = run(full, shots, seed=9, precision="single")
        assert sum(counts.values()) == shots
        assert _chi2_goodness(counts, expected, shots) >= ALPHA


def test_single_precision_trajectories_follow_resets_and_conditions():
    from .test_plan import _layers_with_measurements, _teleport

    for circuit in (_teleport(), _layers_with_measurements()):
        single = run(circuit, 8000, seed=2, precision="single")
        double = run(circuit, 8000, seed=3)  # an independent sample of the same distribution
        assert _chi2_two_sample(single, double) >= ALPHA


@pytest.mark.parametrize("bad", ["float", "Single", "", None, 32, "complex64"])
def test_bad_precision_is_refused_naming_the_choices(bad):
    circuit = Circuit(2, 0, (Instruction("h", (0,)),))
    for call in (
        lambda: run(circuit, 10, precision=bad),
        lambda: prepare(circuit, precision=bad),
        lambda: simulate_statevector(circuit, precision=bad),
        lambda: estimate_memory(2, "sample", bad),
    ):
        with pytest.raises(PrecisionError, match="'single' or 'double'") as info:
            call()
        assert isinstance(info.value, ValueError)
        assert isinstance(info.value, QmonError)


@pytest.mark.parametrize("precision", ["single", "double"])
@pytest.mark.parametrize("check_memory", [True, False])
def test_31_qubits_are_refused_naming_both_numbers_before_allocating(precision, check_memory):
    n = MAX_QUBITS + 1
    circuit = Circuit(n, 1, (Instruction("h", (0,)), Instruction("measure", (0,), clbits=(0,))))
    tracemalloc.start()
    try:
        with pytest.raises(ResourceError) as info:
            prepare(circuit, precision=precision, check_memory=check_memory)
        with pytest.raises(ResourceError):
            run(circuit, 10, precision=precision)
        with pytest.raises(ResourceError):
            simulate_statevector(Circuit(n, 0, ()), precision=precision)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000
    message = str(info.value)
    assert f"{n} qubits" in message
    assert f"at most {MAX_QUBITS} qubits" in message
    assert str(info.value.needed_bytes) in message
    assert str(info.value.available_bytes) in message
    amplitude = 8 if precision == "single" else 16
    assert info.value.needed_bytes >= amplitude * 2**n


def test_30_qubits_are_planned_without_allocating():
    circuit = Circuit(MAX_QUBITS, 0, (Instruction("h", (0,)),))
    plan = prepare(circuit, precision="single", check_memory=False)
    assert plan.memory_bytes >= 8 * 2**MAX_QUBITS
    assert plan.memory_bytes < 1.01 * 8 * 2**MAX_QUBITS + (8 << 20)


@pytest.mark.parametrize("mode", ["statevector", "sample", "trajectory"])
def test_memory_estimate_counts_the_precision(mode):
    n = 24
    single, double = estimate_memory(n, mode, "single"), estimate_memory(n, mode, "double")
    assert single < double
    assert double - single >= (16 - 8) * 2**n  # at least the state's difference


def test_pre_check_refuses_a_state_that_does_not_fit(monkeypatch):
    from qmon_jupyter.engine import memory

    circuit = Circuit(20, 0, (Instruction("h", (0,)),))
    monkeypatch.setattr(memory, "available_memory", lambda: 12 << 20)  # 12 MiB
    prepare(circuit, precision="single")  # 8 MiB of complex64 fits
    with pytest.raises(ResourceError):
        prepare(circuit, precision="double")  # 16 MiB of complex128 does not


@pytest.mark.parametrize("precision", ["single", "double"])
def test_statevector_and_sampling_use_no_second_state(precision):
    from qmon_jupyter.engine.statevector import release_buffers

    n = 20
    rng = np.random.default_rng(8)
    circuit, _ = random_circuit(rng, n, 60)
    state_bytes = (8 if precision == "single" else 16) * 2**n
    slack = 6 << 20  # per-thread block buffers, expanded diagonals, fused matrices
    release_buffers()
    tracemalloc.start()
    try:
        state = simulate_statevector(circuit, precision=precision)
        _, peak_state = tracemalloc.get_traced_memory()
        del state
        tracemalloc.reset_peak()
        tracemalloc.clear_traces()
        plan = prepare(circuit, precision=precision)
        plan.evolve()  # the state, then the probabilities and cumulative sums in its buffer
        _, peak_sample = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak_state <= state_bytes + slack
    assert peak_sample <= state_bytes + slack
