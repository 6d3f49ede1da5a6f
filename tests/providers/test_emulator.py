"""The emulated QPU as a service, through its HTTP client (no monitor)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from qmon_jupyter.engine import run
from qmon_jupyter.providers import (
    EmulatedQPU,
    EmulatorProvider,
    ProviderAuthError,
    ProviderJobNotFound,
    ProviderRejectedError,
    ProviderResponseError,
    ProviderUnavailable,
)

from .._support import wait_until
from .conftest import TIMEOUT, bell


@pytest.fixture
def client(qpu: EmulatedQPU) -> EmulatorProvider:
    return EmulatorProvider(qpu.url, timeout=2.0)


def test_the_service_listens_on_loopback_and_lists_named_devices(qpu, client):
    assert qpu.url.startswith("http://127.0.0.1:")
    devices = {d["name"]: d for d in client.devices()}
    assert set(devices) == {"emu-8q", "emu-16q"}
    assert devices["emu-8q"]["num_qubits"] == 8
    assert devices["emu-8q"]["rate_per_minute"] == 600


def test_queue_positions_fall_then_the_job_runs_then_completes(qpu, client):
    qpu.set_rate(0)  # hold the queue while submitting
    ids = [client.create_job(bell(), shots=10, device="emu-8q")["id"] for _ in range(3)]
    assert [client.queue_position(i) for i in ids] == [(1, "1"), (2, "2"), (3, "3")]
    qpu.set_rate(300)
    seen = []

    def observe() -> bool:
        view = client.job(ids[2])  # one answer: status and position agree
        seen.append((view["status"], view["queue_position"] and int(view["queue_position"])))
        return view["status"] == "COMPLETED"

    assert wait_until(observe)
    positions = [p for status, p in seen if status == "QUEUED"]
    assert positions == sorted(positions, reverse=True)
    statuses = [status for status, _ in seen]
    assert statuses.index("RUNNING") > statuses.index("QUEUED")
    assert all(p is None for status, p in seen if status != "QUEUED")


def test_results_are_computed_by_the_engine(client):
    job = client.create_job(bell(), shots=200, seed=11, device="emu-16q")
    assert wait_until(lambda: client.status(job["id"]) == "COMPLETED")
    result = client.result(job["id"])
    assert result["counts"] == run(bell(), 200, 11)
    assert result["shots"] == 200


def test_positions_beyond_the_cap_are_reported_as_braket_does():
    with EmulatedQPU(rate_per_minute=0, queue_position_cap=2) as qpu:
        client = EmulatorProvider(qpu.url)
        ids = [client.create_job(bell(), shots=1)["id"] for _ in range(4)]
        assert client.job(ids[3])["queue_position"] == ">2"
        assert client.queue_position(ids[3]) == (3, ">2")


def test_cancel_of_a_queued_job_removes_it_from_the_queue(qpu, client):
    qpu.set_rate(0)
    first, second = (client.create_job(bell(), shots=1)["id"] for _ in range(2))
    assert client.cancel(first)["status"] == "CANCELLED"
    assert qpu.job(first)["status"] == "CANCELLED"
    assert client.queue_position(second) == (1, "1")
    with pytest.raises(ProviderRejectedError, match="already ended"):
        client.cancel(first)


def test_a_running_job_is_cancelling_then_cancelled():
    with EmulatedQPU(rate_per_minute=6) as qpu:  # 10 s a job: it is still running when cancelled
        client = EmulatorProvider(qpu.url)
        job_id = client.create_job(bell(), shots=1)["id"]
        assert wait_until(lambda: client.status(job_id) == "RUNNING")
        assert client.cancel(job_id)["status"] == "CANCELLING"
        assert wait_until(lambda: qpu.job(job_id)["status"] == "CANCELLED")


def test_jobs_injected_to_fail_fail_on_the_device_with_a_reason(qpu, client):
    qpu.fail_jobs(1, reason="calibration drift")
    job_id = client.create_job(bell(), shots=1)["id"]
    assert wait_until(lambda: client.status(job_id) == "FAILED")
    assert client.job(job_id)["failure_reason"] == "calibration drift"
    with pytest.raises(ProviderRejectedError, match="calibration drift"):
        client.result(job_id)


def test_a_burst_of_5xx_answers_then_normal_service(qpu, client):
    qpu.fail_requests(2, status=502)
    for _ in range(2):
        with pytest.raises(ProviderUnavailable, match="HTTP 502"):
            client.devices()
    assert client.devices()


def test_dropped_connections_and_timeouts_are_unavailability(qpu):
    client = EmulatorProvider(qpu.url, timeout=0.3)
    qpu.drop_connections(1)
    with pytest.raises(ProviderUnavailable, match=r"dropped the connection|cannot reach"):
        client.devices()
    qpu.hang_requests(1, seconds=5)
    with pytest.raises(ProviderUnavailable, match=r"no answer .* within 0.3 s"):
        client.devices()
    assert client.devices()


def test_slow_answers_arrive_late_but_arrive(qpu, client):
    qpu.slow_down(0.2, n=1)
    started = time.monotonic()
    assert client.devices()
    assert time.monotonic() - started >= 0.2


@pytest.mark.parametrize("refuse", [True, False])
def test_an_outage_makes_the_service_unreachable_then_it_comes_back(qpu, client, refuse):
    qpu.outage(0.5, refuse=refuse)
    with pytest.raises(ProviderUnavailable):
        client.devices()
    assert wait_until(lambda: _answers(client))


def _answers(client: EmulatorProvider) -> bool:
    try:
        client.devices()
    except ProviderUnavailable:
        return False
    return True


@pytest.mark.parametrize(
    ("kind", "match"),
    [
        ("invalid_json", "invalid JSON"),
        ("unknown_status", "unknown status 'WIBBLING'"),
        ("negative_queue_position", "negative queue position"),
    ],
)
def test_nonsense_answers_become_readable_errors(qpu, client, kind, match):
    from qmon_jupyter.providers import EmulatorJob

    qpu.set_rate(0)
    job_id = client.create_job(bell(), shots=1)["id"]
    handle = EmulatorJob(client, job_id, device="emu-8q", shots=1)
    qpu.answer_nonsense(1, kind)
    with pytest.raises(ProviderResponseError, match=match):
        handle.poll()
    assert handle.poll().raw_status == "QUEUED"


def test_refused_credentials_and_unknown_ids_are_readable(qpu, client):
    with pytest.raises(ProviderJobNotFound, match="unknown job id 'nope'"):
        client.job("nope")
    qpu.set_token("s3cret")
    with pytest.raises(ProviderAuthError, match=r"refused the credentials \(HTTP 401\)"):
        client.devices()
    assert EmulatorProvider(qpu.url, token="s3cret").devices()


def test_a_forgotten_job_is_unknown_and_its_device_serves_the_next(qpu, client):
    qpu.set_rate(0)
    running, waiting = (client.create_job(bell(), shots=1)["id"] for _ in range(2))
    qpu.set_rate(60)  # one job a second: the first runs, the second waits
    assert wait_until(lambda: client.job(running)["status"] == "RUNNING")
    qpu.forget_job(running)
    with pytest.raises(ProviderJobNotFound, match=f"unknown job id '{running}'"):
        client.job(running)
    with pytest.raises(KeyError, match=running):
        qpu.forget_job(running)
    assert wait_until(lambda: client.job(waiting)["status"] == "COMPLETED")


def test_bad_submissions_are_refused_with_the_reason(client):
    wide = bell()
    from qmon_jupyter.circuits.ir import Circuit

    wide = Circuit(9, 0, (), name="wide")
    with pytest.raises(
        ProviderRejectedError, match="circuit needs 9 qubits; device 'emu-8q' has 8"
    ):
        client.create_job(wide, device="emu-8q")
    with pytest.raises(ProviderJobNotFound, match="unknown device 'nowhere'"):
        client.create_job(bell(), device="nowhere")
    with pytest.raises(ProviderRejectedError, match="shots must be an integer"):
        client.create_job(bell(), shots=0)


X_THEN_MEASURE = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[1];
creg c[1];
x q[0];
measure q -> c;
"""


