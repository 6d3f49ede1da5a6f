"""track() against the real client libraries: Qiskit Aer, qiskit-ibm-runtime, Amazon Braket.

Each test skips with a clear reason when its library (a test extra) is absent.
RuntimeJobV2 needs IBM's service; its test drives the library's own
``RuntimeJobV2`` class over a stand-in API client that answers as the service
does (``job_get``/``job_results``/``job_cancel``), so everything from the API
answer on is the real library code. It was not run against the live service.
"""

from __future__ import annotations

import json
import warnings

import pytest

from qmon_jupyter.errors import JobFailed, QmonError
from qmon_jupyter.jobs import JobStateError, JobStatus
from qmon_jupyter.providers import StatusMonitor

from .._support import wait_until
from .conftest import TIMEOUT

S = JobStatus


def _bell_qiskit():
    qiskit = pytest.importorskip("qiskit", reason="qiskit is not installed (test extra 'qiskit')")
    qc = qiskit.QuantumCircuit(2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure_all()
    return qc


@pytest.fixture
def fast_monitor(manager):
    monitor = StatusMonitor(manager, max_backoff_s=0.3)
    yield monitor
    monitor.stop()


def test_an_aer_job_is_tracked_to_its_counts(fast_monitor):
    aer = pytest.importorskip("qiskit_aer", reason="qiskit-aer is not installed (test extra)")
    qc = _bell_qiskit()
    aer_job = aer.AerSimulator().run(qc, shots=300, seed_simulator=3)
    job = fast_monitor.track(aer_job, name="bell on aer")
    result = job.result(TIMEOUT)
    assert result.counts == aer_job.result().get_counts()
    assert result.shots == 300
    snap = job.snapshot()
    assert snap["type"] == "simulation"  # a simulator's job, with its shots
    assert snap["total"] == 300
    assert snap["provider"]["status"] == "DONE"
    assert snap["provider"]["kind"] == "qiskit"
    assert snap["provider"]["device"] == "aer_simulator"
    assert snap["provider"]["queue_position"] == "n/a"  # Aer has no queue


def test_a_failed_aer_simulation_fails_the_job_with_aers_reason(fast_monitor, capfd):
    aer = pytest.importorskip("qiskit_aer", reason="qiskit-aer is not installed (test extra)")
    qiskit = pytest.importorskip("qiskit")
    qc = qiskit.QuantumCircuit(40)
    qc.h(range(40))
    qc.measure_all()
    job = fast_monitor.track(aer.AerSimulator(method="statevector").run(qc, shots=1))
    with pytest.raises(JobFailed, match="Insufficient memory"):
        job.result(TIMEOUT)
    capfd.readouterr()  # Aer prints the failure itself


@pytest.mark.filterwarnings("ignore:The SamplerV2 class is deprecated:DeprecationWarning")
def test_an_ibm_runtime_local_mode_job_is_tracked(fast_monitor):
    runtime = pytest.importorskip(
        "qiskit_ibm_runtime", reason="qiskit-ibm-runtime is not installed (test extra)"
    )
    from qiskit import transpile
    from qiskit_ibm_runtime.fake_provider import FakeManilaV2

    backend = FakeManilaV2()
    qc = transpile(_bell_qiskit(), backend, seed_transpiler=1)
    runtime_job = runtime.SamplerV2(mode=backend).run([qc], shots=200)
    assert type(runtime_job).__name__ == "LocalRuntimeJob"
    job = fast_monitor.track(runtime_job)
    result = job.result(TIMEOUT)
    assert sum(result.counts.values()) == 200
    assert set(result.counts) <= {"00", "01", "10", "11"}
    assert job.snapshot()["provider"]["device"] == "fake_manila"
    assert job.snapshot()["provider"]["status"] == "DONE"


class StandInRuntimeClient:
    """Answers the RuntimeClient calls RuntimeJobV2 makes, as IBM's API does."""

    def __init__(self, result_json: str) -> None:
        self.state: dict = {"status": "Queued"}
        self.result_json = result_json
        self.cancelled: list[str] = []
        self.estimated_running_time_seconds = 4.0

    def job_get(self, job_id: str, exclude_params: bool = True) -> dict:
        return {
            "id": job_id,
            "state": dict(self.state),
            "estimated_running_time_seconds": self.estimated_running_time_seconds,
        }

    def job_results(self, job_id: str) -> str:
        return self.result_json

    def job_cancel(self, job_id: str) -> None:
        self.cancelled.append(job_id)
        self.state = {"status": "Cancelled"}


class StandInBackend:
    name = "ibm_standin"
    _instance = None


@pytest.fixture
def runtime_job_v2():
    pytest.importorskip(
        "qiskit_ibm_runtime", reason="qiskit-ibm-runtime is not installed (test extra)"
    )
    from qiskit.primitives import StatevectorSampler
    from qiskit_ibm_runtime.json import RuntimeEncoder
    from qiskit_ibm_runtime.runtime_job_v2 import RuntimeJobV2

    reference = StatevectorSampler(seed=1).run([_bell_qiskit()], shots=64).result()
    client = StandInRuntimeClient(json.dumps(reference, cls=RuntimeEncoder))

    def make(job_id: str = "d1runtime") -> RuntimeJobV2:
        return RuntimeJobV2(
            backend=StandInBackend(),
            api_client=client,
            job_id=job_id,
            program_id="sampler",
            service=None,
        )

    make.client = client
    make.reference_counts = reference[0].join_data().get_counts()
    return make


def test_a_runtime_job_v2_has_string_statuses_no_queue_position_and_a_usage_estimate(
    fast_monitor, runtime_job_v2
):
    client = runtime_job_v2.client
    job = fast_monitor.track(runtime_job_v2(), poll_interval=0.05)
    assert wait_until(lambda: job.status is S.QUEUED)
    snap = job.snapshot()
    assert snap["provider"]["status"] == "QUEUED"
    assert snap["queue_position"] is None
    assert snap["provider"]["queue_position"] == "n/a"
    assert snap["capabilities"]["queue_position"] is False
    assert snap["provider"]["eta_range_s"] == [3.2, 5.0]  # usage_estimation: 4 quantum seconds
    assert snap["provider"]["cost"] == {"amount": 4.0, "unit": "quantum_seconds"}
    client.state = {"status": "Running"}
    assert wait_until(lambda: job.status is S.RUNNING)
    client.state = {"status": "Completed"}
    result = job.result(TIMEOUT)
    assert result.counts == runtime_job_v2.reference_counts
    assert job.snapshot()["provider"]["status"] == "DONE"


def test_a_failed_runtime_job_v2_shows_ibms_reason(fast_monitor, runtime_job_v2):
    runtime_job_v2.client.state = {
        "status": "Failed",
        "reason": "Error code 1517; transpilation failed",
    }
    job = fast_monitor.track(runtime_job_v2("d1failed"), poll_interval=0.05)
    with pytest.raises(JobFailed, match="transpilation failed"):
        job.result(TIMEOUT)
    assert job.snapshot()["provider"]["status"] == "ERROR"


def test_cancelling_a_tracked_runtime_job_v2_cancels_it_at_ibm(fast_monitor, runtime_job_v2):
    job = fast_monitor.track(runtime_job_v2("d1cancel"), poll_interval=0.05)
    assert wait_until(lambda: job.status is S.QUEUED)
    assert job.cancel()
    assert runtime_job_v2.client.cancelled == ["d1cancel"]
    assert job.status is S.CANCELLED


def test_an_unknown_runtime_status_is_a_readable_message(fast_monitor, runtime_job_v2):
    runtime_job_v2.client.state = {"status": "Wibble"}
    job = fast_monitor.track(runtime_job_v2("d1odd"), poll_interval=0.05)
    assert wait_until(lambda: "unknown status 'WIBBLE'" in (job.snapshot()["message"] or ""))
    runtime_job_v2.client.state = {"status": "Completed"}
    assert job.result(TIMEOUT).counts == runtime_job_v2.reference_counts


def test_a_braket_local_simulator_task_is_tracked_in_qmon_bit_order(fast_monitor):
    pytest.importorskip("braket", reason="amazon-braket-sdk is not installed (test extra 'braket')")
    from braket.circuits import Circuit
    from braket.devices import LocalSimulator

    task = LocalSimulator().run(Circuit().x(0).i(1), shots=50)  # qubit 0 is 1: Braket prints "10"
    job = fast_monitor.track(task, name="braket local")
    result = job.result(TIMEOUT)
    assert result.counts == {"01": 50}  # qmon order: clbit 0 rightmost
    snap = job.snapshot()
    assert snap["provider"]["status"] == "COMPLETED"
    assert snap["provider"]["queue_position"] == "n/a"
    assert snap["capabilities"]["cancel"] is False


def test_cancel_of_a_provider_that_cannot_cancel_is_a_clear_error(fast_monitor):
    pytest.importorskip("braket", reason="amazon-braket-sdk is not installed (test extra 'braket')")
    from braket.circuits import Circuit
    from braket.devices import LocalSimulator

    job = fast_monitor.track(LocalSimulator().run(Circuit().h(0), shots=5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(JobStateError, match=r"cannot cancel job \w+ on .+: not supported"):
            job.cancel()


def test_only_jobs_that_live_at_a_provider_have_a_locator(fast_monitor, runtime_job_v2):
    aer = pytest.importorskip("qiskit_aer", reason="qiskit-aer is not installed (test extra)")
    local = fast_monitor.track(aer.AerSimulator().run(_bell_qiskit(), shots=10))
    assert local.snapshot()["provider"]["locator"] is None  # it dies with its kernel
    remote = fast_monitor.track(runtime_job_v2("d1located"))
    locator = remote.snapshot()["provider"]["locator"]
    assert (locator["kind"], locator["job_id"]) == ("ibm-runtime", "d1located")
    assert set(locator) == {"kind", "job_id", "backend", "instance"}
    assert local.wait(TIMEOUT)


def test_track_refuses_what_it_cannot_follow_naming_the_type(fast_monitor):
    with pytest.raises(QmonError, match=r"cannot track a builtins.str.*Qiskit JobV1"):
        fast_monitor.track("not a job")


def test_qmon_track_is_the_public_entry_point():
    aer = pytest.importorskip("qiskit_aer", reason="qiskit-aer is not installed (test extra)")
    import qmon_jupyter as qmon

    job = qmon.track(aer.AerSimulator().run(_bell_qiskit(), shots=10), name="public api")
    assert sum(job.result(TIMEOUT).counts.values()) == 10
    assert job in qmon.get_manager().jobs()
    from qmon_jupyter.providers import provider_health

    assert "qiskit/aer_simulator" in {p["name"] for p in provider_health()}


class StandInAwsTask:
    """Answers as braket's AwsQuantumTask does for a task waiting in a long queue."""

    def __init__(self):
        from braket.aws.queue_information import QuantumTaskQueueInfo, QueueType

        self.info_type, self.queue_type = QuantumTaskQueueInfo, QueueType
        self.position: str | None = ">2000"
        self.current = "QUEUED"
        self.cancelled = False

    @property
    def id(self) -> str:
        return "arn:aws:braket:us-east-1:000000000000:quantum-task/standin"

    def state(self, use_cached_value: bool = False) -> str:
        return self.current

    def queue_position(self):
        if self.current != "QUEUED":
            message = f"Task is in {self.current} status. AmazonBraket does not show queue position"
            return self.info_type(
                queue_type=self.queue_type.NORMAL, queue_position=None, message=message
            )
        return self.info_type(queue_type=self.queue_type.NORMAL, queue_position=self.position)

    def metadata(self, use_cached_value: bool = False) -> dict:
        return {
            "deviceArn": "arn:aws:braket:us-east-1::device/qpu/standin/Garnet",
            "status": self.current,
        }

    def cancel(self) -> None:
        self.cancelled = True
        self.current = "CANCELLING"

    def result(self):
        raise AssertionError("a cancelled task has no result")

    def async_result(self):
        raise NotImplementedError


def test_a_braket_queue_position_capped_at_2000_is_shown_as_braket_gives_it(fast_monitor):
    pytest.importorskip("braket", reason="amazon-braket-sdk is not installed (test extra 'braket')")
    from braket.tasks import QuantumTask

    stand_in = type("AwsQuantumTaskStandIn", (StandInAwsTask, QuantumTask), {})()
    job = fast_monitor.track(stand_in, poll_interval=0.05)
    assert wait_until(lambda: job.queue_position == 2001)
    snap = job.snapshot()
    assert snap["provider"]["queue_position"] == ">2000"
    assert snap["provider"]["status"] == "QUEUED"
    assert snap["provider"]["device"] == "Garnet"
    stand_in.position = "17"
    assert wait_until(lambda: job.queue_position == 17)
    assert job.cancel()
    assert stand_in.cancelled
    assert job.status is S.CANCELLED
