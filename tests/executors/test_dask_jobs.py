"""Simulation jobs of a JobManager on Dask: counts, progress, cancel, pause and faults."""

from __future__ import annotations

import json
import os
import signal
import socket
import threading

import pytest

from qmon_jupyter.errors import JobCancelled, JobFailed
from qmon_jupyter.executors.dask import ClusterError, DaskExecutor
from qmon_jupyter.jobs import JobManager, JobStatus

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def manager(dask_executor):
    with JobManager(executor=dask_executor) as running:
        yield running
        running.shutdown(wait=True, cancel_futures=True, cancel_running=True)


def local_counts(circuit, **submit) -> dict[str, int]:
    with JobManager() as local:
        counts = local.submit(circuit, **submit).result(timeout=60).counts
        local.shutdown()
    return counts


class Recorder:
    """Collects a manager's events; ``first(kind)`` waits (bounded) for one."""

    def __init__(self, manager: JobManager) -> None:
        self.events: list[dict] = []
        self.arrived = threading.Condition()
        manager.events.subscribe(self._on_event)

    def _on_event(self, event: dict) -> None:
        with self.arrived:
            self.events.append(event)
            self.arrived.notify_all()

    def wait_for(self, predicate, timeout: float = 60.0) -> dict:
        with self.arrived:
            found = self.arrived.wait_for(
                lambda: next((e for e in self.events if predicate(e)), None), timeout
            )
        assert found, "event never came"
        return found

    def progress_snapshots(self, job_id: str) -> list[dict]:
        with self.arrived:
            return [
                e["snapshot"]
                for e in self.events
                if e["kind"] == "job.progress" and e["job_id"] == job_id
            ]


def test_a_dask_job_gives_the_same_counts_as_a_local_job(kit, manager):
    submit = {"shots": 3000, "seed": 42, "batch_size": 300}

    job = manager.submit(kit.trajectory_circuit(), **submit)

    assert job.result(timeout=60).counts == local_counts(kit.trajectory_circuit(), **submit)


def test_a_dask_job_reports_progress_per_batch_with_rate_and_eta(kit, dask_executor):
    # progress_interval=0: an event per finished batch (the bus may coalesce some)
    with JobManager(executor=dask_executor, progress_interval=0) as manager:
        recorder = Recorder(manager)
        job = manager.submit(kit.slow_circuit(), shots=200 * 12, seed=1, batch_size=200)
        job.result(timeout=60)
        manager.shutdown()

    snapshots = recorder.progress_snapshots(job.id)
    done = [s["done"] for s in snapshots]
    assert done == sorted(done)
    assert {d % 200 for d in done} == {0}  # progress moves by whole batches
    assert len(set(done)) >= 4
    assert done[-1] == 2400
    running = [s for s in snapshots if 0 < s["done"] < 2400]
    assert any(s["rate"] for s in running)
    assert any(s["eta_s"] is not None for s in running)


def test_the_snapshot_names_the_dask_executor(kit, manager, dask_executor):
    job = manager.submit(kit.trajectory_circuit(), shots=100, seed=1)
    job.result(timeout=60)

    snapshot = job.snapshot()
    assert snapshot["backend"] == "dask"
    assert snapshot["executor"] == "dask"  # still the name: the schema does not change
    assert snapshot["executor_info"] == {
        "name": "dask",
        "address": dask_executor.address,
        "workers": 2,
    }
    json.dumps(snapshot)  # JSON-safe


def test_a_local_job_has_no_executor_info():
    with JobManager() as local:
        job = local.submit("OPENQASM 2.0; qreg q[1]; creg c[1]; measure q -> c;", shots=10)
        job.result(timeout=60)
        local.shutdown()
    assert job.snapshot()["executor"] == "local"
    assert job.snapshot()["executor_info"] is None


def test_backend_dask_selects_a_registered_dask_executor(kit, dask_executor):
    with JobManager() as manager:
        manager.register_executor(dask_executor)
        job = manager.submit(kit.trajectory_circuit(), shots=100, seed=1, backend="dask")
        job.result(timeout=60)
        manager.shutdown()

    assert job.snapshot()["backend"] == "dask"


def test_backend_dask_uses_the_current_distributed_client(kit, cluster):
    import distributed

    with distributed.Client(cluster.scheduler_address) as client, JobManager() as manager:
        job = manager.submit(kit.trajectory_circuit(), shots=100, seed=1, backend="dask")
        job.result(timeout=60)
        manager.shutdown()
        assert client.status == "running"  # the user's client, left open

    assert job.snapshot()["backend"] == "dask"


