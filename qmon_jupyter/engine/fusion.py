"""Gate fusion: runs of gates become a few k-qubit unitaries.

Each pass over a large statevector costs a full trip through memory, so the
engine merges neighbouring gates into blocks acting on at most ``width``
qubits. Blocks stay open while later gates touch only their qubits; blocks on
disjoint qubits commute, so a gate that would make a block too wide closes
only the blocks it touches. A block whose unitary is diagonal is applied as a
broadcast multiply (no gather, no matmul).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .gates import compose, gate_matrix, is_diagonal

if TYPE_CHECKING:
    from collections.abc import Iterable

    from qmon_jupyter.circuits.ir import Instruction

__all__ = ["DEFAULT_WIDTH", "FusedGate", "fuse"]

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


@dataclass(slots=True)
class _Block:
    qubits: set[int]
    ops: list[Instruction] = field(default_factory=list)
    order: int = 0


def _emit(block: _Block) -> FusedGate:
    qubits = tuple(sorted(block.qubits))
    local = {q: i for i, q in enumerate(qubits)}
    m = compose(
        len(qubits),
        ((gate_matrix(op.name, op.params), [local[q] for q in op.qubits]) for op in block.ops),
    )
    if is_diagonal(m):
        return FusedGate(qubits, None, np.ascontiguousarray(np.diagonal(m)), len(block.ops))
    return FusedGate(qubits, m, None, len(block.ops))


def fuse(ops: Iterable[Instruction], width: int = DEFAULT_WIDTH) -> list[FusedGate]:
    """Fuse unitary, unconditioned ``ops`` (in circuit order) into blocks of ``<= width`` qubits.

    Gates wider than ``width`` become blocks of their own.
    """
    out: list[FusedGate] = []
    owner: dict[int, _Block] = {}  # qubit -> the open block holding it (open blocks are disjoint)
    for counter, op in enumerate(ops):
        qs = set(op.qubits)
        touching: list[_Block] = []
        for q in op.qubits:
            b = owner.get(q)
            if b is not None and all(b is not t for t in touching):
                touching.append(b)
        union = qs.union(*(b.qubits for b in touching))
        if len(union) <= width:
            touching.sort(key=lambda b: b.order)
            block = _Block(union, [o for b in touching for o in b.ops], counter)
            block.ops.append(op)
        else:
            for b in sorted(touching, key=lambda b: b.order):
                out.append(_emit(b))
                for q in b.qubits:
                    del owner[q]
            block = _Block(qs, [op], counter)
        for q in block.qubits:
            owner[q] = block
    remaining = {id(b): b for b in owner.values()}
    out.extend(_emit(b) for b in sorted(remaining.values(), key=lambda b: b.order))
    return out
