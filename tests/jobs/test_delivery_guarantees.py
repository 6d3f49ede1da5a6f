"""State changes survive a stuck subscriber, and a job ends even if ending it raises."""

from __future__ import annotations

import threading
from collections import Counter

from qmon_jupyter.core.states import TERMINAL
from qmon_jupyter.jobs import JobManager

from .._support import wait_until
from .conftest import TIMEOUT, Gate, ghz

_TERMINAL = {s.value for s in TERMINAL}


def _terminal_status_counts(events: list[dict]) -> Counter:
    return Counter(
        e["job_id"] for e in events if e["kind"] == "job.status" and e["data"]["to"] in _TERMINAL
    )


def test_a_blocked_subscriber_still_gets_every_jobs_end_exactly_once(manager):
    release = threading.Event()
    blocked_entered = threading.Event()
    slow: list[dict] = []
    fast: list[dict] = []

    def blocked(event: dict) -> None:
        blocked_entered.set()
        release.wait(TIMEOUT)
        slow.append(event)

    manager.events.subscribe(blocked, max_queue=8)
    manager.events.subscribe(fast.append, max_queue=8)

    def steps(reporter, token):
        for _ in range(200):
            token.check()
            reporter.update()
        return "ok"

    jobs = [manager.submit_function(steps, total=200, name=f"j{i}") for i in range(20)]
    # Every job ends while the blocked subscriber holds its first event: a
    # stuck subscriber never holds up a job.
    for job in jobs:
        assert job.result(TIMEOUT).value == "ok"
    assert blocked_entered.is_set()
    assert not release.is_set()
    # Far more than 8 state changes wait for the blocked subscriber, none
    # lost (only progress was dropped to honour the bound), while the other
    # one, on its own delivery thread, already has every job's end.
    blocked_stats, _ = manager.events.stats()
    assert blocked_stats["queued"] > 8
    ids = {job.id for job in jobs}
    assert wait_until(lambda: _terminal_status_counts(list(fast)) == dict.fromkeys(ids, 1))
    release.set()
    assert manager.events.flush(TIMEOUT)
    for got in (slow, fast):
        assert _terminal_status_counts(got) == dict.fromkeys(ids, 1)
        created = [e["job_id"] for e in got if e["kind"] == "job.created"]
        assert sorted(created) == sorted(ids)
        seqs = [e["seq"] for e in got]
        assert seqs == sorted(seqs)
        # each job's last event delivered is its terminal status: final state reaches everyone
        last = {e["job_id"]: e for e in got if e["kind"].startswith("job.")}
        assert all(last[i]["snapshot"]["status"] == "completed" for i in ids)


def test_a_job_ends_once_even_when_notifying_its_end_raises(monkeypatch):
    """A raising ``NotificationCenter.notify`` (monkeypatched: it has no real way to fail).

    The job must still end, its waiters return, the running slot free up for
    the queued job, and the job end exactly once.
    """
    m = JobManager(max_concurrent_jobs=1, progress_interval=0.0, housekeeping_interval=0.05)
    try:
        events: list[dict] = []
        m.events.subscribe(events.append)

        def broken_notify(*args, **kwargs):
            raise RuntimeError("notification center broke")

        monkeypatch.setattr(m.notifications, "notify", broken_notify)
        first, second = Gate(), Gate()
        a = m.submit_function(first, name="a")
        b = m.submit_function(second, name="b")
        assert first.started.wait(TIMEOUT)
        assert b.status.value == "queued"

        first.finish()
        assert a.wait(TIMEOUT)
        assert a.status.value == "completed"
        assert second.started.wait(TIMEOUT)  # the slot was freed: the queue moves on

        second.fail()  # the failing end goes through the same path
        assert b.wait(TIMEOUT)
        assert b.status.value == "failed"
        assert m.events.flush(TIMEOUT)
        assert _terminal_status_counts(events) == {a.id: 1, b.id: 1}
        assert m.stats()["by_status"]["running"] == 0
    finally:
        m.shutdown(wait=True, cancel_futures=True, cancel_running=True)


def test_a_job_ends_failed_with_the_error_when_ending_it_raises(monkeypatch):
    """Ending the job raises once (monkeypatched: no real fault makes it raise).

    The job still ends exactly once, failed with that error, and the queued
    job starts.
    """
    m = JobManager(max_concurrent_jobs=1, progress_interval=0.0, housekeeping_interval=0.05)
    try:
        events: list[dict] = []
        m.events.subscribe(events.append)
        first, second = Gate(), Gate()
        a = m.submit_function(first, name="a")
        b = m.submit_function(second, name="b")
        assert first.started.wait(TIMEOUT)

        lifecycle = m._lifecycle
        real_end = lifecycle.end_locked
        raised = []

        def end_once_broken(job, status, **kwargs):
            if job is a and not raised:
                raised.append(status)
                raise RuntimeError("ending broke")
            return real_end(job, status, **kwargs)

        monkeypatch.setattr(lifecycle, "end_locked", end_once_broken)
        first.finish()
        assert a.wait(TIMEOUT)
        assert a.status.value == "failed"
        assert a.error["message"] == "ending broke"
        assert second.started.wait(TIMEOUT)
        second.finish()
        assert b.wait(TIMEOUT)
        assert m.events.flush(TIMEOUT)
        assert _terminal_status_counts(events) == {a.id: 1, b.id: 1}
    finally:
        m.shutdown(wait=True, cancel_futures=True, cancel_running=True)


def test_a_raising_checkpoint_never_keeps_a_cancelled_job_running(
    manager, gated_plans, monkeypatch
):
    """A raising checkpoint (monkeypatched: formatting counts has no real way to fail)."""
    from qmon_jupyter.jobs._simulation import SimulationRun

    def broken_checkpoint(run):
        raise RuntimeError("checkpoint broke")

    monkeypatch.setattr(SimulationRun, "checkpoint_data", broken_checkpoint)
    manager.events.subscribe(lambda e: None, kinds=["job.checkpoint"])  # so one is built
    job = manager.submit(ghz(3), shots=300, seed=1, batch_size=100)
    plan = gated_plans[0]
    assert plan.entered.wait(TIMEOUT)
    assert job.cancel() is True
    plan.release(3)
    assert job.wait(TIMEOUT)
    assert job.status.value == "cancelled"
    assert wait_until(lambda: manager.stats()["by_status"]["running"] == 0)
