"""Simulation jobs: counts equal the engine's, cancel, pause, checkpoints, executors."""

from __future__ import annotations

import pytest

from qmon_jupyter import ResourceError
from qmon_jupyter.circuits.ir import Circuit, Instruction
from qmon_jupyter.engine import SEED_STREAM_VERSION
from qmon_jupyter.engine import run as engine_run
from qmon_jupyter.jobs import JobManager, JobStatus

from .._support import wait_until
from .conftest import TIMEOUT, ghz, random_layers

S = JobStatus


def test_simulation_counts_equal_the_engine_with_the_same_seed(manager):
    circuit = random_layers(6)
    job = manager.submit(circuit, shots=3000, seed=11, batch_size=500)
    result = job.result(TIMEOUT)
    assert result.counts == engine_run(circuit, 3000, seed=11, batch_size=500)
    assert result.shots == 3000
    snap = job.snapshot()
    assert snap["status"] == "completed"
    assert snap["done"] == 3000
    assert snap["result_summary"]["shots"] == 3000
    top = snap["result_summary"]["top"]
    best = sorted(result.counts.values(), reverse=True)[:16]
    assert [v for _, v in top] == best  # ranked from the raw counts, same as from the dict
    assert all(result.counts[k] == v for k, v in top)
    assert manager.stats()["throughput"]["shots"] == 3000


def test_a_job_without_seed_gets_one_that_reproduces_it(manager):
    job = manager.submit(random_layers(5), shots=500)
    result = job.result(TIMEOUT)
    assert isinstance(job.seed, int)
    assert result.counts == engine_run(
        random_layers(5), 500, seed=job.seed, batch_size=result.shots
    )


def test_cancel_of_a_running_simulation_stops_within_one_batch(manager, gated_plans):
    job = manager.submit(ghz(4), shots=1000, seed=1, batch_size=100)
    plan = gated_plans[0]
    plan.release(3)
    assert wait_until(lambda: len(plan.ran) == 3)
    assert plan.entered.wait(TIMEOUT)
    job.cancel()
    plan.release(1)  # the batch in flight may finish; no other starts
    assert job.wait(TIMEOUT)
    assert job.status is S.CANCELLED
    assert len(plan.ran) <= 4
    plan.release(10)
    assert not wait_until(lambda: len(plan.ran) > 4, timeout=0.2)


def test_pause_resume_gives_the_same_counts_as_a_straight_run(manager, gated_plans):
    circuit = random_layers(6)
    job = manager.submit(circuit, shots=2000, seed=7, batch_size=200)
    plan = gated_plans[0]
    plan.release(4)
    assert wait_until(lambda: len(plan.ran) == 4)
    job.pause()
    assert job.status is S.PAUSED
    plan.release(100)
    assert not wait_until(lambda: len(plan.ran) > 5, timeout=0.3)
    job.resume()
    result = job.result(TIMEOUT)
    assert result.counts == engine_run(circuit, 2000, seed=7, batch_size=200)


def test_a_simulation_that_cannot_fit_is_refused_and_nothing_starts(manager):
    big = Circuit(60, 0, (Instruction("h", (0,)),), name="too big")
    with pytest.raises(ResourceError) as info:
        manager.submit(big, shots=10)
    assert info.value.needed_bytes > 0
    assert manager.jobs() == []


def test_bad_shots_are_refused_at_submit(manager):
    with pytest.raises(ValueError, match="shots"):
        manager.submit(ghz(), shots=0)
    assert manager.jobs() == []


