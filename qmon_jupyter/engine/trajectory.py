"""Trajectories: shots that follow mid-circuit measurements, resets and conditions.

Shots are grouped: at a measurement the shots of a branch split by one
binomial draw, and each branch is followed once with its whole share of
shots. The steps (fused gate blocks between measurements, resets and
conditioned gates) are built once per plan and shared by every branch and
batch; a measurement or reset only finishes the blocks on its own qubit (see
:class:`.fusion.Fuser`). A sibling branch starts from a copy of the state at
its split while copies fit (:func:`.memory.branch_copy_budget`: one copy for
all but small states, the newest split's), else it is replayed from the cached
prefix state with its outcomes forced: memory stays at three states whatever
the number of branches. A trailing run of plain measurements is sampled jointly.

A measurement costs one read of the state (the squared norms of both halves,
so the probability needs no normalised state) and a write of half of it; the
state is not rescaled after a collapse, only when its norm gets small enough
to approach the underflow of its type.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from qmon_jupyter.circuits.ir import NON_UNITARY, Condition, Instruction

from . import memory
from ._errors import check_continue
from .analysis import measurement_map
from .fusion import FusedGate, Fuser, fuse
from .sampling import half_norms, located_chunks, outcome_distribution
from .statevector import apply_diagonal, apply_unitary

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

__all__ = ["apply_gate", "build_steps", "run_trajectories"]


@dataclass(frozen=True, slots=True)
class Measure:
    qubit: int
    clbit: int | None  # None for reset
    reset: bool
    condition: Condition | None = None  # ``if (creg == n) measure/reset``


@dataclass(frozen=True, slots=True)
class Conditional:
    condition: Condition
    gate: FusedGate


@dataclass(frozen=True, slots=True)
class Tail:
    """Only measurements remain: sample them jointly from the branch's state."""

    measured: tuple[int, ...]
    bit_map: tuple[tuple[int, int], ...]  # (outcome bit, clbit)


def build_steps(rest: Sequence[Instruction], width: int) -> list[object]:
    """Turn the instructions after the prefix into steps, fusing across measurements.

    Non-unitary steps stay in circuit order; a fused block on qubits a
    measurement, reset or conditioned gate does not touch may be finished after
    it (they commute).
    """
    # the trailing run of plain measurements becomes one joint sample
    tail_start = len(rest)
    while (
        tail_start > 0
        and rest[tail_start - 1].name == "measure"
        and rest[tail_start - 1].condition is None
    ):
        tail_start -= 1
    steps: list[object] = []
    fuser = Fuser(width)
    for op in rest[:tail_start]:
        if op.condition is None and op.name not in NON_UNITARY:
            steps.extend(fuser.add(op))
            continue
        steps.extend(fuser.close(op.qubits))
        if op.name in ("measure", "reset"):
            clbit = op.clbits[0] if op.name == "measure" else None
            steps.append(Measure(op.qubits[0], clbit, op.name == "reset", op.condition))
        else:
            steps.append(Conditional(op.condition, fuse([replace(op, condition=None)], width)[0]))
    steps.extend(fuser.close())
    if tail_start < len(rest):
        steps.append(Tail(*measurement_map(list(rest[tail_start:]))))
    return steps


def apply_gate(state: np.ndarray, gate: FusedGate) -> None:
    """Apply a fused gate to ``state`` in place."""
    if gate.diagonal is not None:
        apply_diagonal(state, gate.diagonal, gate.qubits)
    else:
        apply_unitary(state, gate.matrix, gate.qubits)  # type: ignore[arg-type]


def _halves(state: np.ndarray, qubit: int) -> tuple[np.ndarray, np.ndarray]:
    """Return the amplitudes with ``qubit`` at 0 and at 1, as views."""
    view = state.reshape(-1, 2, 1 << qubit)
    return view[:, 0, :], view[:, 1, :]


