"""Simulation jobs: a plan's batches on an executor, counts summed, checkpoints kept."""

from __future__ import annotations

import functools
import logging
import threading
import time
import weakref
from typing import TYPE_CHECKING, Any

from qmon_jupyter.core.snapshot import TOP_OUTCOMES
from qmon_jupyter.errors import JobCancelled
from qmon_jupyter.executors.base import Batch

from ._counts import CountsAccumulator
from .job import Result

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from qmon_jupyter.executors.base import Executor

    from .events import EventBus
    from .job import ExecutionJob

__all__ = ["SimulationRun", "SimulationSpec", "emit_checkpoint", "run_simulation"]

logger = logging.getLogger(__name__)


class SimulationSpec:
    """Everything needed to run, checkpoint and resume one simulation job."""

    __slots__ = (
        "_spec_dict",
        "backend",
        "batch_size",
        "circuit",
        "initial_counts",
        "plan",
        "seed",
        "shots",
        "sizes",
        "start_batch",
    )

    def __init__(
        self,
        *,
        circuit: Any,
        plan: Any,
        shots: int,
        seed: int,
        sizes: list[int],
        start_batch: int,
        initial_counts: Mapping[str, int] | None,
        backend: str,
    ) -> None:
        self.circuit = circuit
        self.plan = plan
        self.shots = shots
        self.seed = seed
        self.sizes = sizes
        # The size actually used: plan.batch_sizes(shots, batch_size) gives
        # the same list on resume, whatever the engine's default was.
        self.batch_size = sizes[0] if sizes else None
        self.start_batch = start_batch
        self.initial_counts = dict(initial_counts or {})
        self.backend = backend
        self._spec_dict: dict | None = None

    def checkpoint_spec(self) -> dict:
        """Return the ``spec`` of a ``job.checkpoint`` event (JSON-safe; built once, shared)."""
        if self._spec_dict is None:
            from qmon_jupyter.circuits.ir import circuit_to_dict
            from qmon_jupyter.engine import SEED_STREAM_VERSION

            self._spec_dict = {
                "circuit": circuit_to_dict(self.circuit),
                "shots": self.shots,
                "seed": self.seed,
                "batch_size": self.batch_size,
                "backend": self.backend,
                "precision": getattr(self.plan, "precision", "double"),
                # the counts the seed gives after a resume are this stream's
                "seed_stream": SEED_STREAM_VERSION,
            }
        return self._spec_dict


