"""Autotrack with the real libraries: jobs made with no ``track()`` call reach the manager."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest

from qmon_jupyter.providers import StatusMonitor
from qmon_jupyter.providers.autotrack import HOOKS, autotrack, autotracking
from qmon_jupyter.providers.qiskit_jobs import QiskitJobAdapter

from .._support import wait_until
from .conftest import only_job

if TYPE_CHECKING:
    from qmon_jupyter.jobs import ExecutionJob

pytest.importorskip("qiskit_aer")
pytest.importorskip("qiskit_ibm_runtime")
pytest.importorskip("braket.devices")

from braket.aws import AwsQuantumTask
from braket.circuits import Circuit as BraketCircuit
from braket.devices import LocalSimulator
from qiskit import QuantumCircuit, transpile
from qiskit.primitives import BackendSamplerV2, StatevectorSampler
from qiskit.providers.basic_provider import BasicSimulator
from qiskit_aer import AerSimulator
from qiskit_ibm_runtime import SamplerV2
from qiskit_ibm_runtime.fake_provider import FakeManilaV2

TIMEOUT = 30.0


def bell(name: str = "bell") -> QuantumCircuit:
    circuit = QuantumCircuit(2, name=name)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    return circuit


def originals() -> dict[str, object]:
    """Each hooked function as its class holds it now (all libraries are imported here)."""
    return {
        f"{h.owner}.{h.attr}": vars(getattr(sys.modules[h.module], h.owner))[h.attr] for h in HOOKS
    }


def assert_bell(job: ExecutionJob, shots: int) -> None:
    assert str(job.status) == "completed", job.snapshot()
    result = job.result()
    assert result.shots == shots
    assert set(result.counts) <= {"00", "11"}
    assert sum(result.counts.values()) == shots


def test_an_aer_job_goes_on_the_dashboard_without_track(tracking, manager):
    provider_job = AerSimulator().run(bell("aer bell"), shots=20_000)
    job = only_job(manager)
    assert job.name == "aer bell"
    assert job.backend == "qiskit:aer_simulator"
    assert_bell(job, 20_000)
    assert provider_job.result().get_counts() == job.result().counts


@pytest.mark.filterwarnings("ignore:The SamplerV2 class is deprecated:DeprecationWarning")
def test_a_runtime_sampler_job_on_a_fake_backend_is_one_job(tracking, manager):
    backend = FakeManilaV2()
    SamplerV2(mode=backend).run([transpile(bell("manila"), backend, seed_transpiler=1)], shots=700)
    # Neither the PrimitiveJob inside the LocalRuntimeJob nor the AerJob it runs shows apart.
    job = only_job(manager)
    assert job.name == "manila"
    assert job.backend == "qiskit:fake_manila"
    assert str(job.status) == "completed"
    assert job.result().shots == 700  # noise may give 01 and 10: only the shots are fixed


def test_the_client_side_runtime_sampler_job_is_one_job(tracking, manager):
    from qiskit_ibm_runtime.executor_sampler import Sampler

    backend = FakeManilaV2()
    Sampler(mode=backend).run([transpile(bell(), backend, seed_transpiler=1)], shots=300)
    job = only_job(manager)
    assert job.backend == "qiskit:fake_manila"
    assert str(job.status) == "completed", job.snapshot()


def test_a_braket_local_simulator_task_goes_on_the_dashboard(tracking, manager):
    LocalSimulator().run(BraketCircuit().h(0).cnot(0, 1), shots=123)
    job = only_job(manager)
    assert job.backend == "braket:local"
    assert_bell(job, 123)


def test_a_basic_simulator_job_goes_on_the_dashboard(tracking, manager):
    backend = BasicSimulator()
    backend.run(transpile(bell("basic"), backend), shots=300)
    job = only_job(manager)
    assert job.name == "basic"
    assert_bell(job, 300)


def test_a_reference_sampler_job_is_tracked_and_its_inner_aer_job_is_not(tracking, manager):
    BackendSamplerV2(backend=AerSimulator()).run([bell("wrapped")], shots=64)
    job = only_job(manager)
    assert job.name == "wrapped"
    assert_bell(job, 64)


def test_an_aws_task_that_cannot_be_created_raises_as_before_and_is_not_tracked(tracking, manager):
    # create() is a staticmethod: the wrapper must stay one and pass the library's error on.
    with pytest.raises(AttributeError, match="create_quantum_task"):
        AwsQuantumTask.create(
            None,
            "arn:aws:braket:::device/quantum-simulator/amazon/sv1",
            BraketCircuit().h(0),
            ("bucket", "key"),
            10,
        )
    assert manager.jobs() == []


def test_qmons_own_jobs_are_not_tracked_twice(tracking, manager):
    from qmon_jupyter.qiskit import QmonSampler

    qmon_job = QmonSampler(manager=manager).run([bell("qmon")], shots=100)
    qmon_job.result()
    assert [j.id for j in manager.jobs()] == [qmon_job.qmon_job.id]


def test_jobs_made_on_many_threads_are_each_tracked_once(tracking, manager):
    def run(i: int) -> None:
        AerSimulator().run(bell(f"t{i}"), shots=10).result()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert sorted(j.name for j in manager.jobs()) == sorted(f"t{i}" for i in range(8))
    assert all(j.wait(TIMEOUT) for j in manager.jobs())


def test_a_failure_to_track_is_logged_and_the_job_still_runs(manager, caplog):
    stopped = StatusMonitor(manager)
    stopped.stop()  # its track() raises RuntimeError
    autotrack(enabled=True, monitor=stopped)
    try:
        with caplog.at_level(logging.ERROR, "qmon_jupyter.providers.autotrack"):
            counts = AerSimulator().run(bell(), shots=50).result().get_counts()
    finally:
        autotrack(enabled=False)
    assert sum(counts.values()) == 50
    assert "could not track" in caplog.text
    assert manager.jobs() == []


def test_autotrack_off_puts_every_original_back_and_tracks_nothing(monitor, manager):
    before = originals()
    assert autotrack(enabled=True, monitor=monitor) is False
    assert autotracking()
    hooked = originals()
    assert all(hooked[name] is not before[name] for name in before)
    assert autotrack(enabled=False) is True
    assert not autotracking()
    after = originals()
    assert all(after[name] is before[name] for name in before)
    AerSimulator().run(bell(), shots=10).result()
    LocalSimulator().run(BraketCircuit().h(0), shots=5).result()
    assert manager.jobs() == []


def test_switching_on_twice_then_off_once_restores_the_originals(monitor):
    before = originals()
    autotrack(enabled=True, monitor=monitor)
    autotrack(enabled=True, monitor=monitor)
    autotrack(enabled=False)
    assert all(originals()[name] is before[name] for name in before)


def test_a_library_imported_later_is_hooked_and_nothing_is_imported_early():
    script = """
