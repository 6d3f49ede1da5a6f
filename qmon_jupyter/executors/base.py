"""The executor protocol: how the job manager runs a simulation's batches.

A simulation job is a :class:`~qmon_jupyter.engine.SimulationPlan` plus a
list of :class:`Batch` es (index and shot count) and one seed. The manager
picks an executor by the job's ``backend`` and, on the job's worker thread,
calls::

    executor.run_batches(plan, batches, seed, control)

which must return once every batch was reported to ``control.batch_done``,
or stop early when ``control.should_continue()`` returns False. That is the
whole protocol. Everything flows back through ``control`` (the job):

- **counts**: ``control.batch_done(index, shots, counts)`` once per batch,
  where ``counts = plan.run_batch(index, shots, seed, ...)`` (a mapping; an
  in-process executor may instead pass the engine's raw batch result,
  ``plan.run_batch_raw(...)``, which is summed without formatting and
  turned into bitstrings once with ``plan.format_counts``, as ``engine.run``
  does). Batches may be
  reported in any order and from any thread; the job sums them, updates
  progress (per batch) and writes checkpoints of the contiguous prefix.
  Because ``run_batch`` is a pure function of (circuit, index, shots, seed),
  where and in which order batches run never changes the final counts.
- **cancel**: ``control.should_continue()`` returns False once the job is
  cancelled. Ask it before starting each batch and pass it to the engine
  (``plan.evolve(should_continue=...)``, ``plan.run_batch(...,
  should_continue=...)``), which then raises ``engine.Interrupted``; let that
  propagate or return -- the job ends ``cancelled`` either way. A remote
  executor stops submitting and cancels what it has in flight.
- **pause**: ``control.should_continue()`` *blocks* while the job is paused
  and returns once it is resumed (True) or cancelled (False). So pausing
  takes effect between batches. A remote executor must not submit new
  batches while paused (keep a bounded window of batches in flight and
  call ``should_continue()`` before each submission).
- **evolution progress**: the plan's one-off evolution (the final state in
  ``"sample"`` mode) runs before the batches; report its gate blocks with
  ``control.on_block(done, total)`` and their cost-weighted work with
  ``control.on_work(done, total)`` (``evolve_if_needed(plan, control)`` does
  both; on a remote worker each plan copy evolves once on its own).
- **errors**: any other exception propagates out of ``run_batches``; the job
  fails with that exception and its traceback kept.

Executors are named (``name`` is what a job's snapshot shows as
``executor``, and what ``submit(backend=...)`` selects), long-lived, shared
by many jobs at once (``run_batches`` must be re-entrant), and closed by
their owner (``close()``).

Optional: ``info() -> dict`` (cheap, no I/O; a job's snapshot shows it as
``executor_info``) and ``cluster_info() -> dict`` (the cluster behind the
executor for ``GET status``; must answer quickly even when the cluster is
gone, see :func:`cluster_infos`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

__all__ = ["Batch", "BatchControl", "Executor", "cluster_infos", "evolve_if_needed"]


class Batch(NamedTuple):
    """One batch of shots: ``plan.run_batch(index, shots, seed)``."""

    index: int
    shots: int


@runtime_checkable
class BatchControl(Protocol):
    """What a running job hands to its executor (implemented by the job)."""

    def should_continue(self) -> bool:
        """Return True to go on; block while paused; return False once cancelled."""
        ...

    def on_block(self, done: int, total: int) -> None:
        """Report gate blocks of the evolution done so far (sample mode)."""
        ...

    def on_work(self, done: float, total: float) -> None:
        """Report the evolution's estimated work done so far (its blocks weighted by cost)."""
        ...

    def batch_done(self, index: int, shots: int, counts: Mapping[str, int] | Any) -> None:
        """Report one finished batch (thread-safe; any order; once per batch)."""
        ...

    @property
    def cancelled(self) -> bool:
        """Whether the job was cancelled (never blocks)."""
        ...


@runtime_checkable
class Executor(Protocol):
    """Runs a simulation's batches (see the module docstring for the contract)."""

    name: str

    def run_batches(
        self, plan: Any, batches: Sequence[Batch], seed: int, control: BatchControl
    ) -> None:
        """Run ``batches`` of ``plan``; report each to ``control.batch_done``."""
        ...

    def close(self) -> None:
        """Release the executor's resources (threads, client)."""
        ...


def evolve_if_needed(plan: Any, control: BatchControl) -> None:
    """Do the plan's one-off evolution now, yielding between gate blocks.

    A no-op when already done; ``run_batch`` would do it anyway, but without
    reporting blocks, so call this first.
    """
    plan.evolve(
        should_continue=control.should_continue,
        on_block=control.on_block,
        on_work=control.on_work,
    )


def cluster_infos(executors: Iterable[Any]) -> list[dict[str, Any]]:
    """``cluster_info()`` of each executor that has one (failures become an error entry).

    What the kernel publishes in its heartbeat and ``GET status`` shows as a
    kernel's ``executors``.
    """
    out: list[dict[str, Any]] = []
    for executor in executors:
        describe = getattr(executor, "cluster_info", None)
        if not callable(describe):
            continue
        try:
            out.append(dict(describe()))
        except Exception as exc:
            name = str(getattr(executor, "name", type(executor).__name__))
            out.append({"name": name, "status": f"error: {exc}"})
    return out
