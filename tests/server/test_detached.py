"""Provider jobs outlive their kernel: detached, refused with 409, then reattached elsewhere.

The kernels are real processes (``_kernel_process.py``: a JobManager with a
StoreWriter on this test's store) and the provider is the emulated QPU on
loopback, in this test process.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time

import pytest

from qmon_jupyter.circuits import to_circuit
from qmon_jupyter.core.actions import refusal
from qmon_jupyter.core.states import TERMINAL
from qmon_jupyter.engine import run
from qmon_jupyter.providers import EmulatedQPU
from qmon_jupyter.server.config import QmonConfig
from qmon_jupyter.server.service import QmonService

from ._kernel_process import BELL
from .conftest import fetch_error, kernel_command
from .test_kernels import start_kernel, stop, wait_status

SHOTS, SEED = 600, 11
LOCATOR = {"kind": "emulator", "url": "http://127.0.0.1:9", "job_id": "emu-1", "shots": 8}


def _provider(locator: dict | None) -> dict:
    return {"name": "emulator@x", "kind": "emulator", "job_id": "emu-1", "locator": locator}


@pytest.fixture
def service():
    svc = QmonService(QmonConfig(kernel_timeout=0.5))
    yield svc
    svc.stop()


@pytest.fixture
def qpu():
    """An emulated QPU whose queue is halted: a job stays queued until the test lets it run."""
    service = EmulatedQPU(rate_per_minute=600)
    service.start()
    service.set_rate(0)
    yield service
    service.stop()


# -- the store: detached, not failed ---------------------------------------------------


def test_a_dead_kernels_provider_jobs_detach_and_its_local_jobs_fail(store, kernel, service):
    remote = kernel.add(
        "remote000001",
        type="hardware",
        status="queued",
        queue_position=3,
        provider=_provider(LOCATOR),
    )
    aer = kernel.add("aerjob000001", type="simulation", provider=_provider(None))
    local = kernel.add("localjob0001")
    changed = store.mark_kernel_dead(kernel.kernel_id, "kernel died")
    assert sorted(s["id"] for s in changed) == sorted([remote["id"], aer["id"], local["id"]])
    snap = store.get_job(remote["id"])
    assert (snap["status"], snap["detached"], snap["queue_position"]) == ("queued", True, 3)
    assert snap["error"] is None
    assert snap["provider"]["locator"] == LOCATOR
    for job_id in (aer["id"], local["id"]):
        failed = store.get_job(job_id)
        assert (failed["status"], failed["error"]["message"]) == ("failed", "kernel died")
        assert "detached" not in failed
    # nobody follows it, and liveness does not fail it later
    assert store.kernels_with_active_jobs() == {}
    assert service._check_liveness_sync() == 0
    assert store.mark_kernel_dead(kernel.kernel_id, "kernel died") == []
    assert store.get_job(remote["id"])["status"] == "queued"
    assert [s["id"] for s in store.detached_jobs()] == [remote["id"]]


def test_a_detached_job_is_claimed_by_one_kernel_only(store, kernel):
    job = kernel.add("claimed00001", type="hardware", provider=_provider(LOCATOR))
    store.mark_kernel_dead(kernel.kernel_id)
    claimed = store.claim_detached(job["id"], "k-new")
    assert claimed is not None
    assert (claimed["kernel_id"], "detached" in claimed) == ("k-new", False)
    assert store.claim_detached(job["id"], "k-other") is None
    assert store.detached_jobs() == []
    assert store.kernels_with_active_jobs() == {"k-new": 1}


async def test_rest_cancel_of_a_detached_job_is_409_naming_why(jp_fetch, store, kernel):
    snap = kernel.add(type="hardware", backend="emulator:emu-8q", provider=_provider(LOCATOR))
    store.mark_kernel_dead(kernel.kernel_id)
    code, err = await fetch_error(
        jp_fetch, "api", "qmon", "jobs", snap["id"], "cancel", method="POST", body=b""
    )
    assert code == 409
    expected = refusal(
        "cancel",
        job_id=snap["id"],
        status="running",
        capabilities=snap["capabilities"],
        backend="emulator:emu-8q",
        detached=True,
    )
    assert err["message"] == expected
    assert "detached" in expected
    assert "qmon.reattach()" in expected
    assert store.audit_trail(job_id=snap["id"]) == []  # nothing was queued for a kernel


# -- real processes ----------------------------------------------------------------------


def _terminal_events(store, job_id: str) -> list[str]:
    ends = []
    for _, _, kind, jid, data in store.events_after(0, limit=10_000):
        snap = (json.loads(data) or {}).get("snapshot") or {}
        if jid == job_id and kind == "job.status" and snap.get("status") in TERMINAL:
            ends.append(snap["status"])
    return ends


@pytest.mark.slow
async def test_a_sigkilled_kernels_queued_emulator_job_completes_after_reattach(
    jp_fetch, store, kernel_cmd, qpu
):
    proc, started = await start_kernel(kernel_cmd, "emulator", qpu.url, str(SHOTS), str(SEED))
    job_id = started["job_id"]
    reattacher = None
    try:
        await wait_status(store, job_id, "queued")
        proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(proc.wait(), 10)
        # the server's liveness check finds the kernel dead: the job is detached, not failed
        deadline = time.monotonic() + 30
        snap = {}
        while time.monotonic() < deadline:
            snap = json.loads((await jp_fetch("api", "qmon", "jobs", job_id)).body)
            if snap.get("detached"):
                break
            await asyncio.sleep(0.1)
        assert snap.get("detached") is True, snap
        assert snap["status"] == "queued"
        assert snap["provider"]["locator"]["url"] == qpu.url
        assert "token" not in json.dumps(snap["provider"]["locator"]).lower()
        code, err = await fetch_error(
            jp_fetch, "api", "qmon", "jobs", job_id, "cancel", method="POST", body=b""
        )
        assert code == 409
        assert "detached" in err["message"]
        # a new process follows it again, under the same id, while it is still queued
        reattacher, info = await start_kernel(kernel_cmd, "reattach")
        assert info["jobs"] == [job_id]
        claimed = store.get_job(job_id)
        assert claimed["kernel_id"] == info["kernel_id"] != started["kernel_id"]
        assert "detached" not in claimed
        qpu.set_rate(600)  # let the device run it
        line = await asyncio.wait_for(reattacher.stdout.readline(), 60)
        counts = json.loads(line)["counts"][job_id]
        assert qpu.job(snap["provider"]["job_id"])["status"] == "COMPLETED"
        assert counts == run(to_circuit(BELL), SHOTS, SEED)  # what the device computed
        assert sum(counts.values()) == SHOTS
        await wait_status(store, job_id, "completed")
        final = store.get_job(job_id)
        assert final["result_summary"]["shots"] == SHOTS
        assert _terminal_events(store, job_id) == ["completed"]  # it ended exactly once
    finally:
        await stop(proc)
        if reattacher is not None:
            await stop(reattacher)


@pytest.mark.slow
def test_reattach_leaves_jobs_it_cannot_reach_detached_with_the_reason(store, kernel, tmp_path):
    gone = EmulatedQPU()
    url = gone.start()
    gone.stop()  # nothing listens there any more
    emulator = {"kind": "emulator", "url": url, "job_id": "emu-9", "shots": 8}
    ibm = {"kind": "ibm-runtime", "job_id": "d1ibm", "backend": "ibm_fez", "instance": None}
    arn = "arn:aws:braket:us-east-1:123456789012:quantum-task/0000"
    braket = {"kind": "braket", "job_id": arn, "arn": arn, "device": "Aria-1"}
    ids = []
    for n, locator in enumerate((emulator, ibm, braket)):
        ids.append(
            kernel.add(f"unreach{n:05d}", type="hardware", provider=_provider(locator))["id"]
        )
    store.mark_kernel_dead(kernel.kernel_id)
    # no saved IBM account, no AWS credentials, no cloud metadata endpoint: loopback only
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "QISKIT_IBM_"))}
    env.update(
        HOME=str(tmp_path),
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE=str(tmp_path / "none"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"),
        AWS_DEFAULT_REGION="us-east-1",
    )
    done = subprocess.run(
        [*kernel_command("reattach")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.splitlines()[0])["jobs"] == []
    assert "ReattachWarning" in done.stderr
    for job_id, locator in zip(ids, (emulator, ibm, braket), strict=True):
        snap = store.get_job(job_id)
        assert snap["detached"] is True
        assert snap["kernel_id"] == kernel.kernel_id
        assert snap["message"].startswith(f"job {job_id} stays detached: its {locator['kind']}")
        assert job_id in done.stderr