def test_cancelling_a_dask_job_leaves_nothing_on_the_cluster(kit, manager, dask_executor):
    recorder = Recorder(manager)
    job = manager.submit(kit.slow_circuit(), shots=200 * 40, seed=1, batch_size=200)
    recorder.wait_for(lambda e: e["job_id"] == job.id and (e["snapshot"] or {}).get("done"))

    job.cancel()

    with pytest.raises(JobCancelled):
        job.result(timeout=60)
    assert job.status == JobStatus.CANCELLED
    client = dask_executor.client
    kit.wait_until(lambda: not kit.scheduler_keys(client), what="the batches to be forgotten")


def test_a_paused_dask_job_submits_nothing_until_resumed(kit, manager, dask_executor):
    circuit = kit.slow_circuit()
    submit = {"shots": 200 * 30, "seed": 8, "batch_size": 200}
    recorder = Recorder(manager)
    client = dask_executor.client
    job = manager.submit(circuit, **submit)
    recorder.wait_for(lambda e: e["job_id"] == job.id and (e["snapshot"] or {}).get("done"))

    job.pause()
    assert job.status == JobStatus.PAUSED
    # the batches in flight finish and count; nothing new is submitted
    kit.wait_until(lambda: not kit.scheduler_keys(client), what="the batches in flight")
    done = job.snapshot()["done"]
    threading.Event().wait(0.5)
    assert not kit.scheduler_keys(client)
    assert job.snapshot()["done"] == done < submit["shots"]
    assert job.status == JobStatus.PAUSED

    job.resume()
    assert job.result(timeout=60).counts == local_counts(circuit, **submit)


def test_cancelling_a_paused_dask_job_ends_it_and_clears_the_cluster(kit, manager, dask_executor):
    recorder = Recorder(manager)
    job = manager.submit(kit.slow_circuit(), shots=200 * 40, seed=2, batch_size=200)
    recorder.wait_for(lambda e: e["job_id"] == job.id and (e["snapshot"] or {}).get("done"))
    job.pause()

    job.cancel()

    with pytest.raises(JobCancelled):
        job.result(timeout=60)
    client = dask_executor.client
    kit.wait_until(lambda: not kit.scheduler_keys(client), what="the batches to be forgotten")


def test_a_killed_worker_does_not_change_the_counts_and_the_job_completes(kit):
    circuit = kit.slow_circuit()
    submit = {"shots": 200 * 30, "seed": 21, "batch_size": 200}

    with (
        kit.start_cluster() as cluster,
        DaskExecutor(cluster, timeout=20) as executor,
        JobManager(executor=executor) as manager,
    ):
        client = executor.client
        job = manager.submit(circuit, **submit)

        def busy_worker() -> str | None:
            busy = [w for w, keys in client.processing().items() if keys]
            return busy[0] if busy else None

        kit.wait_until(lambda: busy_worker() is not None, what="a worker running a batch")
        victim = busy_worker()
        pid = client.run(os.getpid, workers=[victim])[victim]
        os.kill(pid, signal.SIGKILL)  # its nanny starts a new worker

        result = job.result(timeout=90)
        assert victim not in client.nthreads()
        manager.shutdown()

    assert job.status == JobStatus.COMPLETED
    assert result.counts == local_counts(circuit, **submit)


def test_a_lost_scheduler_fails_the_job_and_nothing_stays_running(kit):
    with (
        kit.quick_reconnect(),
        kit.start_cluster(processes=False) as cluster,
    ):
        executor = DaskExecutor(cluster.scheduler_address, timeout=5)
        with JobManager(executor=executor) as manager:
            recorder = Recorder(manager)
            job = manager.submit(kit.slow_circuit(), shots=200 * 40, seed=1, batch_size=200)
            recorder.wait_for(lambda e: e["job_id"] == job.id and (e["snapshot"] or {}).get("done"))

            cluster.sync(cluster.scheduler.close)

            with pytest.raises(JobFailed) as info:
                job.result(timeout=60)
            assert job.status == JobStatus.FAILED
            assert not manager.jobs(status=[JobStatus.RUNNING, JobStatus.PAUSED])
            manager.shutdown()
        executor.close()

    message = job.snapshot()["error"]["message"]
    assert "lost the Dask scheduler" in message
    assert cluster.scheduler_address in message
    assert isinstance(info.value.__cause__, ClusterError)


def test_an_unreachable_scheduler_address_leaves_no_job(kit):
    import dask

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{sock.getsockname()[1]}"

    with dask.config.set({"scheduler-address": address}), JobManager() as manager:
        with pytest.raises(ClusterError, match="cannot reach the Dask scheduler") as info:
            manager.submit(kit.trajectory_circuit(), shots=100, backend="dask")
        assert manager.jobs() == []
        manager.shutdown()

    assert address in str(info.value)
