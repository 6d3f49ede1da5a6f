"""JobManager: admission, queue positions, cancel, pause, failure, shutdown, cleanup."""

from __future__ import annotations

import functools
import gc
import weakref

import pytest

from qmon_jupyter import JobCancelled, JobFailed, ResourceError
from qmon_jupyter.circuits.ir import Circuit, Instruction
from qmon_jupyter.engine import run as engine_run
from qmon_jupyter.jobs import JobManager, JobStateError, JobStatus, JobType

from .._support import wait_until
from .conftest import TIMEOUT, Gate, ghz, random_layers

S = JobStatus


def positions(manager: JobManager) -> list[int]:
    return sorted(j.queue_position for j in manager.jobs(status=S.QUEUED))


def test_jobs_beyond_the_limit_queue_with_positions_one_to_k(manager):
    gates = [Gate() for _ in range(7)]
    jobs = [manager.submit_function(g, name=f"g{i}") for i, g in enumerate(gates)]
    assert [j.status for j in jobs[:4]] == [S.RUNNING] * 4
    assert [j.queue_position for j in jobs[4:]] == [1, 2, 3]
    gates[0].finish()
    assert jobs[0].wait(TIMEOUT)
    assert wait_until(lambda: jobs[4].status is S.RUNNING)
    assert [j.queue_position for j in jobs[5:]] == [1, 2]
    for g in gates:
        g.finish()
    assert all(j.wait(TIMEOUT) for j in jobs)
    assert all(j.status is S.COMPLETED for j in jobs)


def test_cancel_while_queued_never_starts_the_job(manager):
    gates = [Gate() for _ in range(6)]
    jobs = [manager.submit_function(g) for g in gates]
    assert jobs[4].status is S.QUEUED
    assert jobs[4].cancel() is True
    assert jobs[4].status is S.CANCELLED
    assert positions(manager) == [1]
    for g in gates:
        g.finish()
    assert all(j.wait(TIMEOUT) for j in jobs)
    assert not gates[4].started.is_set()
    with pytest.raises(JobCancelled):
        jobs[4].result(0)


def test_fifty_concurrent_jobs_all_complete(manager):
    def work(reporter, token, n):
        for _ in range(n):
            token.check()
            reporter.update()
        return n

    jobs = [manager.submit_function(work, i, total=i) for i in range(60)]
    assert all(j.wait(TIMEOUT * 3) for j in jobs)
    assert [j.result().value for j in jobs] == list(range(60))
    stats = manager.stats()
    assert stats["by_status"]["completed"] == 60
    assert stats["success_rate"] == 1.0


def test_failing_job_keeps_its_traceback_and_the_manager_keeps_working(manager):
    gate = Gate()
    job = manager.submit_function(gate)
    gate.fail()
    assert job.wait(TIMEOUT)
    assert job.status is S.FAILED
    assert job.error == {"type": "RuntimeError", "message": "the gate made this job fail"}
    assert "the gate made this job fail" in job.traceback
    assert "in __call__" in job.traceback
    with pytest.raises(JobFailed) as info:
        job.result(0)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert info.value.traceback == job.traceback
    after = manager.submit_function(lambda r, t: 42)
    assert after.result(TIMEOUT).value == 42


def test_unknown_id_raises_key_error_naming_it(manager):
    with pytest.raises(KeyError, match="nope123"):
        manager.get("nope123")
    with pytest.raises(KeyError, match="nope123"):
        manager.cancel("nope123")


def test_pausing_a_finished_job_is_a_clear_error_and_changes_nothing(manager):
    job = manager.submit_function(lambda r, t: 1)
    assert job.wait(TIMEOUT)
    # Worded by core.actions.refusal, as REST words it.
    with pytest.raises(JobStateError, match=r"cannot pause job \w+: it is already completed"):
        job.pause()
    with pytest.raises(JobStateError, match=r"cannot resume job \w+: it is already completed"):
        job.resume()
    assert job.status is S.COMPLETED


