"""Plans, batches, seeds, cancellation, memory pre-check and bad input."""

from __future__ import annotations

import pickle
import tracemalloc
from collections import Counter

import numpy as np
import pytest

from qmon_jupyter.circuits.ir import Circuit, Condition, Instruction
from qmon_jupyter.engine import (
    Interrupted,
    ShotsError,
    SimulationPlan,
    check_memory,
    estimate_memory,
    prepare,
    run,
    validate_shots,
)
from qmon_jupyter.errors import QmonError, ResourceError

from .conftest import random_circuit


def _ghz_with_noise(n: int = 8) -> Circuit:
    rng = np.random.default_rng(5)
    circuit, _ = random_circuit(rng, n, 40)
    measures = tuple(Instruction("measure", (q,), clbits=(q,)) for q in range(n))
    return Circuit(n, n, circuit.instructions + measures)


def _teleport() -> Circuit:
    """Mid-circuit measurements and conditioned corrections (trajectory mode)."""
    i = Instruction
    ops = (
        i("u3", (0,), (1.1, 0.3, -0.7)),
        i("h", (1,)),
        i("cx", (1, 2)),
        i("cx", (0, 1)),
        i("h", (0,)),
        i("measure", (0,), clbits=(0,)),
        i("measure", (1,), clbits=(1,)),
        i("x", (2,), condition=Condition((1,), 1)),
        i("z", (2,), condition=Condition((0,), 1)),
        i("measure", (2,), clbits=(2,)),
    )
    return Circuit(3, 3, ops)


def _merge(parts) -> dict[str, int]:
    total: Counter[str] = Counter()
    for part in parts:
        total.update(part)
    return dict(total)


@pytest.mark.parametrize("make", [_ghz_with_noise, _teleport])
def test_batches_in_any_order_add_up_to_the_straight_run(make):
    circuit = make()
    plan = prepare(circuit)
    sizes = plan.batch_sizes(5000, 700)
    assert sum(sizes) == 5000
    assert sizes[-1] == 5000 % 700
    straight = run(circuit, 5000, seed=42, batch_size=700)
    order = list(range(len(sizes)))
    np.random.default_rng(0).shuffle(order)
    shuffled = _merge(plan.run_batch(i, sizes[i], 42) for i in order)
    assert shuffled == straight
    # a pickled plan (as Dask ships it) and a resumed run (from a checkpoint) agree
    remote = pickle.loads(pickle.dumps(plan))
    first = _merge(plan.run_batch(i, sizes[i], 42) for i in range(3))
    rest = _merge(remote.run_batch(i, sizes[i], 42) for i in range(3, len(sizes)))
    assert _merge([first, rest]) == straight


def test_same_seed_same_counts_other_seed_other_counts():
    circuit = _ghz_with_noise()
    assert run(circuit, 2000, seed=1) == run(circuit, 2000, seed=1)
    assert run(circuit, 2000, seed=1) != run(circuit, 2000, seed=2)


def test_plan_attributes_and_modes():
    plan = prepare(_ghz_with_noise())
    assert (plan.num_qubits, plan.num_clbits, plan.mode) == (8, 8, "sample")
    assert plan.memory_bytes == estimate_memory(8, "sample")
    assert prepare(_teleport()).mode == "trajectory"
    assert not plan.evolved
    plan.evolve()
    assert plan.evolved


def test_pickled_plan_drops_its_cache():
    plan = prepare(_ghz_with_noise())
    plan.evolve()
    data = pickle.dumps(plan)
    assert len(data) < 20_000
    assert not pickle.loads(data).evolved


def test_should_continue_false_stops_between_batches():
    circuit = _ghz_with_noise()
    batches: list[int] = []
    calls = 0

    def should_continue() -> bool:
        nonlocal calls
        calls += 1
        return len(batches) < 3

    with pytest.raises(Interrupted):
        run(
            circuit,
            10_000,
            seed=1,
            batch_size=1000,
            should_continue=should_continue,
            on_batch=lambda done, total: batches.append(done),
        )
    assert batches == [1000, 2000, 3000]


def test_should_continue_false_stops_within_one_gate_block():
    rng = np.random.default_rng(3)
    circuit, _ = random_circuit(rng, 10, 300)
    plan = prepare(circuit, fusion_width=2)
    total = len(plan.blocks)
    assert total > 20
    applied: list[int] = []
    with pytest.raises(Interrupted):
        plan.evolve(
            should_continue=lambda: len(applied) < 5, on_block=lambda d, t: applied.append(d)
        )
    assert applied == [1, 2, 3, 4, 5]
    assert not plan.evolved
    plan.evolve()  # a later evolution starts over and completes
    assert plan.evolved


