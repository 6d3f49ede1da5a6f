"""A real Dask ``LocalCluster`` on 127.0.0.1, circuits and a recording job control."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import TYPE_CHECKING

import pytest

distributed = pytest.importorskip("distributed")

from qmon_jupyter.circuits.ir import Circuit, Condition, Instruction  # noqa: E402
from qmon_jupyter.executors.dask import DaskExecutor  # noqa: E402

from .._support import wait_until as _wait_until  # noqa: E402

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

I = Instruction  # noqa: E741 - reads like a circuit listing


def start_cluster(
    n_workers: int = 2, *, processes: bool = True, scheduler_port: int = 0
) -> distributed.LocalCluster:
    """One-thread workers, everything on loopback ports chosen by the system."""
    return distributed.LocalCluster(
        n_workers=n_workers,
        threads_per_worker=1,
        processes=processes,
        # the scheduler always serves HTTP (8787 by default): any free loopback port
        dashboard_address="127.0.0.1:0",
        host="127.0.0.1",
        protocol="tcp://",  # in-process workers would otherwise use inproc://
        scheduler_port=scheduler_port,
    )


@pytest.fixture(scope="module")
def cluster() -> Iterator[distributed.LocalCluster]:
    """One two-worker cluster (separate processes) for the module."""
    with start_cluster() as running:
        yield running


@pytest.fixture(scope="module")
def executor(cluster: distributed.LocalCluster) -> Iterator[DaskExecutor]:
    """An executor that connects to the module's cluster by address."""
    with DaskExecutor(cluster.scheduler_address, timeout=20) as ex:
        yield ex


@pytest.fixture
def dask_executor(executor: DaskExecutor) -> DaskExecutor:
    """The module's executor, once the cluster has both workers (after a kill)."""
    executor.client.wait_for_workers(2, timeout=60)
    return executor


def scheduler_keys(client: distributed.Client, states: tuple[str, ...] = ()) -> list[str]:
    """Keys of qmon batches the scheduler knows about (in ``states``, else any)."""

    def keys(dask_scheduler: object) -> list[str]:
        return [
            str(key)
            for key, task in dask_scheduler.tasks.items()
            if str(key).startswith("qmon-") and (not states or task.state in states)
        ]

    return client.run_on_scheduler(keys)


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    """Poll ``predicate`` until true; fail naming ``what`` after ``timeout`` s."""
    if not _wait_until(predicate, timeout, 0.02):
        pytest.fail(f"timed out after {timeout} s waiting for {what or predicate}")


def quick_reconnect() -> object:
    """Dask config under which in-process workers give up a dead scheduler in 2 s.

    Without it, closing a cluster whose scheduler was closed first waits for
    each worker's 30 s connect timeout.
    """
    import dask

    return dask.config.set({"distributed.comm.timeouts.connect": "2s"})


class Runner:
    """Runs ``fn`` on a thread; ``join()`` waits (bounded) and re-raises its error."""

    def __init__(self, fn: Callable[[], object]) -> None:
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._target, args=(fn,), daemon=True)
        self.thread.start()

    def _target(self, fn: Callable[[], object]) -> None:
        try:
            fn()
        except BaseException as exc:
            self.error = exc

    def join(self, timeout: float = 60.0) -> BaseException | None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"still running after {timeout} s"
        return self.error


def trajectory_circuit() -> Circuit:
    """Three qubits with a mid-circuit measurement, a reset and a conditioned gate."""
    return Circuit(
        num_qubits=3,
        num_clbits=3,
        instructions=(
            I("h", (0,)),
            I("cx", (0, 1)),
            I("measure", (0,), clbits=(0,)),
            I("reset", (0,)),
            I("ry", (0,), params=(0.7,)),
            I("x", (2,), condition=Condition(clbits=(0, 1, 2), value=1, register="c")),
            I("measure", (0,), clbits=(1,)),
            I("measure", (2,), clbits=(2,)),
        ),
        qregs=(("q", 3),),
        cregs=(("c", 3),),
        name="mid-measure",
    )


def sample_circuit() -> Circuit:
    """A 4-qubit GHZ-like state with terminal measurements only."""
    ops = [I("h", (0,)), I("ry", (3,), params=(1.1,))]
    ops += [I("cx", (q, q + 1)) for q in range(2)]
    ops += [I("measure", (q,), clbits=(q,)) for q in range(4)]
    return Circuit(4, 4, tuple(ops), (("q", 4),), (("c", 4),), "ghz")


def slow_circuit(num_qubits: int = 10, layers: int = 8) -> Circuit:
    """A trajectory circuit whose batches of ~200 shots take a noticeable time.

    A measurement in every layer forces one state per shot after it.
    """
    ops: list[Instruction] = []
    for layer in range(layers):
        ops += [I("h", (q,)) for q in range(num_qubits)]
        ops += [I("cx", (q, q + 1)) for q in range(num_qubits - 1)]
        ops += [I("rz", (q,), params=(0.3 * layer + 0.1 * q,)) for q in range(num_qubits)]
        ops.append(I("measure", (layer % num_qubits,), clbits=(layer % num_qubits,)))
    ops += [I("measure", (q,), clbits=(q,)) for q in range(num_qubits)]
    return Circuit(num_qubits, num_clbits=num_qubits, instructions=tuple(ops), name="layers")


class RecordingControl:
    """A job control (``BatchControl``) that records batches and can pause or cancel.

    ``pause_after`` / ``cancel_after``: pause or cancel once that many batches
    were reported (from inside ``batch_done``, so the timing does not matter).
    """

    def __init__(self, *, pause_after: int | None = None, cancel_after: int | None = None):
        self.pause_after = pause_after
        self.cancel_after = cancel_after
        # guards counts, reported and calls (the executor may report from any thread)
        self.lock = threading.Lock()
        self.counts: dict[str, int] = {}
        self.reported: list[int] = []
        self.should_continue_calls = 0
        self.blocked = threading.Event()  # set while should_continue() is blocked
        self._run = threading.Event()
        self._run.set()
        self._cancel = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def should_continue(self) -> bool:
        with self.lock:
            self.should_continue_calls += 1
        if not self._run.is_set():
            self.blocked.set()
            self._run.wait(60)
            self.blocked.clear()
        return not self._cancel.is_set()

    def on_block(self, done: int, total: int) -> None:
        pass

    def batch_done(self, index: int, shots: int, counts: dict[str, int]) -> None:
        with self.lock:
            assert index not in self.reported, f"batch {index} reported twice"
            assert sum(counts.values()) == shots
            self.reported.append(index)
            for key, value in counts.items():
                self.counts[key] = self.counts.get(key, 0) + value
            n = len(self.reported)
        if n == self.pause_after:
            self.pause()
        if n == self.cancel_after:
            self.cancel()

    def pause(self) -> None:
        self._run.clear()

    def resume(self) -> None:
        self._run.set()

    def cancel(self) -> None:
        self._cancel.set()
        self._run.set()

    def reported_count(self) -> int:
        with self.lock:
            return len(self.reported)


@pytest.fixture
def kit() -> SimpleNamespace:
    """This file's helpers (test modules cannot import a conftest)."""
    return SimpleNamespace(
        RecordingControl=RecordingControl,
        trajectory_circuit=trajectory_circuit,
        sample_circuit=sample_circuit,
        slow_circuit=slow_circuit,
        scheduler_keys=scheduler_keys,
        start_cluster=start_cluster,
        wait_until=wait_until,
        Runner=Runner,
        quick_reconnect=quick_reconnect,
    )
