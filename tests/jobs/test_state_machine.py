"""Property-based: any interleaving of submit, step, pause, resume, cancel, finish and fail.

Real worker threads run function jobs gated by the test. Invariants hold
after every step: queued jobs are numbered 1..k without gaps, at most
``max_concurrent_jobs`` hold a slot, stats add up; at the end every job has
ended exactly once (one terminal ``job.status`` event each) and event
sequence numbers increase.
"""

from __future__ import annotations

import collections
import contextlib

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
)

from qmon_jupyter.core import TERMINAL
from qmon_jupyter.jobs import JobManager, JobStateError, JobStatus

from .conftest import TIMEOUT, Gate

S = JobStatus
LIMIT = 3
TERMINAL_VALUES = {s.value for s in TERMINAL}


class JobLifecycle(RuleBasedStateMachine):
    jobs = Bundle("jobs")

    def __init__(self) -> None:
        super().__init__()
        self.manager = JobManager(max_concurrent_jobs=LIMIT, progress_interval=0.0)
        self.events: list[dict] = []
        self.manager.events.subscribe(self.events.append)
        self.all: list[tuple[object, Gate]] = []
        self.cancelled: set[str] = set()

    @rule(target=jobs)
    def submit(self):
        gate = Gate()
        job = self.manager.submit_function(gate, total=5)
        self.all.append((job, gate))
        return (job, gate)

    @rule(entry=jobs, k=st.integers(1, 3))
    def step(self, entry, k):
        entry[1].release(k)

    @rule(entry=jobs)
    def pause(self, entry):
        job = entry[0]
        try:
            job.pause()
        except JobStateError:
            assert job.status is not S.PAUSED or job.cancel_requested

    @rule(entry=jobs)
    def resume(self, entry):
        job = entry[0]
        with contextlib.suppress(JobStateError):
            job.resume()

    @rule(entry=jobs)
    def cancel(self, entry):
        job = entry[0]
        if job.cancel():
            # Cancelled now (it had not started) or stopping: it will end cancelled.
            assert job.status in (S.CANCELLED, S.RUNNING, S.PAUSED)
            self.cancelled.add(job.id)
        else:
            assert job.status in (S.COMPLETED, S.FAILED)

    @rule(entry=consumes(jobs))
    def finish(self, entry):
        entry[1].finish()

    @rule(entry=consumes(jobs))
    def fail(self, entry):
        entry[1].fail()

    @invariant()
    def queue_positions_are_one_to_k(self):
        m = self.manager
        scheduler = m._scheduler
        with m._lock:  # one consistent view of the queue and the statuses
            jobs, queue = list(m._lifecycle.jobs.values()), list(scheduler._queue)
            running = scheduler._running
            queued = [j for j in jobs if j.status is S.QUEUED]
            assert [j.queue_position for j in queue] == list(range(1, len(queue) + 1))
            assert set(queued) == set(queue)
            holding = [j for j in jobs if j.status in (S.RUNNING, S.PAUSED)]
            assert len(holding) == running <= LIMIT
            if queue:
                assert running == LIMIT

    @invariant()
    def stats_add_up(self):
        stats = self.manager.stats()
        assert stats["total"] == len(self.all)
        assert sum(stats["by_status"].values()) == stats["total"]
        assert sum(stats["by_type"].values()) == stats["total"]
        assert stats["active"] + stats["finished"] == stats["total"]

    def teardown(self):
        try:
            for job, gate in self.all:
                gate.finish()
                if job.status is S.PAUSED:
                    with contextlib.suppress(JobStateError):
                        job.resume()
            for job, _ in self.all:
                assert job.wait(TIMEOUT), f"job {job.id} stuck in {job.status}"
            assert self.manager.events.flush(TIMEOUT)
            ends = collections.Counter(
                e["job_id"]
                for e in self.events
                if e["kind"] == "job.status" and e["data"]["to"] in TERMINAL_VALUES
            )
            for job, gate in self.all:
                assert ends[job.id] == 1, f"job {job.id} ended {ends[job.id]} times"
                if job.id in self.cancelled:
                    assert job.status is S.CANCELLED
                if job.snapshot()["started_at"] is None:  # cancelled while waiting
                    assert job.status is S.CANCELLED
                    assert not gate.started.is_set()
                if job.status is S.COMPLETED:
                    assert job.result(0).value == gate.done_steps
            seqs = [e["seq"] for e in self.events]
            assert seqs == sorted(set(seqs))
        finally:
            self.manager.shutdown(wait=True, cancel_futures=True, cancel_running=True)


JobLifecycle.TestCase.settings = settings(
    max_examples=100,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_job_lifecycle = JobLifecycle.TestCase