def test_interrupted_is_a_qmon_error():
    assert issubclass(Interrupted, QmonError)


def test_too_big_circuit_is_refused_before_allocating():
    circuit = Circuit(40, 1, (Instruction("h", (0,)), Instruction("measure", (0,), clbits=(0,))))
    tracemalloc.start()
    try:
        with pytest.raises(ResourceError) as info:
            run(circuit, 10)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10_000_000
    err = info.value
    assert err.needed_bytes >= 16 * 2**40
    assert 0 < err.available_bytes < err.needed_bytes
    assert str(err.needed_bytes) in str(err)
    assert str(err.available_bytes) in str(err)


def test_absurd_qubit_counts_are_refused_even_without_the_memory_check():
    with pytest.raises(ResourceError, match="more than a statevector engine can hold"):
        prepare(Circuit(100, 0, ()), check_memory=False)


def test_check_memory_names_both_numbers():
    with pytest.raises(ResourceError) as info:
        check_memory(1 << 60)
    assert info.value.needed_bytes == 1 << 60
    check_memory(1024)


@pytest.mark.parametrize("shots", [0, -5, 1.5, 10.0, "100", True, False, None, 10**13])
def test_bad_shots_are_refused_and_nothing_starts(shots):
    calls = []
    with pytest.raises(ShotsError):
        run(_ghz_with_noise(), shots, should_continue=lambda: calls.append(1) or True)
    assert calls == []
    assert issubclass(ShotsError, ValueError)


def test_numpy_integers_are_valid_shots():
    assert validate_shots(np.int64(12)) == 12


@pytest.mark.parametrize("batch_size", [0, -1, 2.5])
def test_bad_batch_size_is_refused(batch_size):
    with pytest.raises(ShotsError, match="batch_size"):
        prepare(_ghz_with_noise()).batch_sizes(100, batch_size)


@pytest.mark.parametrize("seed", [-1, 1.5, "x"])
def test_bad_seed_is_refused(seed):
    with pytest.raises(QmonError, match="seed"):
        run(_ghz_with_noise(), 10, seed=seed)


def test_default_batches_cover_the_shots():
    plan = prepare(_ghz_with_noise())
    for shots in (1, 999, 1024, 10**6 + 3):
        sizes = plan.batch_sizes(shots)
        assert sum(sizes) == shots
        assert len(sizes) <= 11


def test_no_measurement_reads_every_qubit():
    counts = run(Circuit(2, 0, (Instruction("x", (1,)),)), 10, seed=0)
    assert counts == {"10": 10}


def test_keys_put_clbit_zero_rightmost_and_unwritten_clbits_read_zero():
    ops = (Instruction("x", (0,)), Instruction("measure", (0,), clbits=(2,)))
    assert run(Circuit(2, 4, ops), 5, seed=0) == {"0100": 5}


def test_reset_after_measurement_follows_each_shot():
    i = Instruction
    ops = (
        i("h", (0,)),
        i("measure", (0,), clbits=(0,)),
        i("reset", (0,)),
        i("measure", (0,), clbits=(1,)),
    )
    counts = run(Circuit(1, 2, ops), 4000, seed=3)
    assert set(counts) <= {"00", "01"}
    assert 1700 < counts["01"] < 2300


def test_teleportation_reproduces_the_input_state():
    counts = run(_teleport(), 20_000, seed=9)
    ones = sum(c for k, c in counts.items() if k[0] == "1")
    # |<1|u3(1.1, ., .)|0>|^2 = sin^2(0.55)
    expected = np.sin(0.55) ** 2
    assert abs(ones / 20_000 - expected) < 5 * np.sqrt(expected * (1 - expected) / 20_000)


def test_simulation_plan_is_exported_and_repr_is_informative():
    assert "mode='sample'" in repr(prepare(_ghz_with_noise()))
    assert SimulationPlan.__name__ == "SimulationPlan"


def _layers_with_measurements(n: int = 6, layers: int = 4) -> Circuit:
    rng = np.random.default_rng(8)
    ops: list[Instruction] = []
    for layer in range(layers):
        circuit, _ = random_circuit(rng, n, 10)
        ops.extend(circuit.instructions)
        ops.append(Instruction("measure", (layer % n,), clbits=(layer,)))
        ops.append(Instruction("x", ((layer + 1) % n,), condition=Condition((layer,), 1)))
    ops.extend(Instruction("measure", (q,), clbits=(layers + q,)) for q in range(n))
    cregs = (*((f"c{i}", 1) for i in range(layers)), ("m", n))
    return Circuit(n, layers + n, tuple(ops), qregs=(("q", n),), cregs=cregs)


