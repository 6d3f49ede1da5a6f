"""Tracked provider jobs, with the real libraries: true run times, names and shots, one job each.

The times: a job is polled every 0.5 s, so a job of a few milliseconds is
*seen* running for up to half a second; its snapshot must show the
provider's own time instead, bounded by what the caller saw around it.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest

from qmon_jupyter.providers.qiskit_jobs import RUNTIME_DEFAULT_SHOTS, RuntimeJobV2Adapter

from .conftest import only_job as conftest_only_job

if TYPE_CHECKING:
    from qmon_jupyter.jobs import ExecutionJob, JobManager

pytest.importorskip("qiskit_aer")
pytest.importorskip("qiskit_ibm_runtime")
pytest.importorskip("braket.devices")

from braket.circuits import Circuit as BraketCircuit
from braket.devices import LocalSimulator
from qiskit import QuantumCircuit, transpile
from qiskit.circuit import Parameter
from qiskit.primitives import StatevectorSampler
from qiskit_aer import AerSimulator
from qiskit_ibm_runtime import RuntimeJobV2, SamplerV2
from qiskit_ibm_runtime.fake_provider import FakeManilaV2

TIMEOUT = 30.0
#: Wall clock against monotonic-derived times: the two clocks read a few µs apart.
SLACK_S = 0.005

pytestmark = pytest.mark.filterwarnings(
    "ignore:The SamplerV2 class is deprecated:DeprecationWarning"
)


def bell(name: str = "bell") -> QuantumCircuit:
    circuit = QuantumCircuit(2, name=name)
    circuit.h(0)
    circuit.cx(0, 1)
    circuit.measure_all()
    return circuit


def only_job(manager: JobManager) -> ExecutionJob:
    job = conftest_only_job(manager, TIMEOUT)
    assert str(job.status) == "completed", job.snapshot()
    return job


def epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()


def assert_ran_within(job: ExecutionJob, before: float, after: float) -> dict:
    """The snapshot's run lies inside [before, after] (wall clock around the caller's calls)."""
    snapshot = job.snapshot()
    started, finished = epoch(snapshot["started_at"]), epoch(snapshot["finished_at"])
    # ISO times keep milliseconds: compare to 1 ms.
    assert before - 0.001 - SLACK_S <= started <= finished <= after + 0.001 + SLACK_S, snapshot
    assert finished - started == pytest.approx(snapshot["elapsed_s"], abs=0.0011)
    assert 0 < snapshot["elapsed_s"] <= after - before + SLACK_S, snapshot
    assert job.result().elapsed_s == pytest.approx(snapshot["elapsed_s"], abs=1e-9)
    return snapshot


# ------------------------------------------------------------------ true run times
def test_an_autotracked_aer_job_shows_aers_time_taken_not_the_polled_time(tracking, manager):
    before = time.time()
    provider_job = AerSimulator().run(bell(), shots=2000)
    taken = provider_job.result().time_taken
    after = time.time()
    job = only_job(manager)
    snapshot = assert_ran_within(job, before, after)
    assert snapshot["elapsed_s"] == pytest.approx(taken, abs=1e-9)


def test_a_reference_primitive_job_shows_the_time_its_work_ran(tracking, manager):
    before = time.time()
    StatevectorSampler(seed=1).run([bell()], shots=500).result()
    after = time.time()
    assert_ran_within(only_job(manager), before, after)


def test_a_local_mode_runtime_job_shows_the_time_its_work_ran(tracking, manager):
    backend = FakeManilaV2()
    circuit = transpile(bell("manila"), backend, seed_transpiler=1)
    before = time.time()
    SamplerV2(mode=backend).run([circuit], shots=300).result()
    after = time.time()
    assert_ran_within(only_job(manager), before, after)


def test_a_braket_local_task_shows_its_own_created_and_ended_times(tracking, manager):
    before = time.time()
    task = LocalSimulator().run(BraketCircuit().h(0).cnot(0, 1), shots=200)
    after = time.time()
    job = only_job(manager)
    snapshot = assert_ran_within(job, before, after)
    metadata = task.result().task_metadata
    # Both kept to the millisecond (and moved through the monotonic clock): 1 ms apart at most.
    assert epoch(snapshot["started_at"]) == pytest.approx(epoch(metadata.createdAt), abs=0.0011)
    assert epoch(snapshot["finished_at"]) == pytest.approx(epoch(metadata.endedAt), abs=0.0011)


def test_an_explicitly_tracked_aer_job_shows_aers_time_taken(monitor, manager):
    before = time.time()
    provider_job = AerSimulator().run(bell(), shots=2000)
    job = monitor.track(provider_job)
    taken = provider_job.result().time_taken
    after = time.time()
    assert job.wait(TIMEOUT)
    snapshot = assert_ran_within(job, before, after)
    assert snapshot["elapsed_s"] == pytest.approx(taken, abs=1e-9)


# ------------------------------------------------------------------ runtime names and shots
def sweep(name: str) -> QuantumCircuit:
    theta = Parameter("theta")
    circuit = QuantumCircuit(1, name=name)
    circuit.rx(theta, 0)
    circuit.measure_all()
    return circuit


def test_a_local_mode_runtime_job_is_named_and_counts_its_shots_from_its_pubs(tracking, manager):
    backend = FakeManilaV2()
    circuit = transpile(sweep("rx sweep"), backend, seed_transpiler=1)
    SamplerV2(mode=backend).run([(circuit, [[0.1], [0.2], [0.3]])], shots=50).result()
    job = only_job(manager)
    assert job.name == "rx sweep"
    assert job.snapshot()["total"] == 150  # 3 bindings x 50 shots


def test_a_local_mode_runtime_job_without_shots_counts_the_default_it_ran(tracking, manager):
    backend = FakeManilaV2()
    provider_job = SamplerV2(mode=backend).run([transpile(bell("plain"), backend)])
    ran = provider_job.result()[0].data.meas.num_shots
    job = only_job(manager)
    assert (job.name, job.snapshot()["total"], job.result().shots) == ("plain", ran, ran)


def unconnected_runtime_job() -> RuntimeJobV2:
    # A real RuntimeJobV2, as the service makes one, but with no service behind it: no
    # IBM account here. Only its constructor runs (the adapter must ask IBM nothing).
    return RuntimeJobV2(
        backend=FakeManilaV2(), api_client=None, job_id="d1abc", program_id="sampler", service=None
    )


def test_a_cloud_runtime_job_is_named_and_counts_its_shots_from_the_run_call():
    sampler = SamplerV2(mode=FakeManilaV2())
    adapter = RuntimeJobV2Adapter(unconnected_runtime_job())
    assert (adapter.name, adapter.total) == (None, None)  # nothing local to read
    circuits = [sweep("first"), bell("second")]
    pubs = [(circuits[0], [[0.1], [0.2]]), circuits[1]]
    adapter.observe(SimpleNamespace(call=((sampler, pubs), {"shots": 10})))
    assert (adapter.name, adapter.total) == ("first (+1 more)", 30)


def test_a_cloud_runtime_job_without_shots_counts_the_option_or_ibms_default():
    sampler = SamplerV2(mode=FakeManilaV2())
    adapter = RuntimeJobV2Adapter(unconnected_runtime_job())
    adapter.observe(SimpleNamespace(call=((sampler, [bell()]), {})))
    assert adapter.total == RUNTIME_DEFAULT_SHOTS
    sampler.options.default_shots = 333
    adapter.observe(SimpleNamespace(call=((sampler, [bell(), bell()]), {})))
    assert adapter.total == 666


# ------------------------------------------------------------------ one job per provider job
def test_tracking_a_provider_job_twice_gives_one_job(monitor, manager):
    provider_job = AerSimulator().run(bell("twice"), shots=100)
    first = monitor.track(provider_job)
    assert monitor.track(provider_job) is first
    assert [j.id for j in manager.jobs()] == [first.id]
    assert first.wait(TIMEOUT)
    assert monitor.track(provider_job) is first  # ended: still the same job


def test_tracking_an_autotracked_job_gives_the_autotracked_one(tracking, manager):
    provider_job = AerSimulator().run(bell("seen"), shots=100)
    auto = only_job(manager)
    assert tracking.track(provider_job) is auto
    assert len(manager.jobs()) == 1


def test_tracking_one_provider_job_from_many_threads_gives_one_job(monitor, manager):
    provider_job = AerSimulator().run(bell("raced"), shots=100)
    start = threading.Barrier(8)
    got: list[ExecutionJob] = []

    def track() -> None:
        start.wait(TIMEOUT)
        got.append(monitor.track(provider_job))

    threads = [threading.Thread(target=track) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert len(got) == 8
    assert len({id(job) for job in got}) == 1
    assert len(manager.jobs()) == 1