def test_pausing_a_queued_job_is_refused(manager):
    gates = [Gate() for _ in range(5)]
    jobs = [manager.submit_function(g) for g in gates]
    with pytest.raises(JobStateError, match="only a running job can be paused"):
        jobs[4].pause()
    with pytest.raises(JobStateError, match="only a paused job can be resumed"):
        jobs[4].resume()
    assert jobs[4].status is S.QUEUED
    for g in gates:
        g.finish()


def test_pause_and_resume_a_function_job_cooperatively(manager):
    gate = Gate()
    job = manager.submit_function(gate, total=10)
    gate.release(2)
    assert wait_until(lambda: gate.done_steps == 2)
    job.pause()
    assert job.status is S.PAUSED
    gate.release(3)
    # At most the step in progress when pause arrived completes; then the
    # body is parked in token.check() until resumed.
    assert not wait_until(lambda: gate.done_steps > 3, timeout=0.2)
    job.resume()
    assert wait_until(lambda: gate.done_steps == 5)
    gate.finish()
    assert job.result(TIMEOUT).value == 5


def test_cancel_a_paused_job_ends_it(manager):
    gate = Gate()
    job = manager.submit_function(gate)
    assert gate.started.wait(TIMEOUT)
    job.pause()
    assert job.cancel()
    assert job.wait(TIMEOUT)
    assert job.status is S.CANCELLED


def test_submit_after_shutdown_raises_runtime_error():
    m = JobManager()
    m.shutdown()
    with pytest.raises(RuntimeError, match="shut down"):
        m.submit_function(lambda r, t: None)
    with pytest.raises(RuntimeError, match="shut down"):
        m.submit(ghz(), shots=10)


def test_shutdown_without_cancel_futures_still_runs_queued_jobs():
    m = JobManager(max_concurrent_jobs=1)
    jobs = [m.submit_function(lambda r, t, i=i: i) for i in range(5)]
    m.shutdown(wait=True)
    assert [j.status for j in jobs] == [S.COMPLETED] * 5


def test_shutdown_with_cancel_futures_cancels_only_what_has_not_started():
    m = JobManager(max_concurrent_jobs=1)
    gate = Gate()
    first = m.submit_function(gate)
    rest = [m.submit_function(lambda r, t: 1) for _ in range(3)]
    assert gate.started.wait(TIMEOUT)
    m.shutdown(wait=False, cancel_futures=True)
    assert [j.status for j in rest] == [S.CANCELLED] * 3
    assert first.status is S.RUNNING
    gate.finish()
    assert first.result(TIMEOUT).value == 0
    m.shutdown(wait=True)


def test_shutdown_cancel_running_stops_running_jobs():
    m = JobManager()
    gate = Gate()
    job = m.submit_function(gate)
    assert gate.started.wait(TIMEOUT)
    m.shutdown(wait=True, cancel_running=True)
    assert job.status is S.CANCELLED


def test_a_forgotten_managers_threads_exit():
    m = JobManager(max_concurrent_jobs=3)
    jobs = [m.submit_function(lambda r, t: 1) for _ in range(3)]
    assert all(j.wait(TIMEOUT) for j in jobs)
    m.events.subscribe(lambda e: None)
    threads = [*m._scheduler.threads, m._housekeeper, *(s.thread for s in m.events._subscribers)]
    ref = weakref.ref(m)
    del m
    gc.collect()
    assert ref() is None
    assert wait_until(lambda: not any(t.is_alive() for t in threads))
    # Jobs outlive their manager as plain objects.
    assert jobs[0].result(0).value == 1
    with pytest.raises(RuntimeError, match="no longer exists"):
        jobs[0].cancel()


def test_a_forgotten_manager_is_collected_even_when_a_subscriber_refers_to_it():
    m = JobManager()
    m.events.subscribe(functools.partial(lambda manager, _event: manager.kernel_id, m))
    assert m.submit_function(lambda r, t: 1).wait(TIMEOUT)
    assert m.events.flush(TIMEOUT)
    threads = [s.thread for s in m.events._subscribers]
    ref = weakref.ref(m)
    del m
    gc.collect()
    assert ref() is None
    assert wait_until(lambda: not any(t.is_alive() for t in threads))


