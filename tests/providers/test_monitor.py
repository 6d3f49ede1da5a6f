"""StatusMonitor against the emulated QPU: lifecycle, faults, cancel, budgets, scale."""

from __future__ import annotations

import json
import threading
import time

import pytest

from qmon_jupyter.engine import run
from qmon_jupyter.errors import JobCancelled, JobFailed, QmonError
from qmon_jupyter.jobs import JobStatus
from qmon_jupyter.kernel import manager_api
from qmon_jupyter.providers import Budget, EmulatedQPU, EmulatorProvider, StatusMonitor

from .._support import wait_until
from .conftest import TIMEOUT, bell

S = JobStatus


def _record(job):
    """Collect the job's snapshots from its job.* events (what the store audits)."""
    seen: list[dict] = []
    lock = threading.Lock()

    def on_event(event):
        if event["job_id"] == job.id and event["snapshot"] is not None:
            with lock:
                seen.append(event)

    return seen, job._manager("watch").events.subscribe(on_event)


def _notes(manager, kind="provider"):
    return [
        n.to_dict() for n in manager.notifications.list(include_dismissed=True) if n.kind == kind
    ]


def test_queue_positions_fall_to_none_then_running_then_completed(qpu, provider, manager):
    qpu.set_rate(0)
    jobs = [provider.submit(bell(), shots=100, device="emu-8q", seed=5) for _ in range(4)]
    last = jobs[-1]
    events, unsubscribe = _record(last)
    assert wait_until(lambda: last.queue_position == 4)
    qpu.set_rate(200)  # 0.3 s a job
    assert last.wait(TIMEOUT)
    manager.events.flush()
    unsubscribe()
    snaps = [e["snapshot"] for e in events]
    positions = [s["queue_position"] for s in snaps if s["status"] == "queued"]
    assert positions[0] == 4
    assert positions == sorted(positions, reverse=True)
    assert len(set(positions)) >= 3  # it was seen moving up the queue
    statuses = [s["status"] for s in snaps]
    assert statuses.index("running") > statuses.index("queued")
    assert statuses[-1] == "completed"
    assert all(s["queue_position"] is None for s in snaps if s["status"] != "queued")
    # every status change went through the event stream (the store's audit trail)
    moves = [(e["data"]["from"], e["data"]["to"]) for e in events if e["kind"] == "job.status"]
    assert moves == [("pending", "queued"), ("queued", "running"), ("running", "completed")]
    final = last.snapshot()
    assert final["provider"]["status"] == "COMPLETED"
    assert final["provider"]["name"] == provider.key
    assert last.result(TIMEOUT).counts == run(bell(), 100, 5)  # the engine's counts, same seed
    json.dumps(final)  # JSON-safe, provider fields included


def test_the_raw_provider_status_and_an_estimated_eta_range_are_in_the_snapshot(qpu, provider):
    qpu.set_rate(0)
    jobs = [provider.submit(bell(), shots=10) for _ in range(6)]
    assert wait_until(lambda: jobs[-1].queue_position == 6)
    qpu.set_rate(120)  # 0.5 s a job: the monitor sees the queue move
    assert wait_until(
        lambda: (
            (jobs[-1].snapshot()["provider"] or {}).get("eta_range_s")
            and jobs[-1].queue_position in {3, 4}
        )
    )
    snap = jobs[-1].snapshot()
    lo, hi = snap["provider"]["eta_range_s"]
    assert 0 < lo <= hi
    assert snap["provider"]["eta_label"] == "estimate"
    assert snap["provider"]["status"] == "QUEUED"
    assert snap["provider"]["queue_position"] == str(snap["queue_position"])
    assert snap["eta_s"] is not None
    assert snap["capabilities"] == {
        "cancel": True,
        "pause": False,
        "queue_position": True,
        "eta": True,
    }
    assert snap["provider"]["cost"] == {"amount": 0.0035, "unit": "USD"}
    assert all(job.wait(TIMEOUT) for job in jobs)