def test_checkpoint_events_allow_resuming_with_identical_counts(manager, gated_plans):
    from qmon_jupyter.kernel import resume

    checkpoints = []
    manager.events.subscribe(checkpoints.append, kinds=["job.checkpoint"])
    circuit = random_layers(6)
    job = manager.submit(circuit, shots=1500, seed=3, batch_size=100, name="ckpt")
    plan = gated_plans[0]
    plan.release(5)
    assert wait_until(lambda: len(plan.ran) == 5)
    job.cancel()
    plan.release(1)
    assert job.wait(TIMEOUT)
    assert manager.events.flush(TIMEOUT)
    last = checkpoints[-1]["data"]
    assert 5 <= last["batches_done"] <= 6
    assert sum(last["counts"].values()) == 100 * last["batches_done"]

    class Store:
        def load_checkpoint(self, job_id):
            assert job_id == job.id
            return {"job_id": job_id, "name": last["name"], **last}

    resumed = resume(job.id, manager=manager, store=Store())
    gated_plans[1].release(100)
    result = resumed.result(TIMEOUT)
    assert resumed.snapshot()["resumed_from"] == job.id
    assert len(gated_plans[1].ran) == 15 - last["batches_done"]
    assert result.counts == engine_run(circuit, 1500, seed=3, batch_size=100)


class ReverseExecutor:
    """Runs batches last-first, reporting plain dicts: the out-of-order case (as on Dask)."""

    name = "reverse"

    def __init__(self) -> None:
        self.reported: list[int] = []

    def run_batches(self, plan, batches, seed, control):
        for batch in reversed(batches):
            if not control.should_continue():
                return
            counts = plan.run_batch(batch.index, batch.shots, seed, control.should_continue)
            self.reported.append(batch.index)
            control.batch_done(batch.index, batch.shots, counts)

    def close(self):
        pass


def test_batches_reported_out_of_order_sum_to_the_same_counts():
    executor = ReverseExecutor()
    m = JobManager(executor=executor)
    try:
        circuit = random_layers(6)
        job = m.submit(circuit, shots=1000, seed=5, batch_size=100)
        assert job.snapshot()["executor"] == "reverse"
        assert job.result(TIMEOUT).counts == engine_run(circuit, 1000, seed=5, batch_size=100)
        assert executor.reported == list(range(9, -1, -1))
        # The local executor stays available by name.
        local = m.submit(circuit, shots=1000, seed=5, batch_size=100, backend="local")
        assert local.result(TIMEOUT).counts == job.result().counts
    finally:
        m.shutdown()


def test_a_checkpoint_claims_only_the_contiguous_prefix_of_batches():
    import threading

    from qmon_jupyter.jobs._signals import JobSignals
    from qmon_jupyter.jobs._simulation import SimulationRun, SimulationSpec

    class Job:
        signals = JobSignals(threading.Condition())
        id = "j"
        elapsed_s = 0.0

        class tracker:  # noqa: N801
            @staticmethod
            def batch_done(shots):
                pass

    spec = SimulationSpec(
        circuit=None,
        plan=None,
        shots=40,
        seed=1,
        sizes=[10, 10, 10, 10],
        start_batch=0,
        initial_counts=None,
        backend="local",
    )
    run = SimulationRun(Job(), spec, checkpoint=lambda r: None, checkpoint_interval=1e9)
    run.batch_done(2, 10, {"11": 10})
    run.batch_done(0, 10, {"00": 10})
    assert run.checkpoint_data() == (1, {"00": 10})
    run.batch_done(1, 10, {"01": 10})
    assert run.checkpoint_data() == (3, {"00": 10, "01": 10, "11": 10})
    run.batch_done(1, 10, {"01": 10})  # a duplicate report counts once
    run.batch_done(3, 10, {"00": 10})
    result, summary = run.result()
    assert result.counts == {"00": 20, "01": 10, "11": 10}
    assert summary == {"top": [["00", 20], ["01", 10], ["11", 10]], "shots": 40}


def test_mid_circuit_measurement_runs_in_trajectory_mode_with_engine_counts(manager):
    ops = (
        Instruction("h", (0,)),
        Instruction("measure", (0,), clbits=(0,)),
        Instruction("reset", (0,)),
        Instruction("h", (0,)),
        Instruction("cx", (0, 1)),
        Instruction("measure", (0,), clbits=(1,)),
        Instruction("measure", (1,), clbits=(2,)),
    )
    circuit = Circuit(2, 3, ops, name="mid")
    job = manager.submit(circuit, shots=400, seed=8, batch_size=50)
    assert job.result(TIMEOUT).counts == engine_run(circuit, 400, seed=8, batch_size=50)
    assert job.snapshot()["memory_bytes"] > 0