def test_openqasm_text_is_accepted_as_a_cloud_provider_would(client):
    answer = client.request(
        "POST",
        "/v1/jobs",
        {"qasm": X_THEN_MEASURE, "shots": 5},
    )
    assert wait_until(lambda: client.status(answer["id"]) == "COMPLETED")
    assert client.result(answer["id"])["counts"] == {"1": 5}
    with pytest.raises(ProviderRejectedError, match="qasm"):
        client.request("POST", "/v1/jobs", {"qasm": "OPENQASM 2.0; qreg q[1]; bogus q[0];"})


def test_the_command_line_runs_the_service_until_terminated():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qmon_jupyter",
            "emulator",
            "--port",
            "0",
            "--rate",
            "120",
            "--devices",
            "a:3",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    try:
        line = process.stdout.readline()
        assert line.startswith("emulated QPU at http://127.0.0.1:"), line + process.stderr.read()
        url = line.split(" at ", 1)[1].strip()
        devices = EmulatorProvider(url).devices()
        assert [(d["name"], d["num_qubits"], d["rate_per_minute"]) for d in devices] == [
            ("a", 3, 120)
        ]
        process.send_signal(signal.SIGTERM)
        assert process.wait(TIMEOUT) == 0, process.stderr.read()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(TIMEOUT)
        process.stdout.close()
        process.stderr.close()


def test_the_command_line_reports_a_busy_port_with_exit_code_2(qpu):
    process = subprocess.run(
        [sys.executable, "-m", "qmon_jupyter", "emulator", "--port", str(qpu.port)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert process.returncode == 2
    assert "could not start" in process.stderr


def test_a_stopped_service_cannot_be_restarted_by_mistake(qpu):
    qpu.stop()
    with pytest.raises(RuntimeError, match="cannot be restarted"):
        qpu.start()


def test_the_command_line_refuses_bad_devices_with_exit_code_2():
    process = subprocess.run(
        [sys.executable, "-m", "qmon_jupyter", "emulator", "--devices", "a:x"],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert process.returncode == 2
    assert "bad device 'a:x'" in process.stderr
