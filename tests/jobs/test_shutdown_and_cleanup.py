"""JobManager lifetime: shutdown, forgotten managers, cleanup, stats, imports."""

from __future__ import annotations

import functools
import gc
import weakref

import pytest

from qmon_jupyter.jobs import JobManager, JobStatus, JobType

from .._support import wait_until
from .conftest import TIMEOUT, Gate, ghz

S = JobStatus


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