def collapse(state: np.ndarray, qubit: int, outcome: int, reset: bool) -> None:
    """Project ``qubit`` on ``outcome`` (then flip it to 0 for a reset), without rescaling."""
    zero, one = _halves(state, qubit)
    if outcome == 0:
        one[...] = 0
    elif reset:
        # the halves interleave in one buffer, so numpy would copy through a
        # temporary as large as them: copy a few rows at a time instead
        rows = max(1, min(_COPY_AMPLITUDES, state.size >> 6) >> qubit)
        for r in range(0, zero.shape[0], rows):
            np.copyto(zero[r : r + rows], one[r : r + rows])
        one[...] = 0
    else:
        zero[...] = 0


# amplitudes per copy of a reset, at most 1/64 of the state (numpy copies through a temporary)
_COPY_AMPLITUDES = 1 << 16

# Steps of a branch between two questions to should_continue (each step is at
# least one pass over the state; this keeps the overhead of asking negligible).
_CHECK_EVERY = 16

# Rescale a branch's state when its squared norm falls below this (far above
# the types' smallest normal numbers: amplitudes are 2**-15 of the norm at 30 qubits).
_RESCALE_BELOW = {np.dtype(np.complex64): 1e-12, np.dtype(np.complex128): 1e-150}


def _rescale_if_small(state: np.ndarray, norm2: float) -> float:
    if norm2 >= _RESCALE_BELOW[state.dtype] or norm2 <= 0.0:
        return norm2
    state *= state.real.dtype.type(1.0 / np.sqrt(norm2))
    return 1.0


def _register_value(clbits: int, condition: Condition) -> int:
    return sum(((clbits >> b) & 1) << i for i, b in enumerate(condition.clbits))


@dataclass(slots=True)
class _Pending:
    """A sibling branch waiting its turn."""

    forced: tuple[int, ...]  # every outcome so far, its own last
    shots: int
    snapshot: np.ndarray | None = None  # its state right after the split (else: replay)
    resume_at: int = 0  # the step after the split (with a snapshot)
    clbits: int = 0
    norm2: float = 1.0  # squared norm of the snapshot (a replay starts from the prefix's 1)

    def drop_snapshot(self) -> int:
        """Turn this sibling into a replay from the prefix; return the bytes freed."""
        assert self.snapshot is not None
        freed = self.snapshot.nbytes
        self.snapshot, self.resume_at, self.clbits, self.norm2 = None, 0, 0, 1.0
        return freed


def run_trajectories(
    prefix: np.ndarray,
    steps: Sequence[object],
    shots: int,
    rng: np.random.Generator,
    should_continue: Callable[[], bool] | None = None,
) -> Counter[int]:
    """Follow ``shots`` shots from the ``prefix`` state; return counts by clbit register value.

    A sibling branch starts from a copy of the state taken at its split while
    the copies fit in :func:`.memory.branch_copy_budget` (newer splits first:
    they are followed first), else it replays from the prefix with its
    outcomes forced. Either way the random draws, and so the counts, are the same.
    """
    counts: Counter[int] = Counter()
    state = np.empty_like(prefix)
    pending = [_Pending((), shots)]
    held = [0]  # bytes of the snapshots in pending
    while pending:
        check_continue(should_continue)
        job = pending.pop()
        if job.snapshot is None:
            np.copyto(state, prefix)
        else:
            np.copyto(state, job.snapshot)
            held[0] -= job.snapshot.nbytes
            job.snapshot = None
        branch = _Branch(job, pending, rng, held)
        for index in range(job.resume_at, len(steps)):
            if index % _CHECK_EVERY == 0:  # a long branch stays cancellable
                check_continue(should_continue)
            branch.step(state, steps[index], index, counts)
        if branch.shots:
            counts[branch.clbits] += branch.shots
    return counts


