"""Fusion of long programs: the same state as Qiskit, and few blocks for gates on few qubits."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from qmon_jupyter.circuits import parse_qasm
from qmon_jupyter.circuits.ir import Circuit, Instruction
from qmon_jupyter.engine import prepare
from qmon_jupyter.engine.fusion import fuse, product
from qmon_jupyter.engine.gates import apply_to_matrix, embed

from .conftest import fidelity, qiskit_statevector, random_circuit

TOLERANCE = 1e-10
HEADER = 'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[10];\ncreg c[10];\n'


def test_embed_is_the_gate_applied_to_the_identity():
    rng = np.random.default_rng(3)
    for k in range(1, 6):
        for m in range(1, min(k, 3) + 1):
            for positions in itertools.permutations(range(k), m):
                u = rng.normal(size=(2**m, 2**m)) + 1j * rng.normal(size=(2**m, 2**m))
                eye = np.eye(2**k, dtype=np.complex128)
                assert np.array_equal(embed(u, positions, k), apply_to_matrix(eye, u, positions, k))


@pytest.mark.parametrize("count", [1, 2, 3, 8, 9, 17, 64, 1001])
def test_product_multiplies_in_circuit_order(count):
    rng = np.random.default_rng(count)
    shape = (count, 4, 4)
    mats = list(np.linalg.qr(rng.normal(size=shape) + 1j * rng.normal(size=shape))[0])
    expected = np.eye(4, dtype=np.complex128)
    for m in mats:
        expected = m @ expected
    assert np.abs(product(mats) - expected).max() <= 1e-14 * count


@pytest.mark.parametrize("width", [2, 3, 5])
def test_a_long_random_program_matches_qiskit(width):
    rng = np.random.default_rng(width)
    circuit, qasm = random_circuit(rng, 8, num_gates=2000)
    plan = prepare(circuit, fusion_width=width)
    assert sum(b.num_gates for b in plan.blocks) == len(circuit.instructions)
    assert fidelity(qiskit_statevector(qasm), plan.statevector()) >= 1 - TOLERANCE


def _confined_program(rng: np.random.Generator, num_gates: int) -> tuple[Circuit, str]:
    """Random gates within qubits 0-2 or 3-5, with a rare one across: long blocks that merge."""
    ops, lines = [], ["OPENQASM 2.0;", 'include "qelib1.inc";', "qreg q[6];"]
    for i in range(num_gates):
        group = (0, 1, 2) if rng.random() < 0.5 else (3, 4, 5)
        if i % 997 == 0:
            group = (2, 3)
        kind = rng.integers(0, 4)
        if kind == 0:
            a, b = (int(q) for q in rng.choice(group, 2, replace=False))
            name, qubits, params = "cx", (a, b), ()
        elif kind == 1:
            a, b = (int(q) for q in rng.choice(group, 2, replace=False))
            name, qubits, params = "cp", (a, b), (float(rng.uniform(-math.pi, math.pi)),)
        elif kind == 2:
            name, qubits, params = "h", (int(rng.choice(group)),), ()
        else:
            name, qubits, params = "ry", (int(rng.choice(group)),), (float(rng.normal()),)
        ops.append(Instruction(name, qubits, params))
        p = "(" + ",".join(repr(x) for x in params) + ")" if params else ""
        lines.append(f"{name}{p} " + ",".join(f"q[{q}]" for q in qubits) + ";")
    return Circuit(6, 0, tuple(ops), qregs=(("q", 6),)), "\n".join(lines) + "\n"


def test_long_blocks_that_merge_match_qiskit():
    circuit, qasm = _confined_program(np.random.default_rng(11), 5_000)
    plan = prepare(circuit, fusion_width=4)
    assert max(b.num_gates for b in plan.blocks) > 400  # blocks of hundreds of gates
    assert fidelity(qiskit_statevector(qasm), plan.statevector()) >= 1 - TOLERANCE


def test_repeated_h_cx_on_ten_qubits_fuses_into_one_block_whatever_its_length():
    for pairs in (10, 5_000, 50_000):
        circuit = parse_qasm(HEADER + "h q[0];\ncx q[0],q[1];\n" * pairs + "measure q -> c;\n")
        plan = prepare(circuit)
        assert len(plan.blocks) == 1
        (block,) = plan.blocks
        assert block.qubits == (0, 1)
        assert block.num_gates == 2 * pairs
        pair = fuse(circuit.instructions[:2])[0].matrix
        assert np.allclose(block.matrix, np.linalg.matrix_power(pair, pairs), atol=1e-9)


def test_a_block_count_does_not_grow_with_gates_on_the_same_qubits():
    def blocks(repeats: int) -> int:
        line = "h q[0];\ncx q[0],q[1];\nrz(0.25) q[2];\nccx q[0],q[1],q[2];\ncx q[3],q[4];\n"
        text = HEADER + line * repeats + "cx q[4],q[5];\n"
        return len(fuse(parse_qasm(text).instructions, width=3))

    assert blocks(10) == blocks(10_000) == 2  # {0, 1, 2} and {3, 4, 5}


def test_a_plan_too_large_to_keep_its_blocks_fuses_again_as_it_evolves(monkeypatch):
    from qmon_jupyter.engine import simulator

    circuit, qasm = random_circuit(np.random.default_rng(5), 7, num_gates=400)
    kept = prepare(circuit, fusion_width=4)
    monkeypatch.setattr(simulator, "BLOCK_CACHE_BYTES", 0)
    streamed = prepare(circuit, fusion_width=4)
    assert streamed.block_costs == kept.block_costs
    assert streamed._blocks is None  # nothing kept beyond the costs
    reports: list[tuple[float, float]] = []
    state = streamed.statevector(on_work=lambda done, total: reports.append((done, total)))
    assert len(reports) == len(kept.block_costs)
    assert reports[-1] == pytest.approx((kept.evolution_work, kept.evolution_work))
    assert np.array_equal(state, kept.statevector())
    assert fidelity(qiskit_statevector(qasm), state) >= 1 - TOLERANCE