def test_checkpoints_are_throttled_and_cover_a_growing_prefix(gated_plans):
    m = JobManager(checkpoint_interval=0.0)
    try:
        got = []
        m.events.subscribe(got.append, kinds=["job.checkpoint"])
        job = m.submit(ghz(3), shots=500, seed=2, batch_size=100)
        plan = gated_plans[0]
        for k in range(1, 6):
            plan.release(1)
            assert wait_until(lambda k=k: len(plan.ran) == k)
        assert job.wait(TIMEOUT)
        assert m.events.flush(TIMEOUT)
        done = [e["data"]["batches_done"] for e in got]
        assert done == sorted(done)
        assert len(done) >= 4
        assert got[-1]["data"]["spec"]["batch_size"] == 100
        assert got[-1]["data"]["spec"]["seed_stream"] == SEED_STREAM_VERSION
        assert got[-1]["snapshot"]["id"] == job.id
    finally:
        m.shutdown()


def test_no_checkpoint_is_built_when_nobody_listens(manager, gated_plans, monkeypatch):
    from qmon_jupyter.jobs._simulation import SimulationRun

    calls = []
    monkeypatch.setattr(SimulationRun, "checkpoint_data", lambda self: calls.append(1))
    manager.checkpoint_interval = 0.0
    job = manager.submit(ghz(3), shots=300, seed=2, batch_size=100)
    gated_plans[0].release(3)
    assert job.wait(TIMEOUT)
    assert calls == []


def test_a_single_precision_job_gives_the_counts_of_its_seed_and_says_so(manager):
    from .conftest import ghz

    single = manager.submit(ghz(4), shots=2000, seed=9, precision="single")
    again = manager.submit(ghz(4), shots=2000, seed=9, precision="single")
    double = manager.submit(ghz(4), shots=2000, seed=9)
    for job in (single, again, double):
        assert job.wait(30)
    assert single.snapshot()["precision"] == "single"
    assert double.snapshot()["precision"] == "double"
    assert single.result().counts == again.result().counts  # the seed decides
    assert set(single.result().counts) == {"0000", "1111"}
    assert sum(single.result().counts.values()) == 2000


def test_an_unknown_precision_names_the_choices_and_starts_nothing(manager):
    from .conftest import ghz

    with pytest.raises(ValueError, match=r"'single' or 'double'"):
        manager.submit(ghz(2), precision="half")
    assert manager.jobs() == []


def test_a_result_answers_get_counts_as_qiskit_users_expect(manager):
    job = manager.submit(ghz(3), shots=500, seed=4)
    result = job.result(TIMEOUT)
    counts = result.get_counts()
    assert counts == result.counts
    counts["000"] = -1  # a copy: the result stays as it was
    assert result.counts["000"] != -1


def test_the_summary_names_the_registers_when_there_are_several(manager):
    from qmon_jupyter.circuits.qasm2 import parse_qasm

    source = (
        'OPENQASM 2.0; include "qelib1.inc"; qreg q[3]; creg a[1]; creg b[2];'
        " x q[0]; x q[2]; measure q[0] -> a[0]; measure q[1] -> b[0]; measure q[2] -> b[1];"
    )
    two = manager.submit(parse_qasm(source), shots=10, seed=1)
    one = manager.submit(ghz(3), shots=10, seed=1)
    assert two.wait(TIMEOUT)
    assert one.wait(TIMEOUT)
    summary = two.snapshot()["result_summary"]
    assert summary["registers"] == [["a", 1], ["b", 2]]
    assert summary["top"] == [["101", 10]]  # clbit 0 (a[0]) rightmost; the renderer shows "10 1"
    assert "registers" not in one.snapshot()["result_summary"]
