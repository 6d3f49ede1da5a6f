"""The process-wide manager and the top-level API: submit, progress, resume."""

from __future__ import annotations

import pytest

import qmon_jupyter as qmon
from qmon_jupyter.engine import run as engine_run
from qmon_jupyter.jobs import JobManager
from qmon_jupyter.kernel import MonitoredSimulationExecutor, get_manager

from .._support import wait_until
from .conftest import TIMEOUT, ghz, random_layers


def test_get_manager_returns_one_manager_per_process():
    assert get_manager() is get_manager()
    assert isinstance(qmon.get_manager(), JobManager)


def test_top_level_submit_runs_on_the_default_manager():
    job = qmon.submit(ghz(3), shots=200, seed=2, name="top")
    assert job.result(TIMEOUT).shots == 200
    assert get_manager().get(job.id) is job


def test_monitored_simulation_executor_runs_and_waits(manager):
    executor = MonitoredSimulationExecutor(manager, shots=300)
    job = executor.execute_circuit(ghz(3), job_name="mse", seed=4)
    assert job.name == "mse"
    result = executor.wait_for_job(job)
    assert result.counts == engine_run(ghz(3), 300, seed=4)


def test_resume_from_the_stores_checkpoint_gives_identical_counts(manager, gated_plans):
    from qmon_jupyter.kernel import attach_store
    from qmon_jupyter.store import get_store

    store = get_store()  # this test's QMON_DB
    attach_store(manager, store)
    circuit = random_layers(6)
    job = manager.submit(circuit, shots=1200, seed=9, batch_size=100, name="to resume")
    plan = gated_plans[0]
    plan.release(4)
    assert wait_until(lambda: len(plan.ran) == 4)
    job.cancel()
    plan.release(1)
    assert job.wait(TIMEOUT)

    def has_checkpoint():
        try:
            return store.load_checkpoint(job.id)["batches_done"] >= 4
        except KeyError:
            return False

    if not wait_until(has_checkpoint):
        pytest.fail("the store never received the checkpoint of a cancelled job")
    resumed = qmon.resume(job.id, manager=manager)
    gated_plans[1].release(100)
    assert resumed.result(TIMEOUT).counts == engine_run(circuit, 1200, seed=9, batch_size=100)
    assert resumed.snapshot()["resumed_from"] == job.id
    assert resumed.name == "to resume"


def test_resume_of_an_unknown_job_raises_key_error():
    with pytest.raises(KeyError, match="no-such-job"):
        qmon.resume("no-such-job")
