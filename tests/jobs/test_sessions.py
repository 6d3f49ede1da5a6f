"""Sessions: the jobs started in ``with manager.session(name)`` grouped under one parent job."""

from __future__ import annotations

import collections
import threading

import pytest

from qmon_jupyter.core.states import TERMINAL, JobStatus, JobType
from qmon_jupyter.errors import JobCancelled, JobStateError

from .._support import wait_until
from .conftest import TIMEOUT, Gate, ghz


def _ends(manager):
    """Record every job's terminal ``job.status`` events: job id -> list of statuses."""
    ends = collections.defaultdict(list)

    def record(event):
        if event["data"]["to"] in {s.value for s in TERMINAL}:
            ends[event["job_id"]].append(event["data"]["to"])

    manager.events.subscribe(record, kinds=["job.status"], max_queue=100_000)
    return ends


def test_every_kind_of_job_started_in_a_session_is_its_child(manager):
    with manager.session("group") as s:
        sims = [manager.submit(ghz(3), shots=shots, seed=1) for shots in (100, 200)]
        fn = manager.submit_function(lambda reporter, token: 42, name="fn")
        ext = manager.add_external_job(
            name="provider", backend="qpu", controller=None, capabilities={}
        )
        ext.apply_external(status="completed")
        for job in (*sims, fn):
            job.result(TIMEOUT)
    assert s.job.type is JobType.SESSION
    assert s.job.wait(TIMEOUT)
    assert [j.parent_id for j in s.children()] == [s.job.id] * 4
    assert s.job.parent_id is None
    snap = s.job.snapshot()
    assert "parent_id" not in snap
    assert (snap["status"], snap["done"], snap["total"]) == ("completed", 4, 4)
    assert snap["unit"] == "jobs"
    assert snap["result_summary"] == {"shots": 300, "iterations": 4, "failed": 0}
    assert snap["message"] == "4 iterations, 300 shots"
    assert snap["elapsed_s"] is not None
    assert s.children()[0].snapshot()["parent_id"] == s.job.id


def test_a_job_started_after_the_block_is_top_level(manager):
    with manager.session("group"):
        pass
    assert manager.submit_function(lambda reporter, token: None).parent_id is None


def test_the_session_completes_when_its_last_child_ends_after_the_block(manager):
    gate = Gate()
    with manager.session("group") as s:
        child = manager.submit_function(gate)
        assert gate.started.wait(TIMEOUT)
    assert s.job.status is JobStatus.RUNNING  # the block is left, its job still runs
    assert s.job.snapshot()["done"] == 0
    gate.finish()
    assert s.job.wait(TIMEOUT)  # ended on the child's worker thread
    assert (child.status, s.job.status) == (JobStatus.COMPLETED, JobStatus.COMPLETED)


