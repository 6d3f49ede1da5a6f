"""Liveness without races, final job endings, one psutil.Process, one read per request."""

from __future__ import annotations

import threading
import time

import pytest

from qmon_jupyter.jobs import JobManager
from qmon_jupyter.kernel import attach_store
from qmon_jupyter.server import source as source_mod
from qmon_jupyter.server.config import QmonConfig
from qmon_jupyter.server.service import QmonService

from .conftest import FakeKernel, iso, snapshot


@pytest.fixture
def service():
    svc = QmonService(QmonConfig(kernel_timeout=0.5))
    yield svc
    svc.stop()


def _job(store, kernel_id, job_id, **fields):
    snap = snapshot(job_id, kernel_id=kernel_id, **fields)
    store.write_batch(
        kernel_id,
        jobs=[snap],
        events=[(iso(), job_id, "job.status", None, None, {"snapshot": snap})],
    )
    return snap


# -- 1. a first submit is not failed as "kernel died" -------------------------------


def test_writer_writes_its_heartbeat_before_the_first_jobs(store, monkeypatch):
    calls = []
    for name in ("heartbeat", "write_batch"):
        real = getattr(store, name)

        def record(*args, _real=real, _name=name, **kwargs):
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(store, name, record)
    manager = JobManager(max_concurrent_jobs=1)
    try:
        writer = attach_store(manager, store, heartbeat_interval=60.0)
        job = manager.submit_function(lambda reporter, token: None, name="first")
        assert job.wait(10)
        manager.events.flush(10)
        assert writer.flush(10)
        assert "write_batch" in calls
        assert calls.index("heartbeat") < calls.index("write_batch")
        writer.close()
    finally:
        manager.shutdown(wait=True, cancel_futures=True)


def test_jobs_without_a_heartbeat_yet_are_unknown_not_dead(store, service):
    _job(store, "k-new", "newjob000001")  # stored, the heartbeat not yet
    assert service.kernel_state(None) == "unknown"
    assert service._check_liveness_sync() == 0
    assert store.get_job("newjob000001")["status"] == "running"
    FakeKernel(store, "k-new")  # its first heartbeat arrives
    assert service._check_liveness_sync() == 0
    assert service._no_beat_since == {}


def test_a_kernel_that_never_beats_is_dead_after_kernel_timeout(store, service):
    _job(store, "k-ghost", "ghostjob0001")
    assert service.dead_kernels() == []
    time.sleep(service.config.kernel_timeout + 0.2)
    assert service._check_liveness_sync() == 1
    snap = store.get_job("ghostjob0001")
    assert (snap["status"], snap["error"]["message"]) == ("failed", "kernel died")


# -- 2. a job ends once; a revived kernel is audited ------------------------------------


@pytest.mark.parametrize("late", ["completed", "cancelled", "running"])
def test_a_failed_job_stays_failed_whatever_arrives_late(store, kernel, late):
    _job(store, kernel.kernel_id, "endsonce0001")
    store.mark_kernel_dead(kernel.kernel_id, "kernel died")
    seq = store.last_seq()
    _job(store, kernel.kernel_id, "endsonce0001", status=late, finished_at=iso())
    snap = store.get_job("endsonce0001")
    assert (snap["status"], snap["error"]["message"]) == ("failed", "kernel died")
    assert store.events_after(seq) == []  # not streamed as a second ending
    assert store.list_jobs(status=[late])[1] == 0


def test_a_terminal_job_may_be_refreshed_with_the_same_status(store, kernel):
    _job(store, kernel.kernel_id, "samestatus01", status="completed", result_summary=None)
    _job(store, kernel.kernel_id, "samestatus01", status="completed", result_summary={"n": 1})
    assert store.get_job("samestatus01")["result_summary"] == {"n": 1}
    _job(store, kernel.kernel_id, "samestatus01", status="failed")
    assert store.get_job("samestatus01")["status"] == "completed"


def test_a_dead_kernel_that_beats_is_alive_again_with_an_audit_event(store, kernel):
    _job(store, kernel.kernel_id, "revived00001")
    store.mark_kernel_dead(kernel.kernel_id, "kernel died")
    assert store.kernels()[0]["state"] == "dead"
    assert store.audit_trail() == []
    kernel.beat()
    assert store.kernels()[0]["state"] == "alive"
    [audit] = store.audit_trail()
    assert (audit["kind"], audit["action"], audit["kernel_id"]) == (
        "kernel.revived",
        "revive",
        kernel.kernel_id,
    )
    kernel.beat()  # an ordinary heartbeat adds nothing
    assert len(store.audit_trail()) == 1
    assert store.get_job("revived00001")["status"] == "failed"


# -- 3. one psutil.Process for the server -------------------------------------------------


def test_server_resources_reuse_one_process():
    pytest.importorskip("psutil")
    stop = threading.Event()

    def busy():
        while not stop.is_set():
            sum(range(1000))

    thread = threading.Thread(target=busy, daemon=True)
    thread.start()
    try:
        first = source_mod._server_resources()
        proc = source_mod._proc
        time.sleep(0.3)
        second = source_mod._server_resources()
    finally:
        stop.set()
        thread.join()
    assert proc is not None
    assert source_mod._proc is proc
    assert isinstance(first["cpu_percent"], float)
    # the busy thread spun in this process between the readings: the reused,
    # primed Process measures it (a new Process's first reading is always 0.0)
    assert second["cpu_percent"] > 0


# -- 5. one hardware() and one kernels() per dashboard request ----------------------------


def test_dashboard_state_reads_hardware_and_kernels_once(store, kernel, service, monkeypatch):
    _job(store, kernel.kernel_id, "hwjob0000001", type="hardware", backend="ibm_x")
    src = service.source
    counts = {"hardware": 0, "kernels": 0}
    real_hw, real_k = src.hardware, store.kernels

    def hardware(*args, **kwargs):
        counts["hardware"] += 1
        return real_hw(*args, **kwargs)

    def kernels():
        counts["kernels"] += 1
        return real_k()

    monkeypatch.setattr(src, "hardware", hardware)
    monkeypatch.setattr(service, "_store", store)
    monkeypatch.setattr(store, "kernels", kernels)
    state = src.dashboard_state()
    assert counts == {"hardware": 1, "kernels": 1}
    assert [p["name"] for p in state["status"]["providers"]] == ["ibm_x"]
    assert [j["id"] for j in state["hardware"]["jobs"]] == ["hwjob0000001"]
    assert list(state["resources"]["kernels"]) == [kernel.kernel_id]
