"""Gate fusion: runs of gates become a few k-qubit unitaries.

Each pass over a large statevector costs a full trip through memory, so the
engine merges neighbouring gates into blocks acting on at most ``width``
qubits. Blocks stay open while later gates touch only their qubits; blocks on
disjoint qubits commute, so a gate that would make a block too wide closes
only the blocks it touches. A block whose unitary is diagonal is applied as a
broadcast multiply (no gather, no matmul).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from .gates import embed, gate_matrix, is_diagonal

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from qmon_jupyter.circuits.ir import Instruction

__all__ = ["DEFAULT_WIDTH", "FusedGate", "Fuser", "block_cost", "fuse", "iter_fuse", "product"]

#: Default maximum number of qubits of a fused block.
DEFAULT_WIDTH = 5


@dataclass(frozen=True, slots=True)
class FusedGate:
    """A unitary on ascending ``qubits`` (``qubits[0]`` = least significant index bit).

    ``diagonal`` holds the diagonal when the unitary is diagonal (then
    ``matrix`` is ``None``), else ``matrix`` holds the full unitary.
    """

    qubits: tuple[int, ...]
    matrix: np.ndarray | None
    diagonal: np.ndarray | None
    num_gates: int


# Estimated work of a block per amplitude, in units of one streaming pass over
# the state: a diagonal is one multiply pass; a dense k-qubit block reads and
# writes the state (gathered, or strided in place) and does 2**k complex
# multiply-adds per amplitude, about _MAC_PER_PASS of which cost one pass.
_DENSE_PASSES = 2.0
_MAC_PER_PASS = 8.0


def block_cost(gate: FusedGate, num_qubits: int) -> float:
    """Estimated work of applying ``gate`` to a ``num_qubits``-qubit state.

    In amplitude-passes (one streaming pass over ``2**num_qubits``
    amplitudes = ``2**num_qubits``): comparable between blocks of one plan and
    between plans, proportional to time on one machine. The job layer weights
    progress by it (see :attr:`~qmon_jupyter.engine.SimulationPlan.block_costs`).
    """
    amplitudes = float(1 << num_qubits)
    if gate.diagonal is not None:
        return amplitudes
    return amplitudes * (_DENSE_PASSES + (1 << len(gate.qubits)) / _MAC_PER_PASS)


# A finished block's matrix is the product of its gates embedded in its own
# qubits: a balanced tree of batched matmuls (no Python loop per product), in
# chunks of about this many matrix entries (bounded temporaries).
_CHUNK_ENTRIES = 1 << 16
_SEQUENTIAL = 8


@dataclass(slots=True)
class _Block:
    qubits: set[int]
    ops: list[Instruction]  # in an order that keeps each qubit's gates in circuit order
    order: int


@lru_cache(maxsize=4096)
def _embedded_fixed(name: str, positions: tuple[int, ...], k: int) -> np.ndarray:
    m = embed(gate_matrix(name), positions, k)
    m.setflags(write=False)
    return m


def product(mats: list[np.ndarray]) -> np.ndarray:
    """Return ``mats[-1] @ ... @ mats[0]`` (same-shape square matrices) as a new array.

    A few matrices are multiplied one by one; many in a balanced tree of
    batched matmuls (a numpy call per level, not per product).
    """
    if len(mats) <= _SEQUENTIAL:
        m = mats[0].copy()
        for x in mats[1:]:
            m = x @ m
        return m
    a = np.stack(mats)
    later: list[np.ndarray] = []  # unpaired last matrices, each applied after the ones before
    while len(a) > _SEQUENTIAL:
        if len(a) % 2:
            later.append(a[-1])
            a = a[:-1]
        a = np.matmul(a[1::2], a[0::2])
    m = a[0]
    for x in a[1:]:
        m = x @ m
    for x in reversed(later):
        m = x @ m
    return m


def _matrix(qubits: tuple[int, ...], ops: list[Instruction]) -> np.ndarray:
    """Return the unitary of ``ops`` on ascending ``qubits`` (the first is its index LSB)."""
    pos = {q: i for i, q in enumerate(qubits)}
    k = len(qubits)
    chunk = max(2, _CHUNK_ENTRIES >> (2 * k))
    mats: list[np.ndarray] = []
    for op in ops:
        positions = tuple([pos[q] for q in op.qubits])
        if op.params:
            mats.append(embed(gate_matrix(op.name, op.params), positions, k))
        else:
            mats.append(_embedded_fixed(op.name, positions, k))
        if len(mats) > chunk:
            mats = [product(mats)]
    return product(mats)


def _merged(blocks: list[_Block], qubits: set[int], order: int) -> _Block:
    """Return one block on ``qubits`` with the gates of ``blocks``, reusing the largest one.

    Open blocks are disjoint, so they commute: the others' gates go after the
    largest one's, in place (small lists into the large: linear overall).
    """
    block = max(blocks, key=lambda b: len(b.ops), default=None)
    if block is None:
        return _Block(qubits, [], order)
    for b in blocks:
        if b is not block:
            block.ops.extend(b.ops)
    block.qubits = qubits
    block.order = order
    return block


def _emit(block: _Block) -> FusedGate:
    qubits = tuple(sorted(block.qubits))
    m = _matrix(qubits, block.ops)
    if is_diagonal(m):
        return FusedGate(qubits, None, np.ascontiguousarray(np.diagonal(m)), len(block.ops))
    return FusedGate(qubits, m, None, len(block.ops))


class Fuser:
    """A fusion in progress: gates go in one by one, finished blocks come out.

    Blocks on disjoint qubits commute, so a measurement, reset or conditioned
    gate needs only the blocks on *its* qubits to be finished before it
    (:meth:`close`); the others stay open across it and keep growing. Every
    segment between measurements and resets is fused once per circuit this
    way, and a reset does not cut the fusion of the qubits it leaves alone.
    """

    def __init__(self, width: int = DEFAULT_WIDTH) -> None:
        self.width = width
        self._owner: dict[int, _Block] = {}  # qubit -> its open block (open blocks are disjoint)
        self._counter = 0

    def add(self, op: Instruction) -> list[FusedGate]:
        """Take a unitary, unconditioned gate; return the blocks it finished (in order)."""
        owner = self._owner
        order = self._counter
        self._counter += 1
        qubits = op.qubits
        first = owner.get(qubits[0])
        if first is not None and all(owner.get(q) is first for q in qubits[1:]):
            first.ops.append(op)  # inside one open block: in place
            first.order = order
            return []
        touching: list[_Block] = []
        for q in qubits:
            b = owner.get(q)
            if b is not None and all(b is not t for t in touching):
                touching.append(b)
        union = set(qubits).union(*(b.qubits for b in touching))
        out: list[FusedGate] = []
        if len(union) <= self.width:
            block = _merged(touching, union, order)
            block.ops.append(op)
        else:
            touching.sort(key=lambda b: b.order)
            for b in touching:
                out.append(_emit(b))
                for q in b.qubits:
                    del owner[q]
            block = _Block(set(qubits), [op], order)
        for q in block.qubits:
            owner[q] = block
        return out

    def close(self, qubits: Iterable[int] | None = None) -> list[FusedGate]:
        """Finish the open blocks on ``qubits`` (every open block if None), oldest first."""
        if qubits is None:
            blocks = {id(b): b for b in self._owner.values()}
        else:
            blocks = {id(b): b for q in qubits if (b := self._owner.get(q)) is not None}
        out = []
        for b in sorted(blocks.values(), key=lambda b: b.order):
            out.append(_emit(b))
            for q in b.qubits:
                del self._owner[q]
        return out


def iter_fuse(ops: Iterable[Instruction], width: int = DEFAULT_WIDTH) -> Iterator[FusedGate]:
    """Yield the blocks of :func:`fuse` one by one, as they are finished."""
    fuser = Fuser(width)
    add = fuser.add
    for op in ops:
        done = add(op)
        if done:
            yield from done
    yield from fuser.close()


def fuse(ops: Iterable[Instruction], width: int = DEFAULT_WIDTH) -> list[FusedGate]:
    """Fuse unitary, unconditioned ``ops`` (in circuit order) into blocks of ``<= width`` qubits.

    Gates wider than ``width`` become blocks of their own.
    """
    return list(iter_fuse(ops, width))
