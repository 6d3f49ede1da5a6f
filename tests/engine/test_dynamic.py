"""Dynamic circuits at scale: steps built once, fusion across resets, bounded memory."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from qmon_jupyter.circuits.ir import Circuit, Condition, Instruction
from qmon_jupyter.engine import prepare, run
from qmon_jupyter.engine.fusion import FusedGate

from .test_counts import ALPHA, _chi2_two_sample


def reset_heavy(num_qubits: int, rounds: int, seed: int, random_resets: int = 4) -> Circuit:
    """Rounds of entangling gates with an ancilla computed, measured and reset.

    Each round computes a parity of two data qubits into the last qubit,
    measures it into a clbit, undoes it and resets it; ``random_resets`` times a
    data qubit in superposition is reset too (each such reset splits shots).
    """
    rng = np.random.default_rng(seed)
    i = Instruction
    n, anc = num_qubits, num_qubits - 1
    ops = [i("h", (q,)) for q in range(n - 1)]
    random_at = set(rng.choice(rounds, size=min(random_resets, rounds), replace=False).tolist())
    for r in range(rounds):
        a, b = (int(x) for x in rng.choice(n - 1, size=2, replace=False))
        ops.append(i("u3", (a,), tuple(float(x) for x in rng.uniform(-np.pi, np.pi, 3))))
        ops.append(i("cx", (a, b)))
        ops.append(i("cx", (a, anc)))
        ops.append(i("cx", (b, anc)))
        ops.append(i("measure", (anc,), clbits=(r % 4,)))
        ops.append(i("reset", (anc,)))
        ops.append(
            i("rz", (b,), (float(rng.uniform(-np.pi, np.pi)),), condition=Condition((r % 4,), 1))
        )
        if r in random_at:
            ops.append(i("h", (a,)))
            ops.append(i("reset", (a,)))
            ops.append(i("h", (a,)))
    ops.extend(i("measure", (q,), clbits=(4 + q,)) for q in range(n - 1))
    cregs = (*((f"p{j}", 1) for j in range(4)), ("m", n - 1))
    return Circuit(n, 4 + n - 1, tuple(ops), qregs=(("q", n),), cregs=cregs)


def test_a_reset_finishes_only_the_blocks_on_its_qubit():
    i = Instruction
    ops = [i("h", (0,)), i("measure", (0,), clbits=(0,))]
    for _ in range(50):  # gates on qubits 1-3 around resets of qubit 0
        ops += [i("cx", (1, 2)), i("reset", (0,)), i("rx", (3,), (0.3,)), i("cx", (2, 3))]
    ops.append(i("measure", (1,), clbits=(1,)))
    plan = prepare(Circuit(4, 2, tuple(ops)))
    plan.run_batch(0, 10, seed=1)
    blocks = [s for s in plan._steps if isinstance(s, FusedGate)]
    assert len(blocks) == 1  # the 150 gates on qubits 1-3 are one block
    assert blocks[0].num_gates == 150


def test_reset_heavy_counts_match_aer():
    aer = pytest.importorskip("qiskit_aer")
    from qiskit import transpile

    from qmon_jupyter.circuits import to_qasm

    from .conftest import qiskit_circuit

    circuit = reset_heavy(5, 12, seed=3)
    ours = run(circuit, 4000, seed=8)
    sim = aer.AerSimulator(seed_simulator=5)
    qc = transpile(qiskit_circuit(to_qasm(circuit)), sim, optimization_level=0)
    theirs = sim.run(qc, shots=4000).result().get_counts()
    theirs = {k.replace(" ", ""): v for k, v in theirs.items()}

    # the final measurements only (the first 4 clbits are overwritten parities)
    def final(counts):
        out: dict[str, int] = {}
        for k, v in counts.items():
            out[k[:-4]] = out.get(k[:-4], 0) + v
        return out

    assert _chi2_two_sample(final(ours), final(theirs)) >= ALPHA
    assert _chi2_two_sample(ours, theirs) >= ALPHA


def test_memory_stays_at_three_states_whatever_the_branches(monkeypatch):
    from qmon_jupyter.engine import memory
    from qmon_jupyter.engine.statevector import release_buffers

    circuit = reset_heavy(12, 16, seed=4, random_resets=6)  # every round may split
    state_bytes = 16 * 2**12
    monkeypatch.setattr(memory, "BRANCH_COPY_BUDGET", 8 * state_bytes)  # one copy regime
    assert memory.branch_copy_budget(state_bytes) == state_bytes
    plan = prepare(circuit)
    assert plan.memory_bytes <= 3 * state_bytes + (2 << 20)
    plan.evolve()
    release_buffers()
    tracemalloc.start()
    try:
        bounded = plan.run_batch(0, 300, seed=2)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # beside the cached prefix state: a working state and one branch copy
    assert peak <= 2 * state_bytes + (1 << 20)
    assert len(bounded) > 50  # the shots did split into many branches
    monkeypatch.setattr(memory, "BRANCH_COPY_BUDGET", 1 << 30)  # a copy for every sibling
    assert prepare(circuit).run_batch(0, 300, seed=2) == bounded
    monkeypatch.setattr(memory, "BRANCH_COPY_BUDGET", 0)  # every sibling replays
    assert prepare(circuit).run_batch(0, 300, seed=2) == bounded


def test_steps_are_built_once_per_plan_whatever_the_batches(monkeypatch):
    from qmon_jupyter.engine import simulator

    calls = []
    real = simulator.build_steps
    monkeypatch.setattr(simulator, "build_steps", lambda *a: calls.append(1) or real(*a))
    circuit = reset_heavy(5, 30, seed=1)
    run(circuit, 500, seed=1, batch_size=50)
    assert calls == [1]


def test_single_precision_reset_heavy_matches_double_in_distribution():
    circuit = reset_heavy(5, 12, seed=6)
    single = run(circuit, 4000, seed=1, precision="single")
    double = run(circuit, 4000, seed=2)
    assert _chi2_two_sample(single, double) >= ALPHA


def test_peak_memory_is_three_states_with_the_prefix_included(monkeypatch):
    # Three states: the cached prefix, the working state and one branch copy.
    # Every ancilla measurement here is random (the shots split at each of
    # the 12 rounds) and 2 data qubits are reset at random. Beyond the three
    # states, < 0.1 state of temporaries at 18 qubits: an expanded diagonal
    # (a conditioned rz: 2**13 amplitudes and their indices, a fixed size,
    # 0.06 of this state, 0.015 of a 20-qubit one) and chunked copies (1/64).
    from qmon_jupyter.engine import memory

    n = 18
    state_bytes = 16 * 2**n
    monkeypatch.setattr(memory, "BRANCH_COPY_BUDGET", 8 * state_bytes)  # the regime of >= 19
    circuit = reset_heavy(n, 12, seed=9, random_resets=2)
    prepare(circuit).evolve()  # the per-thread block buffers (1 MiB each, any size) exist now

    def peak_states() -> tuple[float, dict[str, int]]:
        plan = prepare(circuit)
        tracemalloc.start()
        try:
            plan.evolve()
            counts = plan.run_batch(0, 16, seed=3)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        return peak / state_bytes, counts

    ratio, counts = peak_states()
    assert len(counts) >= 8  # many branches
    assert ratio <= 3.1
    # the measurement sees branch copies: with room for one per sibling it grows
    monkeypatch.setattr(memory, "BRANCH_COPY_BUDGET", 1 << 30)
    ratio_many, counts_many = peak_states()
    assert counts_many == counts
    assert ratio_many > 3.5