class SimulationRun:
    """The :class:`~qmon_jupyter.executors.base.BatchControl` of one running job.

    Sums batch counts, keeps the counts of the contiguous prefix of finished
    batches (what a checkpoint may claim), reports progress per batch and
    asks for checkpoints at most every ``checkpoint_interval`` seconds --
    less often when formatting the counts would take more than 1 % of the
    job's time (a large register's checkpoint is not free).
    """

    def __init__(
        self,
        job: ExecutionJob,
        spec: SimulationSpec,
        *,
        checkpoint: Callable[[SimulationRun], None],
        checkpoint_interval: float,
    ) -> None:
        self.job = job
        self.spec = spec
        self._tracker = job.tracker
        self._signals = job.signals
        # Asked before every batch: straight to the job's signals (no call of
        # ours in between), checkpointing once per pause. A proxy, so the
        # run and its own callback make no reference cycle.
        self.should_continue = functools.partial(  # type: ignore[method-assign]
            job.signals.should_continue,
            functools.partial(checkpoint, weakref.proxy(self)),
        )
        self._checkpoint = checkpoint
        self._interval = checkpoint_interval
        # Guards next_batch, prefix, _pending and _last_checkpoint: remote
        # executors may report batches from several threads.
        self._lock = threading.Lock()
        self.next_batch = spec.start_batch
        self.prefix = CountsAccumulator(spec.plan, spec.initial_counts)
        self._pending: dict[int, Any] = {}
        self._last_checkpoint = time.monotonic()

    # -- BatchControl --------------------------------------------------------
    @property
    def cancelled(self) -> bool:
        """Whether the job was cancelled."""
        return self._signals.cancel_requested

    def should_continue(self) -> bool:  # replaced per instance in __init__ (see there)
        """Return False once cancelled; block while paused (checkpointing once per pause)."""
        return self._signals.should_continue(functools.partial(self._checkpoint, self))

    def on_block(self, done: int, total: int) -> None:
        """Report gate blocks of the evolution done so far."""
        self._tracker.evolve_block(done, total)

    def on_work(self, done: float, total: float) -> None:
        """Report the evolution's estimated work done so far (its cost-weighted progress).

        The engine counts amplitude-passes; the job shows passes over the state.
        """
        scale = float(1 << self.spec.circuit.num_qubits)
        self._tracker.evolve_work(done / scale, total / scale)

    def batch_done(self, index: int, shots: int, counts: Any) -> None:
        """Sum one batch's counts (any order; a mapping or a raw engine result)."""
        with self._lock:
            if index == self.next_batch:
                add = self.prefix.add
                add(counts)
                self.next_batch += 1
                pending = self._pending
                while self.next_batch in pending:
                    add(pending.pop(self.next_batch))
                    self.next_batch += 1
            elif index > self.next_batch and index not in self._pending:
                self._pending[index] = counts
            else:
                return  # reported twice: count it once
            now = time.monotonic()
            due = now - self._last_checkpoint >= self._interval
            if due:
                # Keep checkpoints under 1 % of the job's time: formatting the
                # counts of a large register is not free.
                self._interval = max(self._interval, 100.0 * self.prefix.format_cost_estimate())
                due = now - self._last_checkpoint >= self._interval
            if due:
                self._last_checkpoint = now
        self._tracker.batch_done(shots)
        if due:
            self._checkpoint(self)

    # -- for the manager -------------------------------------------------------
    def checkpoint_data(self) -> tuple[int, dict[str, int]]:
        """Return ``(batches_done, counts)`` of the contiguous prefix (counts formatted now)."""
        started = time.monotonic()
        with self._lock:
            batches_done, counts = self.next_batch, self.prefix.to_dict()
            cost = time.monotonic() - started
            self._interval = max(self._interval, 100.0 * cost)
        return batches_done, counts

    def batches(self) -> list[Batch]:
        """Return the batches still to run."""
        sizes = self.spec.sizes
        return [Batch(i, sizes[i]) for i in range(self.spec.start_batch, len(sizes))]

    def result(self) -> tuple[Result, dict]:
        """Return the final :class:`Result` and its snapshot summary."""
        with self._lock:
            missing = len(self.spec.sizes) - self.next_batch
            if missing or self._pending:
                msg = f"executor returned with {missing} of {len(self.spec.sizes)} batches missing"
                raise RuntimeError(msg)
            counts, top = self.prefix.finish(TOP_OUTCOMES)
            shots = self.prefix.shots
        result = Result(
            job_id=self.job.id,
            counts=counts,
            shots=shots,
            seed=self.spec.seed,
            elapsed_s=self.job.elapsed_s or 0.0,
        )
        summary: dict[str, Any] = {"top": [[k, int(v)] for k, v in top], "shots": shots}
        cregs = getattr(self.spec.circuit, "cregs", ())
        if len(cregs) > 1:  # the renderer splits the keys by register, as Qiskit prints them
            summary["registers"] = [[name, int(size)] for name, size in cregs]
        return result, summary


def emit_checkpoint(events: EventBus, run: SimulationRun) -> None:
    """Publish ``run``'s ``job.checkpoint`` (skipped when nobody keeps checkpoints)."""
    if not events.has_subscribers("job.checkpoint"):
        return  # nobody keeps checkpoints: skip copying the counts
    batches_done, counts = run.checkpoint_data()
    data = {
        "spec": run.spec.checkpoint_spec(),
        "batches_done": batches_done,
        "counts": counts,
        "name": run.job.name,
    }
    run.job.publish(events, "job.checkpoint", data)


def run_simulation(
    job: ExecutionJob,
    *,
    spec: SimulationSpec,
    executor: Executor,
    events: EventBus,
    checkpoint_interval: float,
) -> Result:
    """Run a simulation job's batches on ``executor`` (on the job's worker thread).

    A cancelled job publishes a last checkpoint before it ends, so it can
    be resumed from where it stopped.
    """
    checkpoint = functools.partial(emit_checkpoint, events)
    run = SimulationRun(job, spec, checkpoint=checkpoint, checkpoint_interval=checkpoint_interval)
    signals = job.signals
    try:
        executor.run_batches(spec.plan, run.batches(), spec.seed, run)
    finally:
        if signals.cancel_requested:
            try:
                checkpoint(run)
            except Exception:  # a lost checkpoint never keeps a job from ending
                logger.exception("checkpointing job %s failed", job.id)
    if signals.cancel_requested:
        raise JobCancelled(job.id, signals.cancel_reason)
    result, summary = run.result()
    job.set_summary(summary)  # ranked from the raw counts: no need to sort the dict
    job.tracker.finish()
    return result
