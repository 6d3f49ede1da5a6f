"""JobManager scheduling: slots, queue positions, many jobs at once."""

from __future__ import annotations

import pytest

from qmon_jupyter import JobFailed
from qmon_jupyter.jobs import JobManager, JobStatus

from .._support import wait_until
from .conftest import TIMEOUT, Gate

S = JobStatus


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