import sys
import qmon_jupyter
qmon_jupyter.autotrack(True)
assert "qiskit_aer" not in sys.modules and "braket" not in sys.modules
from qiskit import QuantumCircuit
from qiskit_aer import AerSimulator
circuit = QuantumCircuit(1, name="late")
circuit.x(0)
circuit.measure_all()
AerSimulator().run(circuit, shots=7).result()
job = qmon_jupyter.get_manager().jobs()[0]
assert job.wait(30)
print(job.name, job.status, job.result().shots)
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=str(Path(__file__).resolve().parents[2]),  # this tree's qmon_jupyter
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["late", "completed", "7"]


# ------------------------------------------------------------ what adapters report
def test_an_aer_job_reports_a_simulation_of_its_shots_timed_by_aer():
    provider_job = AerSimulator().run(bell(), shots=2000)
    adapter = QiskitJobAdapter(provider_job)
    assert (adapter.job_type, adapter.total, adapter.unit, adapter.name) == (
        "simulation",
        2000,
        "shots",
        "bell",
    )
    result = provider_job.result()
    wait_until(lambda: str(provider_job.status().name) == "DONE", TIMEOUT)
    assert adapter.elapsed_s() == result.time_taken


def test_a_primitive_job_without_timestamps_is_timed_by_what_a_hook_saw():
    adapter = QiskitJobAdapter(StatevectorSampler().run([bell()], shots=32))
    assert (adapter.job_type, adapter.total) == ("simulation", 32)
    assert adapter.elapsed_s() is None  # unseen: no times to tell
    adapter.observe(SimpleNamespace(started=10.0, finished=10.25))
    assert adapter.elapsed_s() == 0.25


def test_watching_a_primitive_job_that_has_not_started_leaves_its_status_alone(monitor):
    from concurrent.futures import ThreadPoolExecutor

    from qiskit_ibm_runtime.fake_provider.local_runtime_job import LocalRuntimeJob

    gate = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(gate.wait, TIMEOUT)
        future = pool.submit(lambda: "done")  # waits behind the gate: not started
        provider_job = LocalRuntimeJob(lambda: None, FakeManilaV2(), "sampler", {}, future=future)
        job = monitor.track(provider_job, poll_interval=0.01)
        assert wait_until(lambda: job.snapshot()["provider"]["status"] == "QUEUED", TIMEOUT)
        gate.set()
        assert wait_until(future.done, TIMEOUT)
    assert provider_job.status().name == "DONE"  # not the ERROR a too-early status() keeps


def test_an_autotracked_simulator_job_is_a_simulation_job_of_its_shots(tracking, manager):
    AerSimulator().run(bell(), shots=20_000)
    job = only_job(manager)
    snapshot = job.snapshot()
    assert (snapshot["type"], snapshot["total"], snapshot["unit"]) == (
        "simulation",
        20_000,
        "shots",
    )


def test_an_autotracked_aer_job_ran_for_aers_own_time_taken(tracking, manager):
    provider_job = AerSimulator().run(bell(), shots=20_000)
    job = only_job(manager)
    assert job.result().elapsed_s == provider_job.result().time_taken
