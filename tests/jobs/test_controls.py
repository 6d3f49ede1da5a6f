"""Cancel, pause and resume of local jobs, and what is refused."""

from __future__ import annotations

import threading

import pytest

from qmon_jupyter import JobCancelled
from qmon_jupyter.jobs import JobManager, JobStateError, JobStatus

from .._support import wait_until
from .conftest import TIMEOUT, Gate

S = JobStatus


def positions(manager: JobManager) -> list[int]:
    return sorted(j.queue_position for j in manager.jobs(status=S.QUEUED))


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


def test_a_paused_job_has_no_eta_and_gets_one_back_on_resume(manager):
    gate = Gate()
    job = manager.submit_function(gate, total=100)
    for step in range(1, 6):  # steps spread over time give a rate, hence an ETA
        gate.release(1)
        assert wait_until(lambda step=step: gate.done_steps == step)
        threading.Event().wait(0.05)
    assert wait_until(lambda: job.eta_s is not None)
    job.pause()
    assert job.status is S.PAUSED
    assert job.eta_s is None
    assert job.snapshot()["eta_s"] is None
    job.resume()
    gate.release(5)
    assert wait_until(lambda: job.eta_s is not None)
    gate.finish()
    assert job.wait(TIMEOUT)
