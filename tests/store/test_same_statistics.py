"""The kernel and the store give the same statistics for the same jobs, throughput included."""

from __future__ import annotations

import time

import pytest

from qmon_jupyter.circuits.ir import Circuit, Instruction
from qmon_jupyter.core.stats import HOUR_S, JobRecord, job_statistics
from qmon_jupyter.jobs import JobManager
from qmon_jupyter.kernel import attach_store
from qmon_jupyter.store import Store


def _ghz(n: int) -> Circuit:
    ops = [Instruction("h", (0,))] + [Instruction("cx", (i, i + 1)) for i in range(n - 1)]
    ops += [Instruction("measure", (i,), clbits=(i,)) for i in range(n)]
    return Circuit(n, n, tuple(ops), name="ghz")


def _steps(reporter, token, steps=4):
    for _ in range(steps):
        token.check()
        reporter.update(1)
    return steps


def _fails(reporter, token):
    raise ValueError("no convergence")


@pytest.fixture
def manager():
    m = JobManager(max_concurrent_jobs=1)
    yield m
    m.shutdown(wait=True, cancel_futures=True)


def test_the_same_six_jobs_give_the_same_statistics_on_both_sides(manager, tmp_path):
    store = Store(tmp_path / "qmon.sqlite")
    writer = attach_store(manager, store)
    blocker = manager.submit_function(lambda r, t: time.sleep(0.2), name="holds the slot")
    jobs = [
        blocker,
        manager.submit(_ghz(3), shots=3000, seed=1),
        manager.submit(_ghz(5), shots=1000, seed=2),
        manager.submit_function(_steps, name="steps", total=4),
        manager.submit_function(_fails, name="fails"),
    ]
    cancelled = manager.submit(_ghz(2), shots=100, seed=3)  # queued behind the others
    assert cancelled.cancel("not needed")
    jobs.append(cancelled)
    for job in jobs:
        assert job.wait(30), job
    manager.events.flush(10)
    assert writer.flush(10)
    writer.close()

    now = time.time()
    kernel = manager.stats()
    stored = store.job_stats(now=now)
    assert stored == kernel
    assert kernel["by_status"] == {
        "pending": 0,
        "queued": 0,
        "running": 0,
        "paused": 0,
        "completed": 4,
        "failed": 1,
        "cancelled": 1,
    }
    assert kernel["throughput"]["shots"] == 4000
    assert kernel["throughput"]["jobs_per_hour"] == 6.0  # all six finished in the last hour
    assert kernel["throughput"]["shots_per_s"] > 0


def test_jobs_per_hour_counts_jobs_finished_in_the_last_hour_only():
    now = 1_000_000.0

    def finished(ago: float) -> JobRecord:
        return JobRecord("completed", "simulation", "shots", 10, None, 1.0, now - ago)

    stats = job_statistics([finished(10), finished(HOUR_S - 1), finished(HOUR_S + 1)], now=now)
    assert stats["throughput"]["jobs_per_hour"] == 2.0
    assert stats["total"] == stats["finished"] == 3
    assert stats["throughput"]["shots_per_s"] == pytest.approx(10.0)
