"""Fixtures for the job layer: managers that always shut down, gated work, circuits."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import pytest

from qmon_jupyter.circuits.ir import Circuit, Instruction
from qmon_jupyter.jobs import JobManager

if TYPE_CHECKING:
    from collections.abc import Iterator

TIMEOUT = 10.0  # job waits in these tests are bounded by this (wait_until: 20 s by default)


def ghz(n: int = 4, name: str = "ghz") -> Circuit:
    """An n-qubit GHZ circuit measured into n clbits."""
    ops = [Instruction("h", (0,))]
    ops += [Instruction("cx", (i, i + 1)) for i in range(n - 1)]
    ops += [Instruction("measure", (i,), clbits=(i,)) for i in range(n)]
    return Circuit(n, n, tuple(ops), name=name)


def random_layers(n: int = 6, depth: int = 4) -> Circuit:
    """A circuit with many distinct outcomes (so counts comparisons mean something)."""
    ops = []
    for layer in range(depth):
        ops += [Instruction("ry", (q,), (0.3 + 0.17 * q + 0.11 * layer,)) for q in range(n)]
        ops += [Instruction("cx", (q, q + 1)) for q in range(layer % 2, n - 1, 2)]
    ops += [Instruction("measure", (q,), clbits=(q,)) for q in range(n)]
    return Circuit(n, n, tuple(ops), name="layers")


class Gate:
    """A function job body that runs only as far as the test lets it.

    ``release(k)`` lets k more steps run; ``fail()`` makes the next step
    raise; ``finish()`` lets the body return. ``started`` is set once the
    body runs, so "never started" is observable.
    """

    def __init__(self) -> None:
        self.started = threading.Event()
        self.steps = threading.Semaphore(0)
        self.failing = threading.Event()
        self.finishing = threading.Event()
        self.done_steps = 0

    def __call__(self, reporter: Any, token: Any) -> int:
        self.started.set()
        while True:
            token.check()
            if self.finishing.is_set():
                return self.done_steps
            if self.failing.is_set():
                raise RuntimeError("the gate made this job fail")
            if self.steps.acquire(timeout=0.01):
                self.done_steps += 1
                reporter.update(1)

    def release(self, k: int = 1) -> None:
        for _ in range(k):
            self.steps.release()

    def fail(self) -> None:
        self.failing.set()

    def finish(self) -> None:
        self.finishing.set()


class GatedPlan:
    """The engine's real plan, with each batch held until the test releases it.

    Not a simulator: counts come from the wrapped plan's ``run_batch``.
    """

    def __init__(self, plan: Any) -> None:
        self._plan = plan
        self.allowed = threading.Semaphore(0)
        self.ran: list[int] = []
        self.entered = threading.Event()

    def __getattr__(self, name: str) -> Any:
        # no raw fast path: every batch goes through run_batch
        if name.startswith("_") or name in ("run_batch_raw", "format_counts"):
            raise AttributeError(name)
        return getattr(self._plan, name)

    def release(self, k: int = 1) -> None:
        for _ in range(k):
            self.allowed.release()

    def run_batch(self, index: int, shots: int, seed: int, should_continue: Any = None) -> dict:
        self.entered.set()
        if not self.allowed.acquire(timeout=TIMEOUT):
            raise TimeoutError("test never released batch")
        counts = self._plan.run_batch(index, shots, seed, should_continue)
        self.ran.append(index)
        return counts


@pytest.fixture
def manager() -> Iterator[JobManager]:
    m = JobManager(max_concurrent_jobs=4, progress_interval=0.0, housekeeping_interval=0.05)
    yield m
    m.shutdown(wait=True, cancel_futures=True, cancel_running=True)


@pytest.fixture
def gated_plans(monkeypatch: pytest.MonkeyPatch) -> list[GatedPlan]:
    """Make ``submit`` wrap each real plan in a :class:`GatedPlan` (listed here)."""
    import qmon_jupyter.engine as engine

    real_prepare = engine.prepare
    plans: list[GatedPlan] = []

    def prepare(circuit: Circuit, **kw: Any) -> GatedPlan:
        plan = GatedPlan(real_prepare(circuit, **kw))
        plans.append(plan)
        return plan

    monkeypatch.setattr(engine, "prepare", prepare)
    return plans
