"""Executors the manager creates: made outside its lock, closed by its shutdown."""

from __future__ import annotations

import threading

import pytest

from qmon_jupyter.executors import LocalExecutor
from qmon_jupyter.jobs import JobManager
from qmon_jupyter.jobs import _executors as registry_module

from .._support import wait_until
from .conftest import TIMEOUT, ghz


class FakeExecutor(LocalExecutor):
    """A local executor under another name that records ``close()``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.closed = 0

    def close(self) -> None:
        self.closed += 1


class Factory:
    """Stands in for ``create_executor``; ``gate`` (if set) holds every creation."""

    def __init__(self, gate: threading.Event | None = None) -> None:
        self.gate = gate
        self.made: list[FakeExecutor] = []
        self.lock = threading.Lock()
        self.entered = threading.Semaphore(0)

    def __call__(self, backend: str) -> FakeExecutor:
        self.entered.release()
        if self.gate is not None:
            assert self.gate.wait(TIMEOUT), "the test never opened the gate"
        executor = FakeExecutor(backend)
        with self.lock:
            self.made.append(executor)
        return executor


@pytest.fixture
def factory(monkeypatch):
    made = Factory()
    monkeypatch.setattr(registry_module, "create_executor", made)
    return made


def test_shutdown_closes_the_executors_it_created_not_the_callers(factory):
    given, registered = FakeExecutor("given"), FakeExecutor("registered")
    m = JobManager(executor=given)
    m.register_executor(registered)
    for backend in ("given", "registered", "made"):
        m.submit(ghz(3), shots=100, seed=1, backend=backend).result(TIMEOUT)
    [made] = factory.made
    assert {e.name for e in m.executors()} == {"local", "given", "registered", "made"}
    m.shutdown(wait=True)
    assert made.closed == 1
    assert given.closed == registered.closed == 0


def test_shutdown_without_wait_closes_them_when_the_last_job_ends(factory):
    m = JobManager()
    gate = threading.Event()

    def blocked(reporter, token):
        gate.wait(TIMEOUT)

    m.submit(ghz(3), shots=100, seed=1, backend="made").result(TIMEOUT)
    job = m.submit_function(blocked)
    m.shutdown(wait=False)
    [made] = factory.made
    assert made.closed == 0  # a job is still running
    gate.set()
    job.result(TIMEOUT)
    assert wait_until(lambda: made.closed == 1)
    m.shutdown(wait=True)
    assert made.closed == 1  # closed once


def test_shutdown_without_wait_and_nothing_running_closes_them_at_once(factory):
    m = JobManager()
    m.submit(ghz(3), shots=100, seed=1, backend="made").result(TIMEOUT)
    m.shutdown(wait=False)
    [made] = factory.made
    assert made.closed == 1
    m.shutdown(wait=True)


def test_a_slow_executor_creation_does_not_block_other_submits(monkeypatch):
    gate = threading.Event()
    factory = Factory(gate)
    monkeypatch.setattr(registry_module, "create_executor", factory)
    m = JobManager()
    outcome: list[object] = []
    slow = threading.Thread(
        target=lambda: outcome.append(m.submit(ghz(3), shots=100, seed=1, backend="slow")),
        daemon=True,
    )
    try:
        slow.start()
        assert factory.entered.acquire(timeout=TIMEOUT)  # creating, held at the gate
        # meanwhile: a local job runs, executors are listed and registered
        assert m.submit(ghz(3), shots=100, seed=2).result(TIMEOUT).shots == 100
        assert "slow" not in {e.name for e in m.executors()}
        m.register_executor(FakeExecutor("other"))
        assert slow.is_alive()
    finally:
        gate.set()
        slow.join(TIMEOUT)
    [job] = outcome
    assert job.result(TIMEOUT).shots == 100
    m.shutdown(wait=True)
    assert factory.made[0].closed == 1


def test_two_submits_racing_to_create_one_backend_share_one_executor(monkeypatch):
    gate = threading.Event()
    factory = Factory(gate)
    monkeypatch.setattr(registry_module, "create_executor", factory)
    m = JobManager()
    jobs: list[object] = []
    threads = [
        threading.Thread(
            target=lambda seed=seed: jobs.append(
                m.submit(ghz(3), shots=100, seed=seed, backend="raced")
            ),
            daemon=True,
        )
        for seed in (1, 2)
    ]
    for thread in threads:
        thread.start()
    for _ in threads:  # both are creating before either installs
        assert factory.entered.acquire(timeout=TIMEOUT)
    gate.set()
    for thread in threads:
        thread.join(TIMEOUT)
    assert len(jobs) == 2
    for job in jobs:
        assert job.result(TIMEOUT).shots == 100
    winner, loser = sorted(factory.made, key=lambda e: e.closed)
    assert (winner.closed, loser.closed) == (0, 1)  # the loser of the race is closed at once
    assert [e for e in m.executors() if e.name == "raced"] == [winner]
    m.shutdown(wait=True)
    assert winner.closed == 1


def test_an_executor_created_while_shutting_down_is_closed(monkeypatch):
    gate = threading.Event()
    factory = Factory(gate)
    monkeypatch.setattr(registry_module, "create_executor", factory)
    m = JobManager()
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            m.submit(ghz(3), shots=100, seed=1, backend="late")
        except RuntimeError as exc:
            errors.append(exc)

    thread = threading.Thread(target=submit, daemon=True)
    thread.start()
    assert factory.entered.acquire(timeout=TIMEOUT)
    m.shutdown(wait=True)
    gate.set()
    thread.join(TIMEOUT)
    assert "shut down" in str(errors[0])
    [late] = factory.made
    assert late.closed == 1
    assert m.jobs() == []
