"""DaskExecutor under faults: a killed worker, a lost scheduler, bad addresses, bad workers."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import qmon_jupyter
from qmon_jupyter.engine import prepare
from qmon_jupyter.executors import Batch
from qmon_jupyter.executors.dask import ClusterError, DaskExecutor

pytestmark = pytest.mark.timeout(120)


def batches_of(plan, shots: int, batch_size: int) -> list[Batch]:
    return [Batch(i, n) for i, n in enumerate(plan.batch_sizes(shots, batch_size))]


def free_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_an_unreachable_scheduler_is_a_clear_error_within_the_timeout():
    address = f"tcp://127.0.0.1:{free_port()}"

    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler") as info:
        DaskExecutor(address, timeout=1)

    assert address in str(info.value)
    assert "within 1 s" in str(info.value)


def test_a_closed_executor_refuses_new_runs(kit, cluster):
    plan = prepare(kit.trajectory_circuit())
    executor = DaskExecutor(cluster.scheduler_address, timeout=10)
    executor.close()

    with pytest.raises(ClusterError, match="closed"):
        executor.run_batches(plan, [Batch(0, 10)], 1, kit.RecordingControl())


def _start_worker_without_qmon(scheduler: str, cwd: Path) -> subprocess.Popen:
    """A real worker process that cannot import qmon_jupyter.

    qmon_jupyter is installed in development mode here (its source folder is
    on ``sys.path``); the worker drops that folder before it starts, so for
    it the package is simply not installed.
    """
    root = str(Path(qmon_jupyter.__file__).resolve().parent.parent)
    code = textwrap.dedent(
        f"""
        import asyncio, os, sys
        sys.path[:] = [p for p in sys.path if p and os.path.realpath(p) != {root!r}]
        import importlib.util
        if importlib.util.find_spec("qmon_jupyter") is not None:
            sys.exit(3)
        from distributed import Worker

        async def main():
            async with Worker({scheduler!r}, nthreads=1, host="127.0.0.1", name="bare") as w:
                await w.finished()

        asyncio.run(main())
        """
    )
    return subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_worker_without_qmon_jupyter_is_a_clear_error_naming_it(kit, tmp_path):
    if Path(qmon_jupyter.__file__).resolve().parent.parent.name == "site-packages":
        pytest.skip("qmon_jupyter is installed into site-packages: no worker can lack it here")
    plan = prepare(kit.trajectory_circuit())
    control = kit.RecordingControl()

    with kit.start_cluster(n_workers=1) as cluster, DaskExecutor(cluster) as executor:
        worker = _start_worker_without_qmon(cluster.scheduler_address, tmp_path)
        try:
            kit.wait_until(
                lambda: worker.poll() is not None or len(executor.client.nthreads()) == 2,
                timeout=60,
                what="the worker without qmon_jupyter to join",
            )
            if worker.poll() == 3:
                pytest.skip("qmon_jupyter is importable without its source folder on sys.path")
            assert worker.poll() is None, "the worker without qmon_jupyter did not start"
            bare = next(
                address
                for address, info in executor.client.scheduler_info()["workers"].items()
                if info["name"] == "bare"
            )
            with pytest.raises(ClusterError, match="qmon_jupyter is not installed") as info:
                executor.run_batches(plan, [Batch(0, 10), Batch(1, 10)], 1, control)
        finally:
            worker.terminate()
            worker.wait(30)

    assert bare in str(info.value)
    assert control.reported == []


def test_a_cluster_without_workers_is_a_clear_error(kit):
    plan = prepare(kit.trajectory_circuit())
    with (
        kit.start_cluster(n_workers=0) as cluster,
        DaskExecutor(cluster) as executor,
        pytest.raises(ClusterError, match="has no workers"),
    ):
        executor.run_batches(plan, [Batch(0, 10)], 1, kit.RecordingControl())


def test_cluster_info_of_a_lost_scheduler_answers_without_waiting(kit):
    with kit.quick_reconnect(), kit.start_cluster(processes=False) as cluster:
        executor = DaskExecutor(cluster.scheduler_address, timeout=5)
        cluster.sync(cluster.scheduler.close)
        kit.wait_until(lambda: executor.client.status != "running", what="the client to notice")
        info = executor.cluster_info()
        executor.close()

    assert info["status"] != "running"
    assert info["workers"] == 0


def test_no_client_and_no_configured_address_is_a_clear_error(monkeypatch):
    import dask

    monkeypatch.delenv("DASK_SCHEDULER_ADDRESS", raising=False)
    with dask.config.set({"scheduler-address": None}), pytest.raises(ClusterError, match="no Dask"):
        DaskExecutor()


def test_an_executor_reconnects_when_its_scheduler_is_back_at_the_same_address(kit):
    plan = prepare(kit.trajectory_circuit())
    port = free_port()
    with kit.quick_reconnect():
        with kit.start_cluster(n_workers=1, processes=False, scheduler_port=port) as first:
            executor = DaskExecutor(first.scheduler_address, timeout=2)
            first.sync(first.scheduler.close)
            kit.wait_until(lambda: executor.client.status == "closed", what="the client to give up")
        with kit.start_cluster(n_workers=1, processes=False, scheduler_port=port):
            control = kit.RecordingControl()
            executor.run_batches(plan, [Batch(0, 50), Batch(1, 50)], 4, control)
            executor.close()

    assert sorted(control.reported) == [0, 1]