def test_a_burst_of_5xx_is_survived_and_the_provider_recovers(qpu, provider, monitor, manager):
    qpu.set_rate(0)
    job = provider.submit(bell(), shots=10)
    assert wait_until(lambda: job.status is S.QUEUED)
    qpu.fail_requests(4, status=503)
    assert wait_until(lambda: monitor.health()[provider.key]["health"] == "unreachable")
    assert "HTTP 503" in job.snapshot()["message"]
    assert job.snapshot()["provider"]["health"] == "unreachable"
    qpu.set_rate(600)
    assert job.wait(TIMEOUT)
    assert job.status is S.COMPLETED
    assert monitor.health()[provider.key]["health"] == "healthy"
    levels = [(n["level"], n["title"].rsplit(" ", 1)[-1]) for n in _notes(manager)]
    assert levels[:3] == [("warning", "degraded"), ("error", "unreachable"), ("success", "again")]


def test_health_changes_go_into_the_event_stream_for_the_audit_trail(qpu, provider, manager):
    events: list[dict] = []
    unsubscribe = manager.events.subscribe(events.append)
    qpu.set_rate(0)
    job = provider.submit(bell(), shots=10)
    assert wait_until(lambda: job.status is S.QUEUED)
    qpu.fail_requests(1)
    assert wait_until(
        lambda: (
            [e for e in events if e["kind"] == "system.provider_health"][-1:]
            and events[-1]["kind"] != "system.provider_health"
            and [e for e in events if e["kind"] == "system.provider_health"][-1]["data"]["health"]
            == "healthy"
        )
    )
    unsubscribe()
    health = [e["data"] for e in events if e["kind"] == "system.provider_health"]
    assert [h["health"] for h in health] == ["degraded", "healthy"]
    assert "HTTP 503" in health[0]["error"]
    assert health[0]["provider"] == provider.key


def _survive_outage(qpu, provider, monitor, manager, seconds):
    qpu.set_rate(0)
    job = provider.submit(bell(), shots=10)
    assert wait_until(lambda: job.status is S.QUEUED)
    qpu.set_rate(600)  # the device keeps working while the API is down
    qpu.outage(seconds)
    health = []
    deadline = time.monotonic() + seconds + TIMEOUT
    while not job.done and time.monotonic() < deadline:
        health.append(monitor.health()[provider.key]["health"])
        time.sleep(0.02)
    assert job.status is S.COMPLETED
    assert job in manager.jobs()  # never dropped
    assert "unreachable" in health
    assert health[-1] == "healthy" or monitor.health()[provider.key]["health"] == "healthy"
    assert monitor.health()[provider.key]["errors"] >= 3


def test_a_short_outage_is_survived(qpu, provider, monitor, manager):
    _survive_outage(qpu, provider, monitor, manager, 1.5)


@pytest.mark.slow
def test_a_ten_second_outage_is_survived(qpu, provider, monitor, manager):
    _survive_outage(qpu, provider, monitor, manager, 10.0)


def test_backoff_keeps_the_request_rate_low_while_the_provider_is_down(qpu, provider, monitor):
    qpu.set_rate(0)
    jobs = [provider.submit(bell(), shots=1) for _ in range(10)]
    assert wait_until(lambda: all(j.status is S.QUEUED for j in jobs))
    before = qpu.request_count
    qpu.outage(1.5, refuse=False)  # 503s: each one is counted by the emulator
    time.sleep(1.5)
    during = qpu.request_count - before
    # 10 jobs polled every 0.05 s would be ~300 requests; backoff (<= 0.3 s) probes one at a time.
    assert during <= 40, during
    assert all(j.status is S.QUEUED for j in jobs)


def test_cancel_from_the_job_cancels_the_remote_job(qpu, provider):
    qpu.set_rate(0)
    job = provider.submit(bell(), shots=10)
    assert wait_until(lambda: job.status is S.QUEUED)
    remote = job.snapshot()["provider"]["job_id"]
    assert job.cancel("not needed")
    assert job.status is S.CANCELLED
    assert qpu.job(remote)["status"] == "CANCELLED"
    with pytest.raises(JobCancelled, match="not needed"):
        job.result(TIMEOUT)


def test_cancel_from_the_dashboard_api_cancels_the_remote_running_job(provider, manager):
    with EmulatedQPU(rate_per_minute=6) as slow:  # 10 s a job: still running when cancelled
        client = EmulatorProvider(slow.url, poll_interval=0.05, monitor=provider._monitor)
        job = client.submit(bell(), shots=10)
        assert wait_until(lambda: job.status is S.RUNNING)
        snap = manager_api(manager).cancel_job(job.id, user="alice")
        assert snap["status"] == "cancelled"
        remote = snap["provider"]["job_id"]
        assert slow.job(remote)["status"] in {"CANCELLING", "CANCELLED"}
        assert wait_until(lambda: slow.job(remote)["status"] == "CANCELLED")


