"""The store: concurrent writers, corrupt and unwritable files, checkpoints and resume."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from qmon_jupyter.circuits.ir import circuit_to_dict
from qmon_jupyter.jobs import JobManager
from qmon_jupyter.kernel import StoreWriter, attach_store
from qmon_jupyter.store import Store, StoreWarning, get_store


def _short(reporter, token, steps=5):
    for _ in range(steps):
        token.check()
        reporter.update(1)
    return steps


def _wait_jobs(jobs, timeout=30):
    for job in jobs:
        assert job.wait(timeout), job


@pytest.fixture
def manager():
    m = JobManager(max_concurrent_jobs=4, checkpoint_interval=0.05)
    yield m
    m.shutdown(wait=True, cancel_futures=True)


def _sync(manager, writer):
    manager.events.flush(10)
    assert writer.flush(10)


def test_writer_mirrors_jobs_events_and_notifications(manager, store):
    writer = attach_store(manager, store)
    assert attach_store(manager, store) is writer  # once per manager
    jobs = [manager.submit_function(_short, name=f"j{i}", total=5) for i in range(5)]
    _wait_jobs(jobs)
    _sync(manager, writer)
    stored = {j["id"]: j for j in store.list_jobs(limit=100)[0]}
    assert set(stored) == {j.id for j in jobs}
    assert all(s["status"] == "completed" for s in stored.values())
    assert all(s["kernel_id"] == writer.kernel_id for s in stored.values())
    kinds = {row[2] for row in store.events_after(0, limit=10_000)}
    assert {"job.created", "job.status", "notification.created"} <= kinds
    notes = store.list_notifications()
    assert notes
    manager.notifications.dismiss(notes[0]["id"])
    _sync(manager, writer)
    assert notes[0]["id"] not in [n["id"] for n in store.list_notifications()]
    [beat] = store.kernels()
    assert (beat["kernel_id"], beat["pid"], beat["state"]) == (
        writer.kernel_id,
        os.getpid(),
        "alive",
    )
    writer.close()
    assert store.kernels()[0]["state"] == "stopped"


def test_commands_are_carried_out_on_the_writer_thread(manager, store):
    writer = attach_store(manager, store, command_interval=0.05)

    def waits(reporter, token):
        for _ in range(3000):
            token.check()
            time.sleep(0.01)

    job = manager.submit_function(waits, name="waits")
    _sync(manager, writer)
    store.add_command(writer.kernel_id, "cancel", user="bob", job_id=job.id)
    assert job.wait(10)
    assert str(job.status) == "cancelled"
    _sync(manager, writer)
    assert store.get_job(job.id)["status"] == "cancelled"


def test_two_processes_write_one_store_at_once(store, kernel_cmd):
    procs = [
        subprocess.Popen(kernel_cmd("burst", "40"), stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outs = [json.loads(p.communicate(timeout=120)[0].splitlines()[-1]) for p in procs]
    assert all(p.returncode == 0 for p in procs)
    assert all(o["degraded"] is None for o in outs)  # never "database is locked"
    ids = [i for o in outs for i in o["jobs"]]
    jobs, total = store.list_jobs(limit=1000)
    assert total == 80
    assert {j["id"] for j in jobs} == set(ids)
    assert {j["status"] for j in jobs} == {"completed"}
    assert len({j["kernel_id"] for j in jobs}) == 2
    seqs = [row[0] for row in store.events_after(0, limit=100_000)]
    assert seqs == sorted(set(seqs))


def test_corrupt_file_is_moved_aside_and_recreated(tmp_path):
    path = tmp_path / "qmon.sqlite"
    path.write_bytes(b"this is not a database, it is garbage" * 100)
    with pytest.warns(StoreWarning, match="corrupt"):
        store = Store(path)
    moved = list(tmp_path.glob("qmon.sqlite.corrupt-*"))
    assert len(moved) == 1
    assert moved[0].read_bytes().startswith(b"this is not a database")
    store.write_batch("k", jobs=[{"id": "abc", "status": "running", "type": "simulation"}])
    assert store.get_job("abc")["status"] == "running"


def test_unwritable_store_degrades_and_jobs_still_finish(manager, tmp_path, caplog, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("a file where the store's folder should be")
    monkeypatch.setenv("QMON_DB", str(blocker / "qmon.sqlite"))  # its folder cannot exist
    caplog.set_level(logging.WARNING, "qmon_jupyter")
    writer = StoreWriter(manager, None)
    jobs = [manager.submit_function(_short, total=5) for _ in range(3)]
    _wait_jobs(jobs)
    assert [j.result().value for j in jobs] == [5, 5, 5]
    _sync(manager, writer)
    assert writer.degraded
    assert "degraded" in caplog.text
    writer.close()


@pytest.mark.parametrize("pragma", ["PRAGMA query_only=ON", "PRAGMA max_page_count=1"])
def test_read_only_or_full_store_never_breaks_a_job_and_recovers(manager, store, caplog, pragma):
    caplog.set_level(logging.WARNING, "qmon_jupyter")
    writer = attach_store(manager, store)
    _sync(manager, writer)
    if "max_page_count" in pragma:
        pages = store._conn().execute("PRAGMA page_count").fetchone()[0]
        pragma = f"PRAGMA max_page_count={pages}"  # full: not one more page
    store.execute_on_all(pragma)
    jobs = [manager.submit_function(_short, name=f"big-{i}" * 200, total=5) for i in range(20)]
    _wait_jobs(jobs)
    assert all(str(j.status) == "completed" for j in jobs)
    _sync(manager, writer)
    assert writer.degraded, "the failing store should have been noticed"
    assert "degraded" in caplog.text
    # the disk has room again: the writer catches up with the latest snapshots
    store.extra_pragmas.clear()
    store.close()
    deadline = time.monotonic() + 10
    while writer.degraded and time.monotonic() < deadline:
        time.sleep(0.05)
    _sync(manager, writer)
    assert writer.degraded is None
    assert {store.get_job(j.id)["status"] for j in jobs} == {"completed"}


def test_retention_keeps_newest_finished_jobs_and_every_active_one(store):
    old = [
        {
            "id": f"old{i}",
            "status": "completed",
            "type": "simulation",
            "created_at": f"2026-01-01T00:00:{i:02d}Z",
        }
        for i in range(10)
    ]
    active = {
        "id": "active",
        "status": "running",
        "type": "simulation",
        "created_at": "2025-01-01T00:00:00Z",
    }
    store.write_batch("k", jobs=[*old, active])
    store.write_batch(
        "k", checkpoints=[("old0", "x", {"spec": {}, "batches_done": 1, "counts": {}})]
    )
    removed = store.prune(max_jobs=4)
    assert removed == 6
    left = {j["id"] for j in store.list_jobs(limit=100)[0]}
    assert left == {"active", "old9", "old8", "old7", "old6"}
    with pytest.raises(KeyError, match="old0"):
        store.load_checkpoint("old0")


def test_a_finished_job_is_never_reopened_by_a_late_snapshot(store):
    store.write_batch("k", jobs=[{"id": "j", "status": "completed", "type": "simulation"}])
    store.write_batch("k", jobs=[{"id": "j", "status": "running", "type": "simulation"}])
    assert store.get_job("j")["status"] == "completed"


def test_load_checkpoint_unknown_id_names_it(store):
    with pytest.raises(KeyError, match="nope"):
        store.load_checkpoint("nope")


def test_a_job_is_resumed_once(store):
    from qmon_jupyter.circuits.ir import Circuit, Instruction
    from qmon_jupyter.engine import run as engine_run
    from qmon_jupyter.errors import JobStateError
    from qmon_jupyter.kernel import resume

    m = JobManager(max_concurrent_jobs=1, checkpoint_interval=0.05)
    writer = attach_store(m, store)
    gate = threading.Event()
    try:
        circuit = Circuit(
            3,
            3,
            (Instruction("h", (0,)), Instruction("cx", (0, 1)), Instruction("ry", (2,), (0.4,))),
        )
        job = m.submit(circuit, shots=400, seed=9, batch_size=100, name="first")
        assert job.wait(30)
        _sync(m, writer)  # its own completion must not delete the checkpoint written next
        # pretend the kernel died after two batches: keep a checkpoint of the prefix
        half = engine_run(circuit, 200, seed=9, batch_size=100)
        spec = {"circuit": circuit_to_dict(circuit), "shots": 400, "seed": 9, "batch_size": 100}
        store.write_batch(
            "k", checkpoints=[(job.id, "first", {"spec": spec, "batches_done": 2, "counts": half})]
        )
        blocker = m.submit_function(lambda _r, _t: gate.wait(30), name="blocker")
        again = resume(job.id, manager=m, store=store)  # queued behind the blocker
        with pytest.raises(JobStateError, match=f"already being resumed as job '{again.id}'"):
            resume(job.id, manager=m, store=store)
        gate.set()
        assert blocker.wait(30)
        assert again.result(30).counts == engine_run(circuit, 400, seed=9, batch_size=100)
        # at once, before the writer has deleted the old checkpoint
        with pytest.raises(JobStateError, match=f"resumed as job '{again.id}', which completed"):
            resume(job.id, manager=m, store=store)
        _sync(m, writer)
        completed = f"resumed as job '{again.id}', now completed"
        # as another process would see it: the store says why
        with JobManager() as elsewhere, pytest.raises(KeyError, match=completed):
            resume(job.id, manager=elsewhere, store=store)
        with pytest.raises(KeyError, match=again.id):
            store.load_checkpoint(again.id)
    finally:
        gate.set()
        m.shutdown(wait=True, cancel_futures=True)
        writer.close()


def test_a_continuations_first_checkpoint_supersedes_the_one_it_resumed(manager, store):
    writer = attach_store(manager, store)
    spec = {"circuit": {}, "shots": 300, "seed": 1, "batch_size": 100}
    store.write_batch(
        "k", checkpoints=[("A", "a", {"spec": spec, "batches_done": 1, "counts": {}})]
    )
    snapshot = {"id": "B", "status": "running", "type": "simulation", "resumed_from": "A"}
    data = {"spec": spec, "batches_done": 2, "counts": {"0": 200}}
    manager.events.publish("job.checkpoint", job_id="B", snapshot=snapshot, data=data)
    _sync(manager, writer)
    assert store.load_checkpoint("B")["batches_done"] == 2
    with pytest.raises(KeyError, match="resumed as job 'B', now running"):
        store.load_checkpoint("A")
    writer.close()


def test_get_store_is_process_wide_per_path():
    assert get_store() is get_store()
    assert Path(get_store().path) == Path(os.environ["QMON_DB"])


@pytest.mark.slow
def test_sigkill_mid_job_then_resume_gives_uninterrupted_counts(store, kernel_cmd, tmp_path):
    shots, seed, batch = "240000", "11", "1000"
    log = tmp_path / "killed.log"
    with (
        log.open("w") as err,
        subprocess.Popen(
            kernel_cmd("simpause", shots, seed, batch),
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        ) as proc,
    ):
        job_id = _kill_after_checkpoints(proc, store, 1, log)
    checkpoint = store.load_checkpoint(job_id)
    assert 0 < checkpoint["batches_done"] < 240, checkpoint["batches_done"]
    resumed = _run(kernel_cmd("resume", job_id))
    assert resumed["resumed_from"] == job_id
    with pytest.raises(KeyError, match=r"resumed as job '[^']+', now completed"):
        store.load_checkpoint(job_id)  # resumed once: the old checkpoint is gone
    straight = _run(kernel_cmd("sim", shots, seed, batch, "120"))
    assert resumed["counts"] == straight["counts"]
    assert sum(resumed["counts"].values()) == int(shots)


def _run(argv: list[str]) -> dict:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _kill_after_checkpoints(proc, store, batches, log):
    try:
        line = proc.stdout.readline()
        assert line, f"the kernel process failed: {log.read_text()[-3000:]}"
        job_id = json.loads(line)["job_id"]
        deadline = time.monotonic() + 60
        done = 0
        while time.monotonic() < deadline and done < batches:
            with contextlib.suppress(KeyError):
                done = store.load_checkpoint(job_id)["batches_done"]
            time.sleep(0.02)
        assert done >= batches, "no checkpoint was written"
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        proc.kill()
    return job_id
