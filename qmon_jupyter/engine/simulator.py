"""Simulation plans: a circuit analysed once, run as batches of shots.

A :class:`SimulationPlan` decides how a circuit is simulated (see
:mod:`.analysis`):

- ``"sample"`` mode: the unitary part is evolved once, the outcome
  probabilities are computed and cached (the state is then dropped), and each
  batch samples from them.
- ``"trajectory"`` mode: the unitary prefix is evolved once and its state
  cached; each batch follows the rest of the circuit (see :mod:`.trajectory`).

Batch ``i`` draws its random numbers from a generator seeded by ``(seed, i)``
only, so batches can run in any order, anywhere, and add up to the same counts.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

import numpy as np

from qmon_jupyter.errors import QmonError, ResourceError

from ._blas import single_threaded_blas
from ._errors import (
    ShotsError,
    check_continue,
    dtype_of,
    validate_precision,
    validate_seed,
    validate_shots,
)
from .analysis import analyse, validate_circuit
from .fusion import DEFAULT_WIDTH, FusedGate, block_cost, fuse, iter_fuse
from .memory import available_memory, check_qubits, estimate_memory
from .sampling import batch_rng, format_keys, outcome_distribution, sample_outcomes
from .statevector import yielding
from .trajectory import apply_gate, build_steps, run_trajectories

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from qmon_jupyter.circuits.ir import Circuit

__all__ = ["BLOCK_CACHE_BYTES", "SimulationPlan"]

#: A plan keeps its fused blocks for the evolution while their matrices take
#: at most this many bytes. Beyond (about 4,000 dense 5-qubit blocks), it keeps
#: only their costs and the evolution fuses again as it goes, so that memory
#: stays bounded whatever the number of gates (at the price of a second fusion).
BLOCK_CACHE_BYTES = 64 << 20


def _slice_hook(
    should_continue: Callable[[], bool] | None,
    on_work: Callable[[float, float], None] | None,
    done: float,
    cost: float,
    total: float,
) -> Callable[[float], None] | None:
    """Return what to do between slices of one block (None: do not slice it)."""
    if should_continue is None and on_work is None:
        return None

    def hook(fraction: float) -> None:
        if on_work is not None:
            on_work(done + fraction * cost, total)
        check_continue(should_continue)

    return hook


# Default number of batches a run is cut into (for progress and cancellation).
_DEFAULT_BATCHES = 10
_MIN_SAMPLE_BATCH = 1024
_MIN_TRAJECTORY_BATCH = 16


class SimulationPlan:
    """How one circuit is simulated; run it batch by batch.

    Build it with :func:`qmon_jupyter.engine.prepare`. Plans are picklable (for
    Dask): cached probabilities and states are dropped and recomputed on the
    other side.

    Attributes
    ----------
    circuit
        The circuit.
    mode
        ``"sample"`` or ``"trajectory"`` (see the module docstring).
    precision
        ``"double"`` (complex128, the default) or ``"single"`` (complex64).
    memory_bytes
        The estimated peak memory of running it.

    Raises
    ------
    PrecisionError
        For a precision other than ``"single"`` or ``"double"``.
    ResourceError
        For more than :data:`~qmon_jupyter.engine.MAX_QUBITS` qubits.
    """

    def __init__(
        self, circuit: Circuit, *, fusion_width: int = DEFAULT_WIDTH, precision: str = "double"
    ) -> None:
        self.precision = validate_precision(precision)
        validate_circuit(circuit)
        self.circuit = circuit
        self.fusion_width = fusion_width
        self._analysis = analyse(circuit)
        check_qubits(circuit.num_qubits, self._analysis.mode, precision)
        self.memory_bytes = estimate_memory(circuit.num_qubits, self._analysis.mode, precision)
        self._init_cache()

    def _init_cache(self) -> None:
        self._lock = threading.Lock()  # guards the cached results below (one evolution at a time)
        self._blocks: list[FusedGate] | None = None
        self._costs: tuple[float, ...] | None = None
        self._steps: list[object] | None = None
        self._probs: np.ndarray | None = None  # sample mode: outcome probabilities (or None)
        self._cdf: np.ndarray | None = None  # sample mode: their cumulative sums
        self._prefix_state: np.ndarray | None = None  # trajectory mode

    def __getstate__(self) -> dict[str, Any]:
        return {
            "circuit": self.circuit,
            "fusion_width": self.fusion_width,
            "precision": self.precision,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(  # type: ignore[misc]
            state["circuit"],
            fusion_width=state["fusion_width"],
            precision=state.get("precision", "double"),
        )

    def __repr__(self) -> str:
        return (
            f"SimulationPlan(num_qubits={self.num_qubits}, mode={self.mode!r}, "
            f"precision={self.precision!r}, memory_bytes={self.memory_bytes})"
        )

    @property
    def num_qubits(self) -> int:
        """Number of qubits of the circuit."""
        return self.circuit.num_qubits

    @property
    def num_clbits(self) -> int:
        """Number of classical bits of the circuit."""
        return self.circuit.num_clbits

    @property
    def mode(self) -> str:
        """``"sample"`` or ``"trajectory"``."""
        return self._analysis.mode

    @property
    def evolved(self) -> bool:
        """Whether the one-off evolution is done and cached."""
        return self._cdf is not None or self._prefix_state is not None

    @property
    def blocks(self) -> list[FusedGate]:
        """The fused gates of the unitary part evolved once (computed on first use).

        Kept with the plan while their matrices take at most
        :data:`BLOCK_CACHE_BYTES`; a larger list is fused again on each use.
        """
        self.block_costs  # noqa: B018 - fuses once, keeping the blocks if they are small
        if self._blocks is not None:
            return self._blocks
        return fuse(self._analysis.prefix, self.fusion_width)

    @property
    def block_costs(self) -> tuple[float, ...]:
        """Estimated work of each of :attr:`blocks`, in amplitude-passes.

        ``on_block(i, total)`` and ``on_work`` report against these: weight the
        evolution's progress by ``sum(block_costs[:i]) / sum(block_costs)``
        rather than by ``i / total`` (see :func:`.fusion.block_cost`).
        """
        if self._costs is None:
            costs: list[float] = []
            kept: list[FusedGate] | None = []
            size = 0
            for b in iter_fuse(self._analysis.prefix, self.fusion_width):
                costs.append(block_cost(b, self.num_qubits))
                if kept is not None:
                    size += (b.matrix if b.diagonal is None else b.diagonal).nbytes
                    kept.append(b)
                    if size > BLOCK_CACHE_BYTES:
                        kept = None  # too many to keep: the evolution fuses as it goes
            self._blocks = kept
            self._costs = tuple(costs)
        return self._costs

    def _evolution_blocks(self) -> Iterable[FusedGate]:
        """Return the blocks to apply, in order: the kept ones, or a fusion again as it goes."""
        self.block_costs  # noqa: B018 - fuses once, keeping the blocks if they are small
        if self._blocks is not None:
            return self._blocks
        return iter_fuse(self._analysis.prefix, self.fusion_width)

    @property
    def evolution_work(self) -> float:
        """Estimated work of the one-off evolution (the sum of :attr:`block_costs`)."""
        return float(sum(self.block_costs))

    def release(self) -> None:
        """Drop the cached probabilities or prefix state (the next batch evolves again)."""
        with self._lock:
            self._probs = self._cdf = self._prefix_state = None

    def default_batch_size(self, shots: int) -> int:
        """Return the batch size used when none is given: about ten batches per run."""
        floor = _MIN_SAMPLE_BATCH if self.mode == "sample" else _MIN_TRAJECTORY_BATCH
        return max(1, min(shots, max(floor, -(-shots // _DEFAULT_BATCHES))))

    def batch_sizes(self, shots: int, batch_size: int | None = None) -> list[int]:
        """Shots of each batch of a run of ``shots`` (the last batch may be smaller)."""
        shots = validate_shots(shots)
        if batch_size is None:
            batch_size = self.default_batch_size(shots)
        else:
            try:
                batch_size = validate_shots(batch_size)
            except ShotsError as exc:
                raise ShotsError(
                    f"batch_size must be a positive integer, got {batch_size!r}"
                ) from exc
        full, last = divmod(shots, batch_size)
        return [batch_size] * full + ([last] if last else [])

    # -- evolution -------------------------------------------------------------

    def evolve(
        self,
        should_continue: Callable[[], bool] | None = None,
        on_block: Callable[[int, int], None] | None = None,
        on_work: Callable[[float, float], None] | None = None,
    ) -> None:
        """Do the one-off evolution (thread-safe; a no-op once done).

        Sample mode caches the outcome probabilities; trajectory mode caches
        the state after the unitary prefix. ``should_continue()`` is asked
        before each fused block and, on states of more than 2**22 amplitudes,
        between slices of a block (tens of milliseconds of work each): False
        raises :class:`Interrupted` and caches nothing, and a callback that
        blocks pauses the evolution there. ``on_block(done, total)`` is told
        after each block; ``on_work(done, total)`` after each block and slice,
        in the estimated work units of :attr:`block_costs`.
        """
        with self._lock:
            if self.evolved:
                return
            state = self._evolve_state(should_continue, on_block, on_work)
            if self.mode == "trajectory":
                self._prefix_state = state
                return
            self._probs, self._cdf = outcome_distribution(state, self._analysis.measured)

    def _evolve_state(
        self,
        should_continue: Callable[[], bool] | None,
        on_block: Callable[[int, int], None] | None,
        on_work: Callable[[float, float], None] | None = None,
    ) -> np.ndarray:
        costs = self.block_costs
        blocks = self._evolution_blocks()
        try:
            state = np.zeros(1 << self.num_qubits, dtype=dtype_of(self.precision))
        except MemoryError:  # memory went elsewhere since prepare() checked it
            raise ResourceError(
                f"cannot allocate the {self.num_qubits}-qubit statevector",
                needed_bytes=self.memory_bytes,
                available_bytes=available_memory(),
            ) from None
        state[0] = 1.0
        total, work = len(costs), float(sum(costs))
        done = 0.0
        with single_threaded_blas():
            for i, gate in enumerate(blocks):
                check_continue(should_continue)
                hook = _slice_hook(should_continue, on_work, done, costs[i], work)
                with yielding(hook):
                    apply_gate(state, gate)
                done += costs[i]
                if on_block is not None:
                    on_block(i + 1, total)
                if on_work is not None:
                    on_work(done, work)
        return state

    def statevector(
        self,
        should_continue: Callable[[], bool] | None = None,
        on_block: Callable[[int, int], None] | None = None,
        on_work: Callable[[float, float], None] | None = None,
    ) -> np.ndarray:
        """Evolve a fresh state and return it (sample mode only; final measurements are ignored)."""
        if self.mode != "sample":
            op = next(
                op
                for op in self._analysis.rest
                if op.name in ("measure", "reset") or op.condition is not None
            )
            what = "a conditioned gate" if op.condition is not None else f"a mid-circuit {op.name}"
            raise QmonError(
                f"the circuit has {what} (on qubit {op.qubits[0]}), so it has no single final "
                "statevector; run it with shots instead"
            )
        return self._evolve_state(should_continue, on_block, on_work)

    # -- batches ---------------------------------------------------------------

    def run_batch(
        self,
        index: int,
        shots: int,
        seed: int | None,
        should_continue: Callable[[], bool] | None = None,
    ) -> dict[str, int]:
        """Return the counts of batch ``index``: a pure function of the arguments.

        Evolves first if needed (see :meth:`evolve`).
        """
        return self.format_counts(self.run_batch_raw(index, shots, seed, should_continue))

    def run_batch_raw(
        self,
        index: int,
        shots: int,
        seed: int | None,
        should_continue: Callable[[], bool] | None = None,
    ) -> tuple[np.ndarray, np.ndarray] | Counter[int]:
        """Batch ``index`` before formatting, for callers that sum many batches.

        Sample mode: ``(outcome indices ascending, counts)`` as numpy arrays,
        indices below :attr:`num_outcomes`; trajectory mode: a ``Counter`` of
        clbit register values. Sum them, then call :meth:`format_counts` once.
        """
        shots = validate_shots(shots)
        seed = validate_seed(seed)
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or index < 0:
            raise QmonError(f"batch index must be a non-negative integer, got {index!r}")
        self.evolve(should_continue)
        rng = batch_rng(seed, int(index))
        if self.mode == "sample":
            assert self._cdf is not None
            return sample_outcomes(self._cdf, self._probs, shots, rng)
        return self._run_trajectories(shots, rng, should_continue)

    def format_counts(self, raw: tuple[np.ndarray, np.ndarray] | Counter[int]) -> dict[str, int]:
        """Return ``{bitstring: count}`` for a (summed) :meth:`run_batch_raw` result."""
        width = self._analysis.width
        if isinstance(raw, Counter):
            return {format(v, f"0{width}b") if width else "": c for v, c in raw.items()}
        outcomes, counts = raw
        keys = format_keys(outcomes, self._analysis.bit_map, width)
        return dict(zip(keys, counts.tolist(), strict=True))

    @property
    def num_outcomes(self) -> int | None:
        """Sample mode: how many outcome indices raw batches range over; else None."""
        if self.mode != "sample":
            return None
        return 1 << len(self._analysis.measured)

    def _run_trajectories(
        self,
        shots: int,
        rng: np.random.Generator,
        should_continue: Callable[[], bool] | None,
    ) -> Counter[int]:
        if self._steps is None:
            self._steps = build_steps(self._analysis.rest, self.fusion_width)
        assert self._prefix_state is not None
        with single_threaded_blas():
            return run_trajectories(self._prefix_state, self._steps, shots, rng, should_continue)