def test_branch_snapshots_and_replays_give_the_same_counts(monkeypatch):
    from qmon_jupyter.engine import memory

    circuit = _layers_with_measurements()
    with_copies = run(circuit, 3000, seed=4, batch_size=1000)
    monkeypatch.setattr(memory, "BRANCH_COPY_BUDGET", 0)
    assert run(circuit, 3000, seed=4, batch_size=1000) == with_copies


@pytest.mark.parametrize("precision", ["double", "single"])
def test_trajectory_counts_match_aer_on_layers_with_measurements(precision):
    aer = pytest.importorskip("qiskit_aer")
    from scipy.stats import chi2_contingency

    from qmon_jupyter.circuits import to_qasm

    from .conftest import qiskit_circuit

    circuit = _layers_with_measurements()
    ours = run(circuit, 8000, seed=6, precision=precision)
    from qiskit import transpile

    sim = aer.AerSimulator(seed_simulator=3)
    qc = transpile(qiskit_circuit(to_qasm(circuit)), sim, optimization_level=0)
    theirs = sim.run(qc, shots=8000).result().get_counts()
    theirs = {k.replace(" ", ""): v for k, v in theirs.items()}
    keys = sorted(k for k in set(ours) | set(theirs) if ours.get(k, 0) + theirs.get(k, 0) >= 20)
    table = [[ours.get(k, 0) for k in keys], [theirs.get(k, 0) for k in keys]]
    assert chi2_contingency(table)[1] >= 1e-6


def test_concurrent_batches_evolve_the_state_once():
    import threading

    rng = np.random.default_rng(12)
    circuit, _ = random_circuit(rng, 10, 200)
    plan = prepare(circuit, fusion_width=2)
    applied: list[int] = []
    results: list[dict[str, int]] = []

    def batch(i: int) -> None:
        plan.evolve(on_block=lambda done, total: applied.append(done))
        results.append(plan.run_batch(i, 100, 5))

    threads = [threading.Thread(target=batch, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert len(results) == 4
    assert len(applied) == len(plan.blocks)


def test_should_continue_false_stops_a_trajectory_batch_between_branches():
    plan = prepare(_layers_with_measurements())
    plan.evolve()
    calls = 0

    def should_continue() -> bool:
        nonlocal calls
        calls += 1
        return calls < 4

    with pytest.raises(Interrupted):
        plan.run_batch(0, 5000, 1, should_continue=should_continue)
    assert calls == 4


def test_qiskit_circuits_and_qasm_text_are_accepted():
    from qiskit import QuantumCircuit

    qc = QuantumCircuit(2, 2)
    qc.x(1)
    qc.measure([0, 1], [0, 1])
    assert run(qc, 10, seed=1) == {"10": 10}
    text = (
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\nx q[0];\nmeasure q -> c;\n'
    )
    assert run(text, 7, seed=1) == {"1": 7}


@pytest.mark.parametrize("make", [_ghz_with_noise, _teleport])
def test_raw_batches_format_to_the_same_counts(make):
    plan = prepare(make())
    raw = plan.run_batch_raw(3, 500, 9)
    assert plan.format_counts(raw) == plan.run_batch(3, 500, 9)
    if plan.mode == "sample":
        outcomes, _ = raw
        assert plan.num_outcomes == 2**8
        assert outcomes.max() < plan.num_outcomes
    else:
        assert plan.num_outcomes is None


def test_conditioned_reset_and_measure_follow_the_register():
    i = Instruction
    ops = (
        i("h", (0,)),
        i("measure", (0,), clbits=(0,)),
        # if c0 == 1: reset q0 (so q0 reads 0 again) and measure q1 (|1>) into c1
        i("x", (1,)),
        i("reset", (0,), condition=Condition((0,), 1)),
        i("measure", (1,), clbits=(1,), condition=Condition((0,), 1)),
        i("measure", (0,), clbits=(2,)),
    )
    counts = run(Circuit(2, 3, ops), 4000, seed=2)
    # c0 = 0: nothing else happens, q0 still 0 -> "000"; c0 = 1: c1 = 1, q0 reset -> "011"
    assert set(counts) == {"000", "011"}
    assert 1700 < counts["011"] < 2300