def test_a_cancel_the_provider_cannot_reach_is_an_error_and_changes_nothing(qpu, provider):
    qpu.set_rate(0)
    job = provider.submit(bell(), shots=10)
    assert wait_until(lambda: job.status is S.QUEUED)
    qpu.fail_requests(1000)
    with pytest.raises(QmonError, match="HTTP 503"):
        job.cancel()
    assert job.status is S.QUEUED
    qpu.clear_faults()
    assert job.cancel()
    assert qpu.job(job.snapshot()["provider"]["job_id"])["status"] == "CANCELLED"


def test_fifty_jobs_are_polled_by_one_thread_at_a_bounded_rate(manager):
    with EmulatedQPU(rate_per_minute=0) as qpu:
        monitor = StatusMonitor(manager, max_requests_per_s=20)
        try:
            provider = EmulatorProvider(qpu.url, poll_interval=0.01, monitor=monitor)
            pollers = {t for t in threading.enumerate() if t.name == "qmon-status-monitor"}
            jobs = [provider.submit(bell(), shots=4) for _ in range(50)]
            assert wait_until(lambda: all(j.status is S.QUEUED for j in jobs))
            new = {t for t in threading.enumerate() if t.name == "qmon-status-monitor"} - pollers
            assert new == {monitor._thread}
            before, started = qpu.request_counts().get("GET job", 0), time.monotonic()
            time.sleep(2.0)
            polled = qpu.request_counts().get("GET job", 0) - before
            elapsed = time.monotonic() - started
            # 50 jobs every 0.01 s would be 5000 requests a second
            assert polled <= 20 * elapsed + 21, polled
            qpu.set_rate(6000)
            assert wait_until(lambda: all(j.done for j in jobs), timeout=60)
            assert all(j.status is S.COMPLETED for j in jobs)
            assert len(monitor.hardware_jobs()) == 50
        finally:
            monitor.stop()


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("invalid_json", "invalid JSON"),
        ("unknown_status", "unknown status 'WIBBLING'"),
        ("negative_queue_position", "negative queue position"),
    ],
)
def test_nonsense_answers_show_as_readable_messages_and_polling_goes_on(
    qpu, provider, monitor, kind, message
):
    qpu.set_rate(0)
    job = provider.submit(bell(), shots=10)
    assert wait_until(lambda: job.status is S.QUEUED)
    qpu.answer_nonsense(2, kind)
    assert wait_until(lambda: message in (job.snapshot()["message"] or ""))
    assert monitor.running
    qpu.set_rate(600)
    assert job.wait(TIMEOUT)
    assert job.status is S.COMPLETED
    assert message in monitor.info(job.id).last_error


def test_refused_credentials_at_submission_give_a_failed_job_saying_so(qpu, monitor):
    qpu.set_token("right")
    provider = EmulatorProvider(qpu.url, token="wrong", monitor=monitor)
    job = provider.submit(bell(), shots=10, name="needs a token")
    assert job.status is S.FAILED
    with pytest.raises(JobFailed, match=r"refused the credentials \(HTTP 401\)"):
        job.result(TIMEOUT)


def test_credentials_revoked_while_tracking_show_on_the_job_until_restored(qpu, provider):
    qpu.set_rate(0)
    job = provider.submit(bell(), shots=10)
    assert wait_until(lambda: job.status is S.QUEUED)
    qpu.set_token("rotated")
    assert wait_until(lambda: "refused the credentials" in (job.snapshot()["message"] or ""))
    provider.token = "rotated"
    qpu.set_rate(600)
    assert job.wait(TIMEOUT)
    assert job.status is S.COMPLETED


def test_circuits_are_accepted_as_openqasm_text_or_qiskit_objects(provider):
    text = (
        'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[1];\ncreg c[1];\nx q[0];\nmeasure q -> c;\n'
    )
    assert provider.submit(text, shots=7).result(TIMEOUT).counts == {"1": 7}
    qiskit = pytest.importorskip("qiskit", reason="qiskit is not installed (test extra 'qiskit')")
    qc = qiskit.QuantumCircuit(2)
    qc.x(1)
    qc.measure_all()
    assert provider.submit(qc, shots=3).result(TIMEOUT).counts == {"10": 3}


