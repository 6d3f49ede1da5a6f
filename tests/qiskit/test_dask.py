"""A sweep's bindings as tasks on a real Dask LocalCluster, with the same results as locally."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit.circuit.library import efficient_su2
from qiskit.quantum_info import SparsePauliOp

from qmon_jupyter import JobCancelled
from qmon_jupyter.qiskit import QmonEstimator, QmonSampler

from .._support import wait_until

distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")


@pytest.fixture(scope="module")
def client():
    """A two-worker LocalCluster on loopback TCP, its workers in this process.

    Worker processes (processes=True, as tests/executors uses) hang at start-up
    when this module runs after tests/notebook in one pytest session; not
    investigated yet (a script doing the same starts fine). In-process workers
    still put every binding through the scheduler as a task.
    """
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=False,
            dashboard_address="127.0.0.1:0",
            host="127.0.0.1",
            protocol="tcp://",
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def _sweep(bindings: int, width: int = 5) -> tuple:
    ansatz = efficient_su2(width, reps=1)
    values = np.random.default_rng(4).uniform(0, np.pi, size=(bindings, ansatz.num_parameters))
    return ansatz, values


def test_an_estimator_sweep_on_dask_equals_the_local_one(manager, client):
    ansatz, values = _sweep(24)
    observables = [[SparsePauliOp("ZZIII")], [SparsePauliOp(["XIIIX", "IYYII"], [0.5, 2.0])]]
    pub = (ansatz, observables, values)
    remote = QmonEstimator(manager=manager, backend="dask", client=client).run([pub])
    local = QmonEstimator(manager=manager).run([pub])
    np.testing.assert_allclose(
        remote.result(timeout=120)[0].data.evs, local.result(timeout=120)[0].data.evs, atol=1e-12
    )
    snapshot = remote.qmon_job.snapshot()
    assert snapshot["done"] == snapshot["total"] == 24


def test_a_sampler_sweep_on_dask_gives_the_same_samples_for_the_same_seed(manager, client):
    ansatz, values = _sweep(10)
    measured = ansatz.measure_all(inplace=False)
    pub = (measured, values, 200)
    remote = QmonSampler(manager=manager, seed=9, backend="dask", client=client).run([pub])
    local = QmonSampler(manager=manager, seed=9).run([pub])
    remote_bits = remote.result(timeout=120)[0].data.meas
    assert np.array_equal(remote_bits.array, local.result(timeout=120)[0].data.meas.array)


def test_cancel_stops_a_dask_sweep_and_cancels_its_queued_tasks(manager, client):
    ansatz, values = _sweep(3000, width=9)
    job = QmonEstimator(manager=manager, backend="dask", client=client).run(
        [(ansatz, SparsePauliOp("Z" * 9), values)]
    )
    wait_until(lambda: job.qmon_job.snapshot()["done"] >= 2, timeout=60)
    job.cancel()
    with pytest.raises(JobCancelled):
        job.result(timeout=60)
    assert job.qmon_job.snapshot()["done"] < 3000
    # nothing of the job is left on the cluster
    wait_until(lambda: not client.processing() or not any(client.processing().values()), 30)


def test_an_unknown_backend_names_the_choices(manager):
    with pytest.raises(ValueError, match=r"unknown backend 'gpu'.*local.*dask"):
        QmonEstimator(manager=manager, backend="gpu")
