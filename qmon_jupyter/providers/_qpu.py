"""The emulated QPU's devices and their queues (no HTTP here).

Each device serves its queue one job at a time, ``60 / rate_per_minute``
seconds per job, so its throughput is exactly the configured rate. Start and
end times are computed from the previous job's end, not from when the clock
was last looked at, so the rate holds however irregularly :meth:`advance`
is called. Results are computed by qmon's engine on a worker thread while
the job is "running".

Not thread-safe on its own: :class:`~qmon_jupyter.providers.emulator.EmulatedQPU`
holds its lock around every call.
"""

from __future__ import annotations

import itertools
import random
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable
    from concurrent.futures import Executor, Future

    from qmon_jupyter.circuits.ir import Circuit

QUEUED, RUNNING, CANCELLING = "QUEUED", "RUNNING", "CANCELLING"
COMPLETED, FAILED, CANCELLED = "COMPLETED", "FAILED", "CANCELLED"
TERMINAL = frozenset({COMPLETED, FAILED, CANCELLED})

#: How long a running job stays CANCELLING before the device confirms.
CANCEL_DELAY_S = 0.2


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, tz=timezone.utc).isoformat().replace("+00:00", "Z")


@dataclass
class EmulatedJob:
    """One job as the device sees it."""

    id: str
    device: str
    circuit: Circuit
    shots: int
    seed: int
    name: str
    status: str = QUEUED
    submitted: float = 0.0  # monotonic
    submitted_wall: float = 0.0
    started: float | None = None
    ends: float | None = None
    finished_wall: float | None = None
    started_wall: float | None = None
    fail_reason: str | None = None
    cancel_at: float | None = None
    counts: dict[str, int] | None = None
    future: Future | None = field(default=None, repr=False)

    def view(self, position: str | None, wait_s: float | None) -> dict[str, Any]:
        """Return the job as the API shows it."""
        return {
            "id": self.id,
            "name": self.name,
            "device": self.device,
            "status": self.status,
            "queue_position": position,
            "estimated_wait_s": wait_s,
            "shots": self.shots,
            "num_qubits": self.circuit.num_qubits,
            "created_at": _iso(self.submitted_wall),
            "started_at": _iso(self.started_wall),
            "ended_at": _iso(self.finished_wall),
            "failure_reason": self.fail_reason,
        }


@dataclass
class Device:
    """A named device with its own queue and service rate."""

    name: str
    num_qubits: int
    rate_per_minute: float
    price_per_shot: float = 0.00035
    queue: deque[EmulatedJob] = field(default_factory=deque)
    running: EmulatedJob | None = None
    free_at: float = 0.0  # monotonic time the device finished its last job
    completed: int = 0
    fail_next: int = 0
    fail_reason: str = "device error"

    @property
    def service_s(self) -> float:
        """Seconds per job at the current rate (``inf`` when halted)."""
        return 60.0 / self.rate_per_minute if self.rate_per_minute > 0 else float("inf")

    def view(self) -> dict[str, Any]:
        """Return the device as the API shows it."""
        return {
            "name": self.name,
            "num_qubits": self.num_qubits,
            "rate_per_minute": self.rate_per_minute,
            "queue_depth": len(self.queue),
            "running": self.running.id if self.running else None,
            "completed": self.completed,
            "price_per_shot": self.price_per_shot,
            "status": "ONLINE" if self.rate_per_minute > 0 else "PAUSED",
        }