def test_a_job_that_fails_on_the_device_fails_with_the_devices_reason(qpu, provider, manager):
    qpu.fail_jobs(1, reason="qubit 3 decohered")
    job = provider.submit(bell(), shots=10)
    with pytest.raises(JobFailed, match="qubit 3 decohered"):
        job.result(TIMEOUT)
    assert job.snapshot()["provider"]["status"] == "FAILED"
    assert any("failed" in n.title for n in manager.notifications.list())


def test_an_unknown_job_id_is_a_readable_message_then_the_job_fails_saying_so(qpu, polled_by):
    from qmon_jupyter.providers import EmulatorJob

    monitor, provider = polled_by(lost_after=4)
    job = monitor.track(EmulatorJob(provider, "feedbeef", device="emu-8q", shots=1))
    # a new id may take a moment to be known: polled again, with a message
    assert wait_until(lambda: "unknown job id 'feedbeef'" in (job.snapshot()["message"] or ""))
    lost = r"4 polls in a row about job feedbeef .*unknown job id"
    with pytest.raises(JobFailed, match=lost):
        job.result(TIMEOUT)
    assert job.snapshot()["error"]["type"] == "ProviderJobNotFound"
    assert monitor.health()[provider.key]["health"] == "healthy"  # the provider answered
    assert monitor.info(job.id).errors == 4
    polls = qpu.request_counts()["GET job"]
    time.sleep(0.5)  # 10 poll intervals: a job still polled would show
    assert qpu.request_counts()["GET job"] == polls


def test_requests_refused_for_good_keep_the_job_tracked(qpu, polled_by):
    # a 400 about a job says nothing about whether it still runs: never "lost"
    monitor, provider = polled_by(lost_after=2)
    qpu.set_rate(0)
    job = provider.submit(bell(), shots=10)
    assert wait_until(lambda: job.status is S.QUEUED)
    qpu.fail_requests(5, status=400)
    assert wait_until(lambda: "HTTP 400" in (job.snapshot()["message"] or ""))
    assert wait_until(lambda: monitor.info(job.id).errors >= 5)
    assert not job.done
    qpu.set_rate(600)
    assert sum(job.result(TIMEOUT).counts.values()) == 10


def test_a_job_the_provider_deletes_while_queued_fails_and_others_go_on(qpu, polled_by):
    _, provider = polled_by(lost_after=3)
    qpu.set_rate(0)  # everything waits in the queue
    doomed = provider.submit(bell(), shots=10, name="doomed")
    kept = provider.submit(bell(), shots=10, name="kept")
    assert wait_until(lambda: kept.snapshot()["queue_position"] == 2)
    qpu.forget_job(doomed.snapshot()["provider"]["job_id"])
    with pytest.raises(JobFailed, match="no longer polled"):
        doomed.result(TIMEOUT)
    qpu.set_rate(600)
    assert sum(kept.result(TIMEOUT).counts.values()) == 10


def test_a_queue_budget_cancels_the_remote_job_with_a_notification_saying_why(
    qpu, provider, manager
):
    qpu.set_rate(0)
    job = provider.submit(bell(), shots=10, budget={"max_queued_s": 0.3})
    assert job.wait(TIMEOUT)
    assert job.status is S.CANCELLED
    assert qpu.job(job.snapshot()["provider"]["job_id"])["status"] == "CANCELLED"
    assert wait_until(lambda: [n for n in _notes(manager) if n["job_id"] == job.id])
    notes = [n for n in _notes(manager) if n["job_id"] == job.id]
    assert "waited in the queue longer than its budget of 0.3 s" in notes[0]["message"]
    with pytest.raises(JobCancelled, match="budget exceeded"):
        job.result(TIMEOUT)


def test_a_running_budget_cancels_a_job_running_too_long(provider, manager):
    with EmulatedQPU(rate_per_minute=6) as slow:
        client = EmulatorProvider(slow.url, poll_interval=0.05, monitor=provider._monitor)
        job = client.submit(bell(), shots=10, budget=Budget(max_running_s=0.3))
        assert job.wait(TIMEOUT)
        assert job.status is S.CANCELLED
        assert wait_until(lambda: _notes(manager))
        assert "ran longer than its budget" in _notes(manager)[-1]["message"]
        remote = job.snapshot()["provider"]["job_id"]
        assert wait_until(lambda: slow.job(remote)["status"] == "CANCELLED")


