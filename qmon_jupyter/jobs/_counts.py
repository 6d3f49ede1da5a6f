"""Summing batch counts the way the engine does: in a dense array, formatted once.

``plan.run_batch`` returns a dict of bitstrings per batch; formatting every
batch's keys and merging dicts costs more than the sampling itself for large
registers. When the plan also offers the engine's raw batch results
(``run_batch_raw``/``format_counts``, as ``engine.run`` uses them) the local
executor hands those over and they are summed in a numpy array, formatted
only for checkpoints and the final result. Plain dicts (other executors,
checkpoint counts) are summed as dicts; both add up in :meth:`to_dict`.
"""

from __future__ import annotations

import heapq
import time
from collections import Counter
from collections.abc import Mapping
from operator import itemgetter
from typing import Any

import numpy as np

__all__ = ["CountsAccumulator"]

# Dense accumulation up to this many outcomes (as engine.run).
_DENSE_OUTCOMES = 1 << 24


class CountsAccumulator:
    """Counts summed from dicts and raw engine batch results."""

    __slots__ = ("_dense", "_per_key_s", "_plan", "_sparse", "_text", "shots")

    def __init__(self, plan: Any, initial: Mapping[str, int] | None = None) -> None:
        self._plan = plan
        self._text: dict[str, int] = dict(initial or {})
        self._dense: np.ndarray | None = None
        self._sparse: Counter[int] | None = None
        self._per_key_s: float | None = None  # measured cost of formatting one outcome
        self.shots = int(sum(self._text.values()))

    def add(self, counts: Any) -> None:
        """Add one batch: a ``{bitstring: n}`` mapping or a raw engine result."""
        if isinstance(counts, Counter):  # raw trajectory batch: outcome int -> n
            self._sparse_counter().update(counts)
            self.shots += sum(counts.values())
        elif isinstance(counts, Mapping):
            text = self._text
            get = text.get
            for key, value in counts.items():
                text[key] = get(key, 0) + value
            self.shots += sum(counts.values())
        else:  # raw sample batch: (unique outcome indices, their counts)
            outcomes, values = counts
            size = self._outcome_space()
            if size <= _DENSE_OUTCOMES:
                if self._dense is None:
                    self._dense = np.zeros(size, dtype=np.int64)
                self._dense[outcomes] += values
            else:
                self._sparse_counter().update(
                    dict(zip(outcomes.tolist(), values.tolist(), strict=True))
                )
            self.shots += int(values.sum())

    def to_dict(self) -> dict[str, int]:
        """All counts as ``{bitstring: n}`` (formats the raw part now)."""
        out = self._format_raw()
        if not out:
            return dict(self._text)
        get = out.get
        for key, value in self._text.items():
            out[key] = get(key, 0) + value
        return out

    def format_cost_estimate(self) -> float:
        """Estimate the seconds :meth:`to_dict` would take now (cheap: samples 1024 outcomes)."""
        cost = len(self._text) * 1e-7  # copying the dict part
        raw = 0
        if self._dense is not None:
            raw += int(np.count_nonzero(self._dense))
        if self._sparse:
            raw += len(self._sparse)
        if raw:
            if self._per_key_s is None:
                self._per_key_s = self._calibrate()
            cost += raw * self._per_key_s
        return cost

    def _calibrate(self) -> float:
        if self._dense is None:
            return 1e-6
        idx = np.flatnonzero(self._dense)[:1024]
        if idx.size == 0:
            return 1e-6
        started = time.perf_counter()
        self._plan.format_counts((idx, self._dense[idx]))
        # x2: a large dict costs more per key than a small sample (memory, hashing)
        return 2.0 * (time.perf_counter() - started) / idx.size

    def finish(self, n: int) -> tuple[dict[str, int], list[tuple[str, int]]]:
        """Return all counts and the ``n`` most frequent, ranking the raw part in numpy."""
        dense = self._dense
        if dense is None or self._text or self._sparse:
            counts = self.to_dict()
            return counts, heapq.nlargest(n, counts.items(), key=itemgetter(1))
        idx = np.flatnonzero(dense)
        values = dense[idx]
        counts = self._plan.format_counts((idx, values))
        k = min(n, idx.size)
        if k == 0:
            return counts, []
        best = np.argpartition(values, -k)[-k:]
        top = self._plan.format_counts((idx[best], values[best]))
        return counts, sorted(top.items(), key=lambda kv: (-kv[1], kv[0]))

    def _sparse_counter(self) -> Counter[int]:
        if self._sparse is None:
            self._sparse = Counter()
        return self._sparse

    def _outcome_space(self) -> int:
        size = getattr(self._plan, "num_outcomes", None)
        return int(size) if size is not None else _DENSE_OUTCOMES + 1

    def _format_raw(self) -> dict[str, int]:
        plan = self._plan
        out: dict[str, int] = {}
        if self._dense is not None:
            idx = np.flatnonzero(self._dense)
            out = plan.format_counts((idx, self._dense[idx]))
        if self._sparse:
            if getattr(plan, "mode", "sample") == "trajectory":
                extra = plan.format_counts(self._sparse)
            else:
                items = sorted(self._sparse.items())
                extra = plan.format_counts(
                    (np.array([i for i, _ in items]), np.array([c for _, c in items]))
                )
            get = out.get
            for key, value in extra.items():
                out[key] = get(key, 0) + value
        return out
