"""Fixtures for the provider tests: an emulated QPU on 127.0.0.1, a manager, a monitor."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING

import pytest

from qmon_jupyter.circuits.ir import Circuit, Instruction
from qmon_jupyter.jobs import JobManager
from qmon_jupyter.providers import EmulatedQPU, EmulatorProvider, StatusMonitor
from qmon_jupyter.providers.autotrack import autotrack

from .._support import wait_until

if TYPE_CHECKING:
    from collections.abc import Iterator

    from qmon_jupyter.jobs import ExecutionJob

TIMEOUT = 20.0  # every wait in these tests is bounded by this


def bell(name: str = "bell") -> Circuit:
    """A 2-qubit Bell pair, measured."""
    ops = (
        Instruction("h", (0,)),
        Instruction("cx", (0, 1)),
        Instruction("measure", (0,), clbits=(0,)),
        Instruction("measure", (1,), clbits=(1,)),
    )
    return Circuit(2, 2, ops, name=name)


@pytest.fixture
def qpu() -> Iterator[EmulatedQPU]:
    """An emulated QPU serving 600 jobs a minute per device (0.1 s a job)."""
    service = EmulatedQPU(rate_per_minute=600)
    service.start()
    yield service
    service.stop()


@pytest.fixture
def manager() -> Iterator[JobManager]:
    with JobManager() as jobs:
        yield jobs


@pytest.fixture
def polled_by(qpu: EmulatedQPU, manager: JobManager) -> Iterator[object]:
    """``polled_by(lost_after)``: a fresh monitor (stopped at teardown) and a provider it polls."""
    monitors: list[StatusMonitor] = []

    def make(lost_after: int) -> tuple[StatusMonitor, EmulatorProvider]:
        status_monitor = StatusMonitor(
            manager, max_backoff_s=0.1, lost_after=lost_after, rng=random.Random(lost_after)
        )
        monitors.append(status_monitor)
        return status_monitor, EmulatorProvider(qpu.url, poll_interval=0.05, monitor=status_monitor)

    yield make
    for status_monitor in monitors:
        status_monitor.stop()


@pytest.fixture
def monitor(manager: JobManager) -> Iterator[StatusMonitor]:
    """A monitor quick to back off and to call a provider unreachable."""
    status_monitor = StatusMonitor(
        manager,
        unreachable_after=3,
        max_backoff_s=0.3,
        max_requests_per_s=200,
        rng=random.Random(7),
    )
    yield status_monitor
    status_monitor.stop()
    assert not status_monitor.running


@pytest.fixture
def provider(qpu: EmulatedQPU, monitor: StatusMonitor) -> EmulatorProvider:
    return EmulatorProvider(qpu.url, poll_interval=0.05, timeout=2.0, monitor=monitor)


@pytest.fixture
def tracking(monitor: StatusMonitor) -> Iterator[StatusMonitor]:
    """Autotrack on, into the test's own monitor; off again after the test."""
    autotrack(enabled=True, monitor=monitor)
    yield monitor
    autotrack(enabled=False)


def only_job(manager: JobManager, timeout: float = 30.0) -> ExecutionJob:
    """The one job ``manager`` has (autotrack made it), once it has ended."""
    assert wait_until(manager.jobs, timeout)
    jobs = manager.jobs()
    assert len(jobs) == 1, [j.name for j in jobs]
    assert jobs[0].wait(timeout)
    return jobs[0]