def test_requests_that_time_out_are_survived(qpu, monitor):
    provider = EmulatorProvider(qpu.url, poll_interval=0.05, timeout=0.3, monitor=monitor)
    qpu.set_rate(0)
    job = provider.submit(bell(), shots=10)
    assert wait_until(lambda: job.status is S.QUEUED)
    qpu.hang_requests(2, seconds=5)
    assert wait_until(
        lambda: "no answer from the provider within 0.3 s" in (job.snapshot()["message"] or "")
    )
    qpu.set_rate(600)
    assert job.wait(TIMEOUT)
    assert job.status is S.COMPLETED


def test_the_dashboards_hardware_view_shows_provider_status_and_health(qpu, provider, manager):
    qpu.set_rate(0)
    job = provider.submit(bell(), shots=10, name="on the emulator")
    assert wait_until(lambda: job.status is S.QUEUED)
    hardware = manager_api(manager).get_hardware()
    [row] = [s for s in hardware["jobs"] if s["id"] == job.id]
    assert row["provider"]["status"] == "QUEUED"
    assert row["provider"]["queue_position"] == "1"
    [entry] = [p for p in hardware["providers"] if p["name"] == provider.key]
    assert entry["health"] == "healthy"
    assert entry["active"] == 1


def test_health_is_exposed_per_provider(provider, monitor):
    job = provider.submit(bell(), shots=10)
    assert job.wait(TIMEOUT)
    health = monitor.health()[provider.key]
    assert health["health"] == "healthy"
    assert health["kind"] == "emulator"
    assert health["requests"] >= 2
    assert health["consecutive_failures"] == 0
    assert health["last_success"].endswith("Z")


def test_the_monitor_stops_cleanly_and_refuses_new_jobs(provider, monitor):
    job = provider.submit(bell(), shots=10)
    assert job.wait(TIMEOUT)
    monitor.stop()
    assert not monitor.running
    with pytest.raises(RuntimeError, match="stopped"):
        provider.submit(bell(), shots=10)


def test_an_idle_poller_thread_exits_and_a_new_job_starts_it_again(provider, monitor, monkeypatch):
    from qmon_jupyter.providers import monitor as monitor_module

    monkeypatch.setattr(monitor_module, "IDLE_EXIT_S", 0.2)
    assert provider.submit(bell(), shots=10).wait(TIMEOUT)
    assert wait_until(lambda: not monitor.running)
    job = provider.submit(bell(), shots=10)
    assert job.wait(TIMEOUT)
    assert job.status is S.COMPLETED


def test_the_monitor_stops_when_its_manager_shuts_down(qpu, manager):
    monitor = StatusMonitor(manager)
    provider = EmulatorProvider(qpu.url, poll_interval=0.05, monitor=monitor)
    qpu.set_rate(0)
    job = provider.submit(bell(), shots=10)
    assert wait_until(lambda: job.status is S.QUEUED)
    manager.shutdown(wait=True)
    assert wait_until(lambda: not monitor.running)
    assert job.status is S.QUEUED  # left to its provider, as the manager does
    assert qpu.job(job.snapshot()["provider"]["job_id"])["status"] == "QUEUED"


def test_cancel_through_the_stores_command_queue_the_rest_path_cancels_the_remote_job(
    qpu, provider, manager, tmp_path
):
    from qmon_jupyter.kernel import StoreWriter
    from qmon_jupyter.store import Store

    store = Store(tmp_path / "qmon.sqlite")
    writer = StoreWriter(manager, store, command_interval=0.05)
    try:
        qpu.set_rate(0)
        job = provider.submit(bell(), shots=10, name="to be cancelled over REST")
        assert wait_until(lambda: job.status is S.QUEUED)
        remote = job.snapshot()["provider"]["job_id"]
        command = store.add_command(manager.kernel_id, "cancel", user="bob", job_id=job.id)
        assert wait_until(lambda: store.get_command(command)["state"] == "done")
        assert qpu.job(remote)["status"] == "CANCELLED"
        assert job.status is S.CANCELLED
        assert writer.flush()
        stored = store.get_job(job.id)
        assert stored["status"] == "cancelled"
        assert [(a["user"], a["action"]) for a in store.audit_trail(job_id=job.id)] == [
            ("bob", "cancel")
        ]
    finally:
        writer.close()
        store.close()
