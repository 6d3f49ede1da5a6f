"""Progress weighted by estimated work, and yields within a block of a large state."""

from __future__ import annotations

import numpy as np
import pytest

from qmon_jupyter.circuits.ir import Circuit, Instruction
from qmon_jupyter.engine import Interrupted, prepare, simulate_statevector
from qmon_jupyter.engine import statevector as sv
from qmon_jupyter.engine.fusion import FusedGate, block_cost

from .conftest import fidelity, qiskit_statevector, random_circuit


def test_block_costs_weigh_dense_blocks_by_width_and_diagonals_as_one_pass():
    n = 20
    diag = FusedGate((0, 5), None, np.ones(4, complex), 3)
    dense = {k: FusedGate(tuple(range(k)), np.eye(1 << k, dtype=complex), None, 1) for k in (1, 5)}
    assert block_cost(diag, n) == 2**n
    assert block_cost(diag, n) < block_cost(dense[1], n) < block_cost(dense[5], n)
    assert block_cost(dense[5], n + 1) == 2 * block_cost(dense[5], n)


def test_plan_reports_a_cost_for_every_block_and_on_work_adds_up_to_it():
    rng = np.random.default_rng(4)
    circuit, _ = random_circuit(rng, 10, 200)
    plan = prepare(circuit, fusion_width=3)
    costs = plan.block_costs
    assert len(costs) == len(plan.blocks) > 5
    assert all(c > 0 for c in costs)
    assert plan.evolution_work == pytest.approx(sum(costs))
    reports: list[tuple[float, float]] = []
    plan.evolve(on_work=lambda done, total: reports.append((done, total)))
    dones = [d for d, _ in reports]
    assert dones == sorted(dones)
    assert reports[-1] == (pytest.approx(plan.evolution_work), pytest.approx(plan.evolution_work))
    assert np.allclose(np.cumsum(costs), dones)  # one report per block on a small state


def test_a_large_state_yields_within_a_block_and_stops_there(monkeypatch):
    # an 18-qubit state is "large" here: 8 slices of a block's 2**18 amplitudes
    monkeypatch.setattr(sv, "_YIELD_AMPLITUDES", sv.BLOCK_AMPLITUDES)
    rng = np.random.default_rng(9)
    circuit, qasm = random_circuit(rng, 18, 60)
    plan = prepare(circuit)
    blocks = len(plan.blocks)
    asked = 0

    def should_continue() -> bool:
        nonlocal asked
        asked += 1
        return True

    reports: list[float] = []
    state = plan.statevector(should_continue, on_work=lambda done, _total: reports.append(done))
    assert asked > 2 * blocks  # asked between slices, not only between blocks
    assert len(reports) > 2 * blocks
    assert reports == sorted(reports)
    assert fidelity(qiskit_statevector(qasm), state) >= 1 - 1e-10  # slicing changes nothing

    limit = asked // 2
    asked = 0

    def stop_midway() -> bool:
        nonlocal asked
        asked += 1
        return asked < limit

    stopped_at: list[float] = []
    with pytest.raises(Interrupted):
        plan.evolve(stop_midway, on_work=lambda done, _total: stopped_at.append(done))
    assert not plan.evolved
    assert 0 < stopped_at[-1] < plan.evolution_work
    assert asked == limit


def test_simulate_statevector_passes_progress_through():
    circuit = Circuit(3, 0, (Instruction("h", (0,)), Instruction("cx", (0, 2))))
    seen: list[tuple[float, float]] = []
    simulate_statevector(circuit, on_work=lambda d, t: seen.append((d, t)))
    assert seen
    assert seen[-1][0] == pytest.approx(seen[-1][1])


def test_a_long_trajectory_branch_is_interrupted_between_its_steps():
    i = Instruction
    ops = [i("h", (0,)), i("measure", (0,), clbits=(0,))]
    for r in range(400):
        ops += [i("rx", (1,), (0.1 * r,)), i("reset", (2,)), i("cx", (1, 2))]
    plan = prepare(Circuit(3, 1, tuple(ops)))
    plan.evolve()
    asked = 0

    def should_continue() -> bool:
        nonlocal asked
        asked += 1
        return asked < 5

    with pytest.raises(Interrupted):
        plan.run_batch(0, 1, seed=1, should_continue=should_continue)  # one shot: one branch
    assert asked == 5
