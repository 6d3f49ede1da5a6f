"""Commands reach a real kernel-side StoreWriter; a SIGKILLed kernel's jobs fail.

The "kernel" is a separate process with a real JobManager and StoreWriter on
the same store (``QMON_DB``), as an ipykernel would have.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time

import pytest

pytestmark = pytest.mark.slow


async def start_kernel(kernel_cmd, *args):
    proc = await asyncio.create_subprocess_exec(
        *kernel_cmd(*args),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=os.environ.copy(),
    )
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 60)
    except asyncio.TimeoutError:
        proc.kill()
        raise
    if not line:
        err = await proc.stderr.read()
        raise AssertionError(f"kernel process failed: {err.decode()[-2000:]}")
    return proc, json.loads(line)


async def stop(proc) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.kill()
    await asyncio.wait_for(proc.wait(), 10)


async def wait_status(store, job_id, wanted, timeout=30.0) -> float:
    """Poll the store until the job has ``wanted`` status; seconds it took."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        snap = store.get_job(job_id)
        if snap is not None and snap["status"] == wanted:
            return time.monotonic() - start
        await asyncio.sleep(0.02)
    snap = store.get_job(job_id)
    raise AssertionError(f"job {job_id} is {snap and snap['status']}, not {wanted}")


async def test_commands_reach_a_kernel_whose_main_thread_is_busy(jp_fetch, store, kernel_cmd):
    proc, info = await start_kernel(kernel_cmd, "busy", "60")
    job_id = info["job_id"]
    try:
        await wait_status(store, job_id, "running")
        response = await jp_fetch("api", "qmon", "jobs", job_id, "pause", method="POST", body=b"")
        assert response.code == 202
        await wait_status(store, job_id, "paused")
        await jp_fetch("api", "qmon", "jobs", job_id, "resume", method="POST", body=b"")
        await wait_status(store, job_id, "running")
        await jp_fetch("api", "qmon", "jobs", job_id, "cancel", method="POST", body=b"")
        took = await wait_status(store, job_id, "cancelled")
        # the busy main thread noticed only because the writer thread cancelled the job
        out = json.loads(await asyncio.wait_for(proc.stdout.readline(), 30))
        assert out["status"] == "cancelled"
        assert out["spins"] > 0
        print(f"REST cancel -> cancelled in the store: {took * 1000:.0f} ms")
        actions = [row["action"] for row in store.audit_trail(job_id=job_id)]
        assert actions == ["cancel", "resume", "pause"]
        commands = store._conn().execute("SELECT state FROM commands").fetchall()
        assert {s for (s,) in commands} == {"done"}
    finally:
        await stop(proc)


async def test_sigkilled_kernel_jobs_show_failed_kernel_died(jp_fetch, store, kernel_cmd):
    proc, started = await start_kernel(kernel_cmd, "sleep", "120")
    job_id = started["job_id"]
    try:
        await wait_status(store, job_id, "running")
        proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(proc.wait(), 10)
        start = time.monotonic()
        while time.monotonic() - start < 30:  # DESIGN: within 10 s; a loaded machine gets slack
            snap = json.loads((await jp_fetch("api", "qmon", "jobs", job_id)).body)
            if snap["status"] == "failed":
                break
            await asyncio.sleep(0.1)
        took = time.monotonic() - start
        kernels = json.loads((await jp_fetch("api", "qmon", "status")).body)["kernels"]
        assert snap["status"] == "failed", (snap, kernels)
        assert snap["error"] == {"type": "KernelDied", "message": "kernel died"}, (snap, kernels)
        print(f"SIGKILL -> failed (kernel died) after {took:.1f} s")
        # a command for it now is refused with the reason
        from tornado.httpclient import HTTPClientError

        with pytest.raises(HTTPClientError) as info:
            await jp_fetch("api", "qmon", "jobs", job_id, "cancel", method="POST", body=b"")
        assert info.value.code == 409
        status = json.loads((await jp_fetch("api", "qmon", "status")).body)
        [k] = [k for k in status["kernels"] if k["kernel_id"] == started["kernel_id"]]
        assert k["alive"] is False
    finally:
        await stop(proc)


async def _run_cell(client, code: str, timeout: float = 60.0) -> str:
    """Execute ``code`` in the kernel; its stdout once the cell finishes."""
    msg_id = client.execute(code)
    out = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = await client.get_iopub_msg(timeout=max(0.1, deadline - time.monotonic()))
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            out.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            raise AssertionError("\n".join(msg["content"]["traceback"]))
        elif msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return "".join(out)
    raise AssertionError(f"cell did not finish: {code[:60]!r}")


WAITING_JOB = """
import time, qmon_jupyter as qmon
def waits(reporter, token):
    while True:
        token.check()
        reporter.update(1)
        time.sleep(0.02)
job = qmon.get_manager().submit_function(waits, name="in a real kernel")
print(job.id, job.snapshot()["kernel_id"])
"""

BUSY_CELL = """
t0 = time.monotonic()
while time.monotonic() - t0 < 60 and not job.status.is_terminal:
    pass  # the kernel's main thread is busy in this cell
print(job.status)
"""


async def test_cancel_from_rest_reaches_a_real_busy_ipykernel(jp_fetch, jp_serverapp, store):
    reply = json.loads((await jp_fetch("api", "kernels", method="POST", body=b"{}")).body)
    kernel_id = reply["id"]
    km = jp_serverapp.kernel_manager.get_kernel(kernel_id)
    client = km.client()
    client.start_channels()
    try:
        await client.wait_for_ready(timeout=60)
        job_id, seen_kernel = (await _run_cell(client, WAITING_JOB)).split()
        assert seen_kernel == kernel_id  # the kernel id comes from the connection file
        await wait_status(store, job_id, "running")
        busy = asyncio.ensure_future(_run_cell(client, BUSY_CELL, timeout=90))
        await asyncio.sleep(0.5)  # the busy cell is running now
        assert not busy.done()
        response = await jp_fetch("api", "qmon", "jobs", job_id, "cancel", method="POST", body=b"")
        assert response.code == 202
        took = await wait_status(store, job_id, "cancelled")
        assert (await asyncio.wait_for(busy, 30)).strip() == "cancelled"
        print(f"REST cancel -> cancelled in a busy ipykernel: {took * 1000:.0f} ms")
    finally:
        client.stop_channels()
        await jp_serverapp.kernel_manager.shutdown_kernel(kernel_id, now=True)
