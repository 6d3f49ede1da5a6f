"""The public API as DESIGN.md names it exists and does what it says."""

from __future__ import annotations

import json
import math
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import qmon_jupyter as qmon

from ._support import BELL

#: Imported by ``import qmon_jupyter`` only if a user asks for them.
HEAVY = ("qiskit", "braket", "distributed", "anywidget", "ipywidgets")


@pytest.fixture
def manager():
    m = qmon.JobManager(max_concurrent_jobs=2, kernel_id="test-api")
    yield m
    m.shutdown(wait=True, cancel_futures=True)
    m.events.close()


@pytest.fixture
def dashboard():
    board = qmon.get_dashboard()
    yield board
    board.close()


def _wait_for_cancel(reporter, token, started):
    """A function job that runs until it is cancelled (bounded: 30 s at most)."""
    reporter.set(0, 3000)
    started.set()
    for _ in range(3000):
        token.check()
        time.sleep(0.01)
        reporter.update(1)
    return "not cancelled"


@pytest.mark.parametrize("name", qmon.__all__)
def test_every_name_in_all_resolves(name):
    assert getattr(qmon, name) is not None


def test_all_lists_the_errors_as_real_names():
    from qmon_jupyter import errors

    for name in errors.__all__:
        assert name in qmon.__all__
        assert getattr(qmon, name) is getattr(errors, name)
        assert issubclass(getattr(qmon, name), errors.QmonError)


def test_job_state_error_is_one_class_wherever_it_is_imported_from():
    from qmon_jupyter import errors, jobs

    assert qmon.JobStateError is errors.JobStateError is jobs.JobStateError
    assert qmon.JobStateError.__module__ == "qmon_jupyter.errors"


def test_importing_the_package_imports_no_heavy_dependency():
    code = (
        "import json, sys, qmon_jupyter\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(out.stdout) == []


def test_run_of_a_bell_circuit_gives_only_00_and_11():
    counts = qmon.run(qmon.parse_qasm(BELL), shots=1000, seed=1)
    assert set(counts) <= {"00", "11"}
    assert sum(counts.values()) == 1000


def test_simulate_statevector_of_a_bell_circuit():
    state = qmon.simulate_statevector(qmon.parse_qasm(BELL))
    s = 1 / math.sqrt(2)
    np.testing.assert_allclose(state, [s, 0, 0, s], atol=1e-12)


def test_dashboard_and_get_dashboard_return_the_kernels_one_dashboard(dashboard):
    assert isinstance(dashboard, qmon.ExecutionDashboard)
    assert qmon.dashboard() is dashboard
    assert qmon.get_dashboard() is dashboard


@pytest.mark.parametrize(
    "method", ["submit", "submit_function", "jobs", "get", "stats", "cancel", "shutdown"]
)
def test_job_manager_has_the_documented_methods(manager, method):
    assert callable(getattr(manager, method))


def test_job_manager_runs_a_submitted_circuit(manager):
    job = manager.submit(BELL, shots=200, seed=3, name="bell")
    assert isinstance(job, qmon.ExecutionJob)
    assert manager.get(job.id) is job
    result = job.result(timeout=30)
    assert sum(result.counts.values()) == 200
    assert manager.jobs() == [job]
    assert manager.stats()["total"] == 1


def test_job_manager_cancels_by_id(manager):
    started = threading.Event()
    job = manager.submit_function(_wait_for_cancel, started, name="until cancelled")
    assert started.wait(10)
    manager.cancel(job.id)
    assert job.wait(timeout=10)
    assert job.status is qmon.JobStatus.CANCELLED
    with pytest.raises(qmon.JobCancelled):
        job.result(timeout=1)


def test_monitored_simulation_executor_executes_and_waits(manager):
    executor = qmon.MonitoredSimulationExecutor(manager)
    job = executor.execute_circuit(qmon.parse_qasm(BELL), shots=500, job_name="via executor")
    assert job.name == "via executor"
    result = executor.wait_for_job(job)
    assert set(result.counts) <= {"00", "11"}
    assert sum(result.counts.values()) == 500


def test_monitored_simulation_executor_defaults_to_the_default_manager():
    assert qmon.MonitoredSimulationExecutor().manager is qmon.get_manager()


def test_dashboard_api_gives_the_dashboard_state(dashboard):
    job = qmon.submit(BELL, shots=100, seed=2, name="api state")
    assert job.wait(timeout=30)
    state = dashboard.api.get_dashboard_state()
    assert job.id in [snap["id"] for snap in state["jobs"]]
    assert {"hardware", "status", "resources", "stats", "notifications"} <= set(state)


def test_dashboard_api_gives_statistics(dashboard):
    job = qmon.submit(BELL, shots=100, seed=2, name="api stats")
    assert job.wait(timeout=30)
    stats = dashboard.api.get_statistics()
    assert stats["total"] >= 1
    assert stats["by_status"]["completed"] >= 1


def test_dashboard_api_cancels_a_job(dashboard):
    started = threading.Event()
    job = qmon.get_manager().submit_function(_wait_for_cancel, started, name="api cancel")
    assert started.wait(10)
    snapshot = dashboard.api.cancel_job(job.id)
    assert snapshot["id"] == job.id
    assert job.wait(timeout=10)
    assert job.status is qmon.JobStatus.CANCELLED