def test_cleanup_keeps_at_most_max_finished_jobs(manager):
    manager.max_finished_jobs = 3
    jobs = [manager.submit_function(lambda r, t: 1) for _ in range(8)]
    assert all(j.wait(TIMEOUT) for j in jobs)
    removed = manager.cleanup()
    assert removed == 5
    newest = sorted(jobs, key=lambda j: j.finished_mono)[-3:]
    assert {j.id for j in manager.jobs()} == {j.id for j in newest}
    assert manager.stats()["removed"] == 5


def test_cleanup_by_age_runs_every_cleanup_interval():
    m = JobManager(cleanup_interval=0.05, max_finished_age_s=0.0, housekeeping_interval=0.02)
    try:
        gate = Gate()
        running = m.submit_function(gate)
        done = m.submit_function(lambda r, t: 1)
        assert done.wait(TIMEOUT)
        assert wait_until(lambda: done.id not in m)
        assert running.id in m  # active jobs are never cleaned up
        gate.finish()
    finally:
        m.shutdown(cancel_running=True)


def test_stats_add_up(manager):
    ok = [manager.submit_function(lambda r, t: 1, job_type=JobType.ANALYSIS) for _ in range(3)]
    bad = manager.submit_function(lambda r, t: 1 / 0)
    gate = Gate()
    running = manager.submit_function(gate)
    assert all(j.wait(TIMEOUT) for j in [*ok, bad])
    stats = manager.stats()
    assert stats["total"] == 5
    assert sum(stats["by_status"].values()) == stats["total"]
    assert sum(stats["by_type"].values()) == stats["total"]
    assert stats["by_type"]["analysis"] == 3
    assert stats["finished"] == 4
    assert stats["active"] == 1
    assert stats["success_rate"] == pytest.approx(3 / 4)
    assert stats["median_duration_s"] is not None
    gate.finish()
    assert running.wait(TIMEOUT)


# ------------------------------------------------------------------ simulations
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


def test_sixty_jobs_run_at_the_same_time():
    m = JobManager(max_concurrent_jobs=64)
    try:
        gates = [Gate() for _ in range(60)]
        jobs = [m.submit_function(g, name=f"g{i}") for i, g in enumerate(gates)]
        assert all(g.started.wait(TIMEOUT) for g in gates)  # all 60 bodies run at once
        assert m.stats()["by_status"]["running"] == 60
        for g in gates:
            g.release(2)
            g.finish()
        assert all(j.wait(TIMEOUT) for j in jobs)
        assert all(j.status is S.COMPLETED for j in jobs)
    finally:
        m.shutdown(cancel_running=True)


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


def test_every_module_of_the_job_layer_imports_first_in_a_fresh_interpreter():
    import subprocess
    import sys

    for module in [
        "qmon_jupyter.executors",
        "qmon_jupyter.executors.local",
        "qmon_jupyter.jobs",
        "qmon_jupyter.jobs.manager",
        "qmon_jupyter.dashboard_api",
        "qmon_jupyter.kernel.resources",
    ]:
        done = subprocess.run(
            [sys.executable, "-c", f"import {module}"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, f"{module}: {done.stderr[-1500:]}"


def test_deep_queue_positions_reach_subscribers_without_an_event_storm():
    m = JobManager(max_concurrent_jobs=1, housekeeping_interval=0.05)
    try:
        got = []
        m.events.subscribe(got.append, kinds=["job.progress"])
        gates = [Gate() for _ in range(40)]
        jobs = [m.submit_function(g) for g in gates]
        assert jobs[39].queue_position == 39
        gates[0].finish()
        assert wait_until(lambda: jobs[1].status is S.RUNNING)
        assert jobs[39].queue_position == 38  # always exact in the manager

        def near_updated():  # the next job's new position is published at once
            return any(
                e["job_id"] == jobs[2].id and e["snapshot"]["queue_position"] == 1 for e in got
            )

        assert wait_until(near_updated)

        def far_updated():
            return any(
                e["job_id"] == jobs[39].id and e["snapshot"]["queue_position"] == 38 for e in got
            )

        assert wait_until(far_updated)  # published by housekeeping, later
        for g in gates:
            g.finish()
        assert all(j.wait(TIMEOUT) for j in jobs)
    finally:
        m.shutdown()
