"""What a finished job produced."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from qmon_jupyter.core.snapshot import TOP_OUTCOMES

__all__ = ["Result", "summarize"]


@dataclass(frozen=True)
class Result:
    """What a finished job produced.

    Attributes
    ----------
    job_id
        The job's id.
    counts
        Outcome bitstring -> count (simulations and hardware jobs).
    shots
        Shots in ``counts``.
    seed
        The seed the job ran with (reproduces ``counts``).
    value
        What a function job returned.
    elapsed_s
        Seconds the job ran.
    """

    job_id: str
    counts: dict[str, int] = field(default_factory=dict)
    shots: int = 0
    seed: int | None = None
    value: Any = None
    elapsed_s: float = 0.0

    def get_counts(self) -> dict[str, int]:
        """Return the counts, as Qiskit's ``Result.get_counts()`` does (a copy)."""
        return dict(self.counts)

    def top(self, n: int = TOP_OUTCOMES) -> list[tuple[str, int]]:
        """Return the ``n`` most frequent outcomes, most frequent first."""
        return heapq.nlargest(n, self.counts.items(), key=itemgetter(1))


def summarize(result: Result | None) -> dict | None:
    """Return the snapshot's ``result_summary`` of ``result`` (None if it has no counts)."""
    if result is None or (not result.counts and not result.shots):
        return None
    return {"top": [[k, int(v)] for k, v in result.top()], "shots": int(result.shots)}