class _Branch:
    """One group of shots sharing every outcome so far."""

    def __init__(
        self,
        job: _Pending,
        pending: list[_Pending],
        rng: np.random.Generator,
        held: list[int],
    ) -> None:
        self.forced = job.forced
        self.shots = job.shots
        self.pending = pending
        self.rng = rng
        self.held = held  # shared: bytes of the snapshots in pending
        self.clbits = job.clbits
        self.norm2 = job.norm2  # squared norm of the (unscaled) state
        # a snapshot resumes after its split; a replay re-does every measurement
        self.measured = len(job.forced) if job.resume_at else 0

    def step(self, state: np.ndarray, step: object, index: int, counts: Counter[int]) -> None:
        if isinstance(step, FusedGate):
            apply_gate(state, step)
        elif isinstance(step, Conditional):
            if _register_value(self.clbits, step.condition) == step.condition.value:
                apply_gate(state, step.gate)
        elif isinstance(step, Measure):
            cond = step.condition
            if cond is None or _register_value(self.clbits, cond) == cond.value:
                self._measure(state, step, index)
        else:
            assert isinstance(step, Tail)
            self._tail(state, step, counts)

    def _measure(self, state: np.ndarray, step: Measure, index: int) -> None:
        s0, s1 = half_norms(state, step.qubit)
        total = s0 + s1
        p1 = min(1.0, max(0.0, s1 / total)) if total > 0 else 0.0
        k = self.measured
        if k < len(self.forced):
            outcome = self.forced[k]
        else:
            n1 = int(self.rng.binomial(self.shots, p1))
            if 0 < n1 < self.shots:  # split: this branch takes 0, a sibling takes 1
                self._push_sibling(state, step, index, s1, n1)
                self.shots -= n1
                outcome = 0
            else:
                outcome = 1 if n1 else 0
            self.forced = (*self.forced[:k], outcome)
        self.measured += 1
        if (s1 if outcome == 0 else s0) != 0.0 or (outcome and step.reset):
            collapse(state, step.qubit, outcome, step.reset)  # else: already collapsed
        self.norm2 = _rescale_if_small(state, s1 if outcome else s0)
        self.clbits = _write(self.clbits, step.clbit, outcome)

    def _push_sibling(self, state: np.ndarray, step: Measure, at: int, s1: float, n1: int) -> None:
        forced = (*self.forced[: self.measured], 1)
        budget = memory.branch_copy_budget(state.nbytes)
        # the newest split is followed first: older siblings give up their copies for it
        for older in self.pending:
            if self.held[0] + state.nbytes <= budget:
                break
            if older.snapshot is not None:
                self.held[0] -= older.drop_snapshot()
        if self.held[0] + state.nbytes > budget:
            self.pending.append(_Pending(forced, n1))
            return
        snapshot = state.copy()
        collapse(snapshot, step.qubit, 1, step.reset)
        norm2 = _rescale_if_small(snapshot, s1)
        self.held[0] += snapshot.nbytes
        clbits = _write(self.clbits, step.clbit, 1)
        self.pending.append(_Pending(forced, n1, snapshot, at + 1, clbits, norm2))

    def _tail(self, state: np.ndarray, step: Tail, counts: Counter[int]) -> None:
        # The state is not needed after its tail: its buffer takes the
        # probabilities and their sums, and the shots locate sorted uniforms
        # in chunks, so no outcome-sized array is made.
        _, cdf = outcome_distribution(state, step.measured)
        chunk = max(1, state.size >> 6)  # the chunks' temporaries: a few % of the state
        for idx, drawn in located_chunks(cdf, self.shots, self.rng, chunk):
            for outcome, n in zip(idx.tolist(), drawn.tolist(), strict=True):
                value = self.clbits
                for j, c in step.bit_map:
                    value = _write(value, c, (outcome >> j) & 1)
                counts[value] += n
        self.shots = 0


def _write(clbits: int, clbit: int | None, bit: int) -> int:
    if clbit is None:
        return clbits
    return (clbits & ~(1 << clbit)) | (bit << clbit)
