"""The cluster a kernel's Dask executor runs on, in GET status (in-process and from the store)."""

from __future__ import annotations

import json

import pytest

from qmon_jupyter.executors import cluster_infos
from qmon_jupyter.jobs import JobManager
from qmon_jupyter.kernel import StoreWriter, manager_api
from qmon_jupyter.server.config import QmonConfig
from qmon_jupyter.server.service import QmonService
from qmon_jupyter.store import Store

pytestmark = pytest.mark.timeout(120)


def test_status_from_the_store_reports_the_kernels_dask_cluster(kit, cluster, tmp_path):
    path = str(tmp_path / "qmon.sqlite")
    store = Store(path)
    service = QmonService(QmonConfig(db_path=path))
    executor = _executor(cluster)
    with JobManager(executor=executor) as manager:
        writer = StoreWriter(manager, store, heartbeat_interval=0.1, kernel_id="k-dask")
        try:
            manager.submit(kit.trajectory_circuit(), shots=100, seed=1).result(timeout=60)

            def reported() -> list[dict]:
                kernels = service.source.status()["kernels"]
                [kernel] = [k for k in kernels if k["kernel_id"] == "k-dask"]
                return kernel["executors"]

            kit.wait_until(lambda: bool(reported()), what="the heartbeat with the cluster")
            [dask] = reported()
            assert dask["name"] == "dask"
            assert dask["address"] == cluster.scheduler_address
            assert dask["status"] == "running"
            assert dask["workers"] == 2
            assert dask["threads"] == 2  # one thread per worker
            assert dask["memory_bytes"] > 0
            json.dumps(service.source.status())
        finally:
            writer.close()
            manager.shutdown(wait=True, cancel_futures=True, cancel_running=True)
            executor.close()  # the user's: the manager leaves it open
            service.stop()
            store.close()


def test_in_process_status_reports_the_managers_cluster(kit, dask_executor):
    with JobManager(executor=dask_executor) as manager:
        [kernel] = manager_api(manager).get_status()["kernels"]
        manager.shutdown()
    [dask] = kernel["executors"]
    assert (dask["address"], dask["workers"]) == (dask_executor.address, 2)
    assert manager.executors()  # the local executor and the Dask one
    assert {e.name for e in manager.executors()} == {"local", "dask"}


def test_a_broken_executor_does_not_hide_the_others():
    class Broken:
        name = "broken"

        def cluster_info(self) -> dict:
            raise OSError("gone")

    class Fine:
        name = "fine"

        def cluster_info(self) -> dict:
            return {"name": "fine", "workers": 1}

    infos = cluster_infos([Broken(), object(), Fine()])
    assert infos == [{"name": "broken", "status": "error: gone"}, {"name": "fine", "workers": 1}]


def _executor(cluster):
    from qmon_jupyter.executors.dask import DaskExecutor

    # connected by address: the executor owns its client
    return DaskExecutor(cluster.scheduler_address, timeout=20)
