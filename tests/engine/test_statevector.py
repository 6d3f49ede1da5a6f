"""The final state agrees with Qiskit's Statevector to 1e-10 in fidelity."""

from __future__ import annotations

import numpy as np
import pytest

from qmon_jupyter.circuits.ir import Circuit, Instruction
from qmon_jupyter.engine import prepare, simulate_statevector
from qmon_jupyter.engine.gates import apply_to_matrix
from qmon_jupyter.engine.statevector import apply_diagonal, apply_unitary
from qmon_jupyter.errors import QmonError

from .conftest import corpus_programs, fidelity, qiskit_statevector, random_circuit

TOLERANCE = 1e-10


@pytest.mark.parametrize("num_qubits", range(1, 13))
@pytest.mark.parametrize("seed", [0, 1])
def test_random_circuit_over_every_gate_matches_qiskit(num_qubits, seed):
    rng = np.random.default_rng(1000 * seed + num_qubits)
    circuit, qasm = random_circuit(rng, num_qubits, num_gates=12 * num_qubits)
    ours = simulate_statevector(circuit)
    assert ours.dtype == np.complex128
    assert fidelity(qiskit_statevector(qasm), ours) >= 1 - TOLERANCE


@pytest.mark.parametrize("width", [1, 2, 3, 4, 5, 6])
def test_every_fusion_width_gives_the_same_state(width):
    rng = np.random.default_rng(7)
    circuit, qasm = random_circuit(rng, 9, num_gates=150)
    plan = prepare(circuit, fusion_width=width)
    assert fidelity(qiskit_statevector(qasm), plan.statevector()) >= 1 - TOLERANCE


def test_every_corpus_program_matches_qiskit(qasmbench_dir):
    programs = corpus_programs(qasmbench_dir)
    assert len(programs) == 39
    checked = 0
    for name, text, circuit in programs:
        if prepare(circuit).mode != "sample":
            continue  # mid-circuit measurement: no single final state (tested against Aer)
        ours = simulate_statevector(circuit)
        assert fidelity(qiskit_statevector(text), ours) >= 1 - TOLERANCE, name
        checked += 1
    assert checked >= 34


@pytest.mark.parametrize(
    "targets",
    [
        [0],
        [0, 1],
        [1, 3],
        [0, 2, 4],
        [0, 1, 2, 3, 4],
        [8, 9],
        [8, 10],
        [9, 10, 11, 12, 13],
        [17],
        [2, 17],
    ],
)
def test_every_application_path_matches_a_tensordot_reference(targets):
    # 18 qubits: rows (bottom window), columns (consecutive window), gather (the rest)
    rng = np.random.default_rng(len(targets))
    n = 18
    dim = 1 << len(targets)
    u = np.linalg.qr(rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim)))[0]
    state = rng.normal(size=1 << n) + 1j * rng.normal(size=1 << n)
    expected = apply_to_matrix(state.reshape(-1, 1), u, targets, n).ravel()
    apply_unitary(state, u, targets)
    np.testing.assert_allclose(state, expected, atol=1e-12)


@pytest.mark.parametrize("num_targets", [1, 2, 3, 5])
def test_large_state_application_matches_a_tensordot_reference(num_targets):
    # 18 qubits: several blocks, shared among threads, targets anywhere incl. the top qubit
    rng = np.random.default_rng(num_targets)
    n = 18
    for chosen in (
        [n - 1 - i for i in range(num_targets)][::-1],
        sorted(rng.choice(n, num_targets, replace=False)),
    ):
        targets = [int(t) for t in chosen]
        dim = 1 << num_targets
        u = np.linalg.qr(rng.normal(size=(dim, dim)) + 1j * rng.normal(size=(dim, dim)))[0]
        state = rng.normal(size=1 << n) + 1j * rng.normal(size=1 << n)
        expected = apply_to_matrix(state.reshape(-1, 1), u, targets, n).ravel()
        apply_unitary(state, u, targets)
        np.testing.assert_allclose(state, expected, atol=1e-12)
        diag = np.exp(1j * rng.uniform(0, 6, dim))
        expected = apply_to_matrix(state.reshape(-1, 1), np.diag(diag), targets, n).ravel()
        apply_diagonal(state, diag, targets)
        np.testing.assert_allclose(state, expected, atol=1e-12)


def test_terminal_measurements_are_ignored():
    ops = (
        Instruction("h", (0,)),
        Instruction("cx", (0, 1)),
        Instruction("measure", (1,), clbits=(0,)),
    )
    state = simulate_statevector(Circuit(2, 1, ops))
    np.testing.assert_allclose(state, [2**-0.5, 0, 0, 2**-0.5], atol=1e-15)


def test_initial_reset_is_a_no_op():
    ops = (Instruction("reset", (0,)), Instruction("x", (0,)))
    np.testing.assert_allclose(simulate_statevector(Circuit(1, 0, ops)), [0, 1])


def test_mid_circuit_measurement_has_no_statevector():
    ops = (
        Instruction("h", (0,)),
        Instruction("measure", (0,), clbits=(0,)),
        Instruction("x", (0,)),
    )
    with pytest.raises(QmonError, match="mid-circuit measure"):
        simulate_statevector(Circuit(1, 1, ops))


def test_qasm_text_is_accepted():
    state = simulate_statevector('OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\nx q[0];\n')
    np.testing.assert_allclose(state, [0, 1])


@pytest.mark.parametrize(
    ("op", "message"),
    [
        (Instruction("foo", (0,)), "unknown gate 'foo'"),
        (Instruction("x", (5,)), "out of range"),
        (Instruction("cx", (0,)), "acts on 2 qubit"),
        (Instruction("cx", (1, 1)), "used twice"),
        (Instruction("rx", (0,)), "takes 1 parameter"),
        (Instruction("measure", (0,), clbits=(3,)), "clbit index out of range"),
    ],
)
def test_bad_instructions_are_named(op, message):
    with pytest.raises(QmonError, match=message):
        simulate_statevector(Circuit(2, 1, (op,)))