def test_children_started_and_ended_on_many_threads_are_counted_exactly(manager):
    ends = _ends(manager)
    threads, per_thread = 8, 25
    barrier = threading.Barrier(threads)

    with manager.session("threads") as s:

        def start_some():
            with s.attach():
                barrier.wait(TIMEOUT)
                jobs = [manager.submit_function(lambda r, t: None) for _ in range(per_thread)]
            for job in jobs:
                job.result(TIMEOUT)

        workers = [threading.Thread(target=start_some) for _ in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(TIMEOUT)
    assert s.job.wait(TIMEOUT)
    snap = s.job.snapshot()
    assert (snap["status"], snap["done"], snap["total"]) == ("completed", 200, 200)
    assert s.iterations == threads * per_thread
    assert manager.events.flush(TIMEOUT)
    assert ends[s.job.id] == ["completed"]  # ended once
    assert all(ends[c.id] == ["completed"] for c in s.children())


def test_a_thread_that_does_not_attach_starts_top_level_jobs(manager):
    # Context variables never cross threads: what attach() is for.
    found = []
    with manager.session("group"):
        t = threading.Thread(
            target=lambda: found.append(manager.submit_function(lambda r, t: None))
        )
        t.start()
        t.join(TIMEOUT)
    assert found[0].parent_id is None


def test_cancelling_the_session_cancels_each_active_child_exactly_once(manager):
    ends = _ends(manager)
    gates = [Gate() for _ in range(6)]  # 4 slots: 4 run, 2 queue
    with manager.session("group") as s:
        finished = manager.submit_function(lambda r, t: "early")
        finished.result(TIMEOUT)
        running = [manager.submit_function(g) for g in gates]
        assert wait_until(lambda: sum(g.started.is_set() for g in gates) == 4, TIMEOUT)
        assert s.job.cancel("enough")
        with pytest.raises(JobCancelled):
            manager.submit_function(lambda r, t: None)  # the loop that starts jobs stops
    assert s.job.status is JobStatus.CANCELLED
    for job in running:
        assert job.wait(TIMEOUT)
        assert job.status is JobStatus.CANCELLED
    assert finished.status is JobStatus.COMPLETED
    assert sum(g.started.is_set() for g in gates) == 4  # the queued ones never started
    assert manager.events.flush(TIMEOUT)
    assert ends[s.job.id] == ["cancelled"]
    assert ends[finished.id] == ["completed"]
    assert all(ends[j.id] == ["cancelled"] for j in running)
    assert len(manager.jobs()) == 8  # the refused job was never added


def test_pausing_or_resuming_a_session_is_refused_clearly(manager):
    with manager.session("group") as s:
        for verb in ("pause", "resume"):
            with pytest.raises(JobStateError, match=f"cannot {verb} session .* jobs one by one"):
                getattr(s.job, verb)()
        assert s.job.status is JobStatus.RUNNING


def test_an_error_in_the_block_fails_the_session_and_cancels_its_children(manager):
    gate = Gate()
    s = manager.session("group")
    children = []

    def fail_inside():
        with s:
            children.append(manager.submit_function(gate))
            raise ValueError("bad step")

    with pytest.raises(ValueError, match="bad step"):
        fail_inside()
    (child,) = children
    assert child.wait(TIMEOUT)
    assert child.status is JobStatus.CANCELLED
    assert s.job.status is JobStatus.FAILED
    assert s.job.error == {"type": "ValueError", "message": "bad step"}


def test_sessions_nest_as_a_chain_of_parents(manager):
    with manager.session("outer") as outer:
        manager.submit(ghz(2), shots=50, seed=3).result(TIMEOUT)
        with manager.session("inner") as inner:
            manager.submit(ghz(2), shots=70, seed=3).result(TIMEOUT)
    assert inner.job.parent_id == outer.job.id
    assert [c.parent_id for c in inner.children()] == [inner.job.id]
    assert outer.iterations == 2  # the simulation and the inner session
    assert outer.job.wait(TIMEOUT)
    assert (inner.shots, outer.shots) == (70, 120)


def test_cancelling_an_outer_session_cancels_the_inner_one_and_its_jobs(manager):
    gate = Gate()
    with manager.session("outer") as outer:
        with manager.session("inner") as inner:
            child = manager.submit_function(gate)
        outer.job.cancel()
    assert child.wait(TIMEOUT)
    assert (child.status, inner.job.status) == (JobStatus.CANCELLED, JobStatus.CANCELLED)


def test_a_session_is_entered_once(manager):
    s = manager.session("once")
    with s:
        pass
    with pytest.raises(RuntimeError, match="already entered"), s:
        pass


def test_the_dashboard_api_lists_a_session_as_one_row_and_its_jobs_on_request(manager):
    from qmon_jupyter.kernel import manager_api

    api = manager_api(manager)
    alone = manager.submit_function(lambda r, t: None, name="alone")
    with manager.session("group") as s:
        kids = [manager.submit_function(lambda r, t: None) for _ in range(3)]
        for kid in kids:
            kid.result(TIMEOUT)
    alone.result(TIMEOUT)
    state = api.get_dashboard_state()
    assert sorted(j["id"] for j in state["jobs"]) == sorted([alone.id, s.job.id])
    assert state["total_jobs"] == 2
    assert api.get_jobs()["total"] == 2
    children = api.get_jobs(parent=s.job.id)
    assert sorted(j["id"] for j in children["jobs"]) == sorted(k.id for k in kids)
    assert api.get_jobs(parent="*")["total"] == 5
    assert sum(len(page) for page in api.iter_jobs()) == 5  # exports keep every job
