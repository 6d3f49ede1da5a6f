"""A process that plays a kernel: a real JobManager mirrored into the store by a StoreWriter.

Run by the tests as ``python _kernel_process.py MODE ...`` with ``QMON_DB`` set.
It prints one JSON line ``{"job_id": ..., "kernel_id": ...}`` when its job is
in the store, then:

- ``busy SECONDS``: keeps its main thread busy in pure Python (like a kernel
  running a long cell) while a function job waits for a cancel;
- ``sleep SECONDS``: idles (the test SIGKILLs it);
- ``sim SHOTS SEED BATCH SECONDS``: runs a simulation (the test SIGKILLs it
  mid-job, or lets it finish and reads the counts);
- ``resume JOB_ID``: ``qmon.resume(job_id)`` and prints the final counts;
- ``simpause SHOTS SEED BATCH``: runs a simulation, pauses it a quarter of the
  way in and waits (the test SIGKILLs it);
- ``burst N``: runs N short jobs and prints their ids once all are stored;
- ``emulator URL SHOTS SEED``: submits a Bell pair to the emulated QPU at URL
  and idles (the test SIGKILLs it);
- ``reattach``: ``qmon.reattach()``, prints the jobs' ids once stored, then
  their final counts.
"""

from __future__ import annotations

import json
import sys
import time

from qmon_jupyter.jobs import JobManager
from qmon_jupyter.kernel import attach_store
from qmon_jupyter.store import Store

GHZ = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[12];
creg c[12];
h q[0];
cx q[0],q[1]; cx q[1],q[2]; cx q[2],q[3]; cx q[3],q[4]; cx q[4],q[5];
u3(0.3,0.2,0.1) q[6]; u3(1.1,0.4,0.2) q[7]; h q[8]; rx(0.7) q[9]; ry(0.4) q[10]; h q[11];
cx q[6],q[7]; cx q[8],q[9]; cx q[10],q[11];
measure q -> c;
"""
BELL = """OPENQASM 2.0;
include "qelib1.inc";
qreg q[2];
creg c[2];
h q[0];
cx q[0],q[1];
measure q -> c;
"""
#: a mid-circuit measurement forces per-shot trajectories: slow enough to kill mid-job
TRAJECTORY = GHZ.replace("h q[0];\n", "h q[0];\nmeasure q[0] -> c[0];\nh q[0];\n", 1)


def _waiting_job(reporter, token) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        token.check()  # raises once cancelled, blocks while paused
        reporter.update(1)
        time.sleep(0.02)
    return "timed out"


def _short_job(reporter, token) -> int:
    for _ in range(5):
        token.check()
        reporter.update(1)
    return 5


def _announce(manager, job, writer) -> None:
    manager.events.flush(5)
    writer.flush(10)
    print(json.dumps({"job_id": job.id, "kernel_id": writer.kernel_id}), flush=True)


def main(argv: list[str]) -> int:
    mode = argv[0]
    manager = JobManager(max_concurrent_jobs=2, checkpoint_interval=0.05)
    writer = attach_store(manager, Store(), heartbeat_interval=0.5)
    if mode == "busy":
        job = manager.submit_function(_waiting_job, name="waits for cancel", total=6000)
        _announce(manager, job, writer)
        deadline = time.monotonic() + float(argv[1])
        x = 0
        while time.monotonic() < deadline and not job.status.is_terminal:
            x += 1  # the main thread is busy; only the writer thread can act
        manager.events.flush(5)
        writer.flush(5)
        print(json.dumps({"status": str(job.status), "spins": x}), flush=True)
        return 0
    if mode == "sleep":
        job = manager.submit_function(_waiting_job, name="sleeper", total=6000)
        _announce(manager, job, writer)
        time.sleep(float(argv[1]))
        return 0
    if mode == "sim":
        shots, seed, batch, wait = int(argv[1]), int(argv[2]), int(argv[3]), float(argv[4])
        job = manager.submit(TRAJECTORY, shots=shots, seed=seed, batch_size=batch, name="ghz")
        _announce(manager, job, writer)
        job.wait(wait)
        writer.flush(5)
        if job.status.is_terminal:
            print(json.dumps({"counts": job.result().counts}), flush=True)
        return 0
    if mode == "simpause":
        # the engine is fast: pause a quarter of the way in so the kill lands mid-job
        shots, seed, batch = int(argv[1]), int(argv[2]), int(argv[3])
        job = manager.submit(TRAJECTORY, shots=shots, seed=seed, batch_size=batch, name="ghz")
        deadline = time.monotonic() + 60
        while job.progress < 0.25 and time.monotonic() < deadline and not job.status.is_terminal:
            time.sleep(0.0005)
        if job.status.is_terminal:
            print(f"the job ended before it could be paused: {job.status}", file=sys.stderr)
            return 3
        job.pause()
        _announce(manager, job, writer)
        time.sleep(120)
        return 0
    if mode == "burst":
        jobs = [
            manager.submit_function(_short_job, name=f"burst-{i}", total=5)
            for i in range(int(argv[1]))
        ]
        for job in jobs:
            job.wait(60)
        manager.events.flush(10)
        writer.flush(10)
        print(json.dumps({"jobs": [j.id for j in jobs], "degraded": writer.degraded}), flush=True)
        return 0
    if mode == "emulator":
        from qmon_jupyter.providers import EmulatorProvider, StatusMonitor

        provider = EmulatorProvider(argv[1], poll_interval=0.05, monitor=StatusMonitor(manager))
        job = provider.submit(BELL, shots=int(argv[2]), seed=int(argv[3]), name="bell on emu")
        deadline = time.monotonic() + 30
        while job.status.value != "queued" and time.monotonic() < deadline:
            time.sleep(0.01)  # stored once the monitor saw it queued at the provider
        _announce(manager, job, writer)
        time.sleep(120)
        return 0
    if mode == "reattach":
        from qmon_jupyter.providers import StatusMonitor, reattach

        jobs = reattach(monitor=StatusMonitor(manager), store=writer.store)
        manager.events.flush(5)
        writer.flush(10)
        print(json.dumps({"jobs": [j.id for j in jobs], "kernel_id": writer.kernel_id}), flush=True)
        counts = {j.id: j.result(timeout=60).counts for j in jobs}
        manager.events.flush(5)
        writer.flush(10)
        print(json.dumps({"counts": counts}), flush=True)
        return 0
    if mode == "resume":
        from qmon_jupyter.kernel import resume

        job = resume(argv[1], manager=manager, store=writer.store)
        _announce(manager, job, writer)
        counts = job.result(timeout=120).counts
        writer.flush(5)
        print(json.dumps({"counts": counts, "resumed_from": job.snapshot().get("resumed_from")}))
        return 0
    print(f"unknown mode {mode!r}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
