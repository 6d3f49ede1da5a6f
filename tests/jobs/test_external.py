"""External (provider) jobs: add_external_job and apply_external."""

from __future__ import annotations

import itertools

import pytest

from qmon_jupyter.jobs import JobStateError, JobStatus, JobType, Result

from .conftest import TIMEOUT

S = JobStatus


class Controller:
    def __init__(self, fail: bool = False) -> None:
        self.calls: list[str] = []
        self.fail = fail

    def cancel(self) -> None:
        self.calls.append("cancel")
        if self.fail:
            raise ConnectionError("provider down")


class PausableController(Controller):
    def pause(self) -> None:
        self.calls.append("pause")

    def resume(self) -> None:
        self.calls.append("resume")


CAPS = {"cancel": True, "pause": False, "queue_position": True, "eta": False}


def test_provider_updates_move_the_job_through_the_table(manager):
    job = manager.add_external_job(
        name="bell on qpu",
        backend="emulator",
        controller=Controller(),
        capabilities=CAPS,
        provider={"name": "emulator", "job_id": "p-1"},
    )
    assert job.type is JobType.HARDWARE
    assert job.status is S.PENDING
    job.apply_external(status="queued", queue_position=17, provider={"status": "QUEUED"})
    snap = job.snapshot()
    assert (snap["status"], snap["queue_position"]) == ("queued", 17)
    assert snap["provider"] == {"name": "emulator", "job_id": "p-1", "status": "QUEUED"}
    # queued -> completed between two polls: stepped through running.
    job.apply_external(
        status=S.COMPLETED, result=Result(job.id, counts={"00": 3, "11": 5}, shots=8)
    )
    assert job.result(TIMEOUT).counts == {"00": 3, "11": 5}
    assert job.snapshot()["result_summary"] == {"top": [["11", 5], ["00", 3]], "shots": 8}
    assert job.queue_position is None


def test_a_terminal_state_is_final_and_illegal_moves_are_ignored(manager):
    job = manager.add_external_job(
        name="x", backend="b", controller=Controller(), capabilities=CAPS
    )
    job.apply_external(status="running")
    job.apply_external(status="queued")  # running -> queued is not in the table
    assert job.status is S.RUNNING
    job.apply_external(status="failed", error=("ProviderError", "calibration"))
    job.apply_external(status="completed")
    assert job.status is S.FAILED
    assert job.error == {"type": "ProviderError", "message": "calibration"}


def test_cancel_delegates_to_the_controller(manager):
    controller = Controller()
    job = manager.add_external_job(name="x", backend="b", controller=controller, capabilities=CAPS)
    assert job.cancel()
    assert controller.calls == ["cancel"]
    assert job.status is S.CANCELLED


def test_a_failing_provider_cancel_is_a_clear_error_and_changes_nothing(manager):
    job = manager.add_external_job(
        name="x", backend="b", controller=Controller(fail=True), capabilities=CAPS
    )
    job.apply_external(status="running")
    with pytest.raises(JobStateError, match="provider down"):
        job.cancel()
    assert job.status is S.RUNNING


def test_pause_without_the_capability_is_refused_with_state_unchanged(manager):
    job = manager.add_external_job(
        name="x", backend="ibm", controller=Controller(), capabilities=CAPS
    )
    job.apply_external(status="running")
    with pytest.raises(JobStateError, match=r"cannot pause job \w+ on ibm: not supported"):
        job.pause()
    assert job.status is S.RUNNING


def test_pause_and_resume_delegate_when_allowed(manager):
    controller = PausableController()
    caps = {**CAPS, "pause": True}
    job = manager.add_external_job(name="x", backend="b", controller=controller, capabilities=caps)
    job.apply_external(status="running", progress=0.5, eta_s=12.0)
    assert job.progress == pytest.approx(0.5)
    assert job.eta_s == 12.0
    job.pause()
    assert job.status is S.PAUSED
    job.resume()
    assert job.status is S.RUNNING
    assert controller.calls == ["pause", "resume"]


def test_external_jobs_take_no_local_slot(manager):
    for i in range(10):
        manager.add_external_job(
            name=f"h{i}", backend="b", controller=Controller(), capabilities=CAPS
        )
    job = manager.submit_function(lambda r, t: 5)
    assert job.result(TIMEOUT).value == 5


def test_provider_moves_step_only_through_allowed_transitions():
    from qmon_jupyter.core import TERMINAL, can_transition
    from qmon_jupyter.core.states import transition_path

    for old in S:
        for new in S:
            path = transition_path(old, new)
            if path is None:
                continue
            states = [old, *path]
            assert all(can_transition(a, b) for a, b in itertools.pairwise(states))
            assert not any(s in TERMINAL for s in states[:-1])
    assert transition_path(S.QUEUED, S.COMPLETED) == (S.RUNNING, S.COMPLETED)
    assert transition_path(S.COMPLETED, S.RUNNING) is None
    assert transition_path(S.RUNNING, S.QUEUED) is None


def test_a_job_first_seen_completed_publishes_one_status_event_from_pending(manager):
    events: list[dict] = []
    manager.events.subscribe(events.append, kinds=["job.status"])
    job = manager.add_external_job(
        name="x", backend="b", controller=Controller(), capabilities=CAPS
    )
    job.apply_external(status=S.COMPLETED, result=Result(job.id, counts={"1": 2}, shots=2))
    assert job.wait(TIMEOUT)
    assert manager.events.flush(TIMEOUT)
    moves = [(e["data"]["from"], e["data"]["to"]) for e in events if e["job_id"] == job.id]
    assert moves == [("pending", "completed")]  # never a "running" it did not have
    assert job.snapshot()["started_at"] is not None  # it ran, on the provider


def test_a_paused_job_failing_publishes_one_status_event_from_paused(manager):
    events: list[dict] = []
    manager.events.subscribe(events.append, kinds=["job.status"])
    caps = {**CAPS, "pause": True}
    job = manager.add_external_job(
        name="x", backend="b", controller=PausableController(), capabilities=caps
    )
    job.apply_external(status="paused")
    job.apply_external(status="failed", error=("ProviderError", "lost"))
    assert job.wait(TIMEOUT)
    assert manager.events.flush(TIMEOUT)
    moves = [(e["data"]["from"], e["data"]["to"]) for e in events if e["job_id"] == job.id]
    assert moves == [("pending", "paused"), ("paused", "failed")]
