"""The local executor: a job's batches run in order on the job's own worker thread."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import evolve_if_needed

if TYPE_CHECKING:
    from collections.abc import Sequence

    from .base import Batch, BatchControl

__all__ = ["LocalExecutor", "raw_batch_runner"]


def raw_batch_runner(plan: Any) -> Any:
    """Return the plan's raw batch function if it can format raw results, else None.

    ``engine.run`` sums these unformatted; so does the job layer
    (``jobs/_counts.py``), which formats keys once instead of per batch.
    """
    raw = getattr(plan, "run_batch_raw", None)
    if not callable(raw) or not callable(getattr(plan, "format_counts", None)):
        return None
    return raw


class LocalExecutor:
    """Runs batches sequentially in the calling thread (the default executor).

    The job manager already gives every running job its own thread, so jobs
    run side by side; within a job, numpy does the heavy lifting and batches
    run one after another, which keeps cancel and pause within one batch.
    """

    name = "local"

    def run_batches(
        self, plan: Any, batches: Sequence[Batch], seed: int, control: BatchControl
    ) -> None:
        """Evolve once (sample mode), then run each batch; stop when told to."""
        if not control.should_continue():
            return
        evolve_if_needed(plan, control)
        # The engine's raw batches (summed unformatted, as engine.run does)
        # when the plan offers them; its public run_batch otherwise.
        run_batch = raw_batch_runner(plan) or plan.run_batch
        should_continue = control.should_continue
        for batch in batches:
            if not should_continue():
                return
            counts = run_batch(batch.index, batch.shots, seed, should_continue)
            control.batch_done(batch.index, batch.shots, counts)

    def close(self) -> None:
        """Nothing to release: the threads belong to the job manager."""

    def __repr__(self) -> str:
        return "LocalExecutor()"