class QPUState:
    """All devices and jobs of one emulated QPU."""

    def __init__(
        self,
        devices: dict[str, Device],
        runner: Callable[[Circuit, int, int], dict[str, int]],
        executor: Executor,
        *,
        queue_position_cap: int = 2000,
    ) -> None:
        self.devices = devices
        self.jobs: dict[str, EmulatedJob] = {}
        self._runner = runner
        self._executor = executor
        self.queue_position_cap = queue_position_cap
        self._seeds = itertools.count(random.SystemRandom().randrange(1 << 30))

    # -- requests ---------------------------------------------------------
    def submit(
        self, device: str, circuit: Circuit, shots: int, seed: int | None, name: str
    ) -> EmulatedJob:
        """Queue a job on ``device`` (validated by the caller)."""
        now = time.monotonic()
        job = EmulatedJob(
            id=secrets.token_hex(8),
            device=device,
            circuit=circuit,
            shots=shots,
            seed=next(self._seeds) if seed is None else seed,
            name=name,
            submitted=now,
            submitted_wall=time.time(),
        )
        self.jobs[job.id] = job
        self.devices[device].queue.append(job)
        self.advance(now)
        return job

    def cancel(self, job: EmulatedJob) -> None:
        """Cancel a queued job at once; a running one after :data:`CANCEL_DELAY_S`."""
        now = time.monotonic()
        device = self.devices[job.device]
        if job.status == QUEUED:
            device.queue.remove(job)
            self._finish(job, CANCELLED, now)
        elif job.status == RUNNING:
            job.status = CANCELLING
            job.cancel_at = now + CANCEL_DELAY_S
        self.advance(now)

    def forget(self, job: EmulatedJob) -> None:
        """Delete ``job`` as a provider does after its retention time: its id becomes unknown."""
        self.advance()  # the job's state as of now (it may have started or ended)
        device = self.devices[job.device]
        if job.status == QUEUED:
            device.queue.remove(job)
        elif device.running is job:
            self._end_running(device, job, CANCELLED, time.monotonic())
        del self.jobs[job.id]
        self.advance()

    def position(self, job: EmulatedJob) -> tuple[str | None, float | None]:
        """Queue position as the provider reports it (a string, capped) and a wait estimate."""
        device = self.devices[job.device]
        now = time.monotonic()
        running_left = (
            max(0.0, device.running.ends - now) if device.running and device.running.ends else 0.0
        )
        if job.status == QUEUED:
            index = device.queue.index(job) + 1
            cap = self.queue_position_cap
            shown = f">{cap}" if index > cap else str(index)
            if device.rate_per_minute <= 0:
                return shown, None  # halted: no estimate
            return shown, running_left + index * device.service_s
        if job.status == RUNNING and job.ends is not None:
            return None, max(0.0, job.ends - now)
        return None, None

    # -- the clock --------------------------------------------------------
    def advance(self, now: float | None = None) -> None:
        """Bring every device up to ``now``: finish, start and fail jobs."""
        now = time.monotonic() if now is None else now
        for device in self.devices.values():
            self._advance_device(device, now)

    def _advance_device(self, device: Device, now: float) -> None:
        # Bounded: each pass ends a job or starts one; a queue is finite.
        for _ in range(2 * len(device.queue) + 4):
            job = device.running
            if job is not None:
                if job.status == CANCELLING and job.cancel_at is not None and now >= job.cancel_at:
                    self._end_running(device, job, CANCELLED, job.cancel_at)
                    continue
                if job.ends is not None and now >= job.ends and self._result_ready(job):
                    self._end_running(
                        device, job, FAILED if job.fail_reason else COMPLETED, job.ends
                    )
                    continue
                return
            if not device.queue or device.rate_per_minute <= 0:
                return
            nxt = device.queue[0]
            start = max(device.free_at, nxt.submitted)
            if start > now:
                return
            device.queue.popleft()
            self._start(device, nxt, start)

    def _start(self, device: Device, job: EmulatedJob, start: float) -> None:
        job.status = RUNNING
        job.started = start
        job.started_wall = time.time() - (time.monotonic() - start)
        job.ends = start + device.service_s
        device.running = job
        if device.fail_next > 0:
            device.fail_next -= 1
            job.fail_reason = device.fail_reason
        else:
            job.future = self._executor.submit(self._runner, job.circuit, job.shots, job.seed)

    def _result_ready(self, job: EmulatedJob) -> bool:
        if job.fail_reason or job.future is None:
            return True
        if not job.future.done():
            return False
        error = job.future.exception()
        if error is not None:
            job.fail_reason = f"{type(error).__name__}: {error}"
        else:
            job.counts = dict(job.future.result())
        return True

    def _end_running(self, device: Device, job: EmulatedJob, status: str, at: float) -> None:
        device.running = None
        device.free_at = at
        if status == COMPLETED:
            device.completed += 1
        if job.future is not None and not job.future.done():
            job.future.cancel()
        self._finish(job, status, at)

    @staticmethod
    def _finish(job: EmulatedJob, status: str, at: float) -> None:
        job.status = status
        job.finished_wall = time.time() - (time.monotonic() - at)
