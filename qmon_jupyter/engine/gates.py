"""Unitary matrices for every gate the circuit IR knows (``qelib1.inc`` semantics).

A gate on ``qubits=(a, b, ...)`` has ``a`` as the least significant bit of its
matrix index (Qiskit's convention). Controlled gates of ``qelib1.inc`` list
their controls first, so controls are the low bits of the index.

The relative-phase Toffolis ``rccx`` and ``rc3x`` are built from their
``qelib1.inc`` decompositions, so the engine means exactly what the standard
library (as shipped with Qiskit) says.
``rz`` is ``u1`` in ``qelib1.inc`` (it differs from Qiskit's ``RZGate`` only by
a global phase); ``u0`` and ``id`` are the identity.
"""

from __future__ import annotations

import cmath
import math
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from qmon_jupyter.circuits.ir import GATE_ARITY
from qmon_jupyter.errors import QmonError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

__all__ = ["apply_to_matrix", "compose", "embed", "gate_matrix", "is_diagonal"]

_I2 = np.eye(2, dtype=np.complex128)
_SQ = 1 / math.sqrt(2)


def _u3(theta: float, phi: float, lam: float) -> np.ndarray:
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    return np.array(
        [
            [c, -cmath.exp(1j * lam) * s],
            [cmath.exp(1j * phi) * s, cmath.exp(1j * (phi + lam)) * c],
        ],
        dtype=np.complex128,
    )


def _phase(lam: float) -> np.ndarray:
    return np.diag([1.0, cmath.exp(1j * lam)]).astype(np.complex128)


def _rx(theta: float) -> np.ndarray:
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    return np.array([[c, -1j * s], [-1j * s, c]], dtype=np.complex128)


def _ry(theta: float) -> np.ndarray:
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    return np.array([[c, -s], [s, c]], dtype=np.complex128)


def controlled(u: np.ndarray, num_controls: int) -> np.ndarray:
    """``u`` controlled on ``num_controls`` qubits that are the LOW bits of the index."""
    t = u.shape[0]
    c = 1 << num_controls
    m = np.eye(c * t, dtype=np.complex128)
    idx = (c - 1) + c * np.arange(t)  # all controls set, target index j in the high bits
    m[np.ix_(idx, idx)] = u
    return m


_FIXED_1Q: dict[str, np.ndarray] = {
    "id": _I2,
    "x": np.array([[0, 1], [1, 0]], dtype=np.complex128),
    "y": np.array([[0, -1j], [1j, 0]], dtype=np.complex128),
    "z": np.diag([1.0, -1.0]).astype(np.complex128),
    "h": np.array([[_SQ, _SQ], [_SQ, -_SQ]], dtype=np.complex128),
    "s": _phase(math.pi / 2),
    "sdg": _phase(-math.pi / 2),
    "t": _phase(math.pi / 4),
    "tdg": _phase(-math.pi / 4),
    "sx": 0.5 * np.array([[1 + 1j, 1 - 1j], [1 - 1j, 1 + 1j]], dtype=np.complex128),
    "sxdg": 0.5 * np.array([[1 - 1j, 1 + 1j], [1 + 1j, 1 - 1j]], dtype=np.complex128),
}

_PARAM_1Q: dict[str, Callable[..., np.ndarray]] = {
    "U": _u3,
    "u3": _u3,
    "u": _u3,
    "u2": lambda phi, lam: _u3(math.pi / 2, phi, lam),
    "u1": _phase,
    "p": _phase,
    "rz": _phase,
    "u0": lambda _gamma: _I2,
    "rx": _rx,
    "ry": _ry,
}


def _rxx(theta: float) -> np.ndarray:
    c, s = math.cos(theta / 2), math.sin(theta / 2)
    m = np.eye(4, dtype=np.complex128) * c
    for i in range(4):
        m[i, 3 - i] = -1j * s
    return m


def _rzz(theta: float) -> np.ndarray:
    a, b = cmath.exp(-0.5j * theta), cmath.exp(0.5j * theta)
    return np.diag([a, b, b, a]).astype(np.complex128)


def _swap() -> np.ndarray:
    return np.eye(4, dtype=np.complex128)[[0, 2, 1, 3]]


def _ctrl(name: str, *params: float) -> np.ndarray:
    return controlled(gate_matrix(name, params), 1)


_PARAM_MQ: dict[str, Callable[..., np.ndarray]] = {
    "CX": lambda: _ctrl("x"),
    "cx": lambda: _ctrl("x"),
    "cy": lambda: _ctrl("y"),
    "cz": lambda: _ctrl("z"),
    "ch": lambda: _ctrl("h"),
    "csx": lambda: _ctrl("sx"),
    "swap": _swap,
    "crx": lambda t: _ctrl("rx", t),
    "cry": lambda t: _ctrl("ry", t),
    # qelib1's crz is exactly Qiskit's CRZ: diag(e^{-i l/2}, e^{i l/2}) on the target
    "crz": lambda lam: controlled(np.diag([cmath.exp(-0.5j * lam), cmath.exp(0.5j * lam)]), 1),
    "cu1": lambda lam: _ctrl("u1", lam),
    "cp": lambda lam: _ctrl("u1", lam),
    "cu3": lambda th, ph, la: _ctrl("u3", th, ph, la),
    "cu": lambda th, ph, la, ga: controlled(cmath.exp(1j * ga) * _u3(th, ph, la), 1),
    "rxx": _rxx,
    "rzz": _rzz,
    "ccx": lambda: controlled(_FIXED_1Q["x"], 2),
    "cswap": lambda: controlled(_swap(), 1),
    "c3x": lambda: controlled(_FIXED_1Q["x"], 3),
    # Qiskit's qelib1.inc: the 3-controlled sqrt(X) (some old copies of the file
    # have the signs of its cu1 rotations flipped, which makes it sqrt(X)^dagger)
    "c3sqrtx": lambda: controlled(_FIXED_1Q["sx"], 3),
    "c4x": lambda: controlled(_FIXED_1Q["x"], 4),
}

# Decompositions copied from qelib1.inc, for the relative-phase gates whose
# phases are part of their meaning. Each entry: (number of qubits, [(name, params, qubits)]).
_H, _T, _TD = ("u2", (0.0, math.pi)), ("u1", (math.pi / 4,)), ("u1", (-math.pi / 4,))


def _cx(c: int, t: int) -> tuple[str, tuple[float, ...], tuple[int, ...]]:
    return ("cx", (), (c, t))


def _one(
    gate: tuple[str, tuple[float, ...]], q: int
) -> tuple[str, tuple[float, ...], tuple[int, ...]]:
    return (gate[0], gate[1], (q,))


_DECOMPOSED: dict[str, tuple[int, list[tuple[str, tuple[float, ...], tuple[int, ...]]]]] = {
    "rccx": (3, [_one(_H, 2), _one(_T, 2), _cx(1, 2), _one(_TD, 2), _cx(0, 2), _one(_T, 2),
                 _cx(1, 2), _one(_TD, 2), _one(_H, 2)]),
    "rc3x": (4, [_one(_H, 3), _one(_T, 3), _cx(2, 3), _one(_TD, 3), _one(_H, 3), _cx(0, 3),
                 _one(_T, 3), _cx(1, 3), _one(_TD, 3), _cx(0, 3), _one(_T, 3), _cx(1, 3),
                 _one(_TD, 3), _one(_H, 3), _one(_T, 3), _cx(2, 3), _one(_TD, 3), _one(_H, 3)]),
}  # fmt: skip


@lru_cache(maxsize=64)
def _fixed_matrix(name: str) -> np.ndarray:
    """Matrices of parameterless gates, built once (read-only)."""
    if name in _FIXED_1Q:
        m = _FIXED_1Q[name]
    elif name in _DECOMPOSED:
        n, ops = _DECOMPOSED[name]
        m = compose(n, ((gate_matrix(g, p), q) for g, p, q in ops))
    else:
        m = _PARAM_MQ[name]()
    m.setflags(write=False)
    return m


def gate_matrix(name: str, params: Sequence[float] = ()) -> np.ndarray:
    """Return the unitary of gate ``name`` with ``params`` (treat it as read-only).

    Raises
    ------
    QmonError
        For a gate the IR does not know or a wrong number of parameters.
    """
    arity = GATE_ARITY.get(name)
    if arity is None:
        raise QmonError(f"unknown gate {name!r}")
    if len(params) != arity[0]:
        raise QmonError(f"gate {name!r} takes {arity[0]} parameter(s), got {len(params)}")
    if not params:
        return _fixed_matrix(name)
    values = [float(p) for p in params]
    if name in _PARAM_1Q:
        return _PARAM_1Q[name](*values)
    return _PARAM_MQ[name](*values)


def is_diagonal(m: np.ndarray) -> bool:
    """Whether ``m`` is (exactly) diagonal."""
    return not np.any(m[~np.eye(m.shape[0], dtype=bool)])


def apply_to_matrix(
    m: np.ndarray, u: np.ndarray, qubits: Sequence[int], num_qubits: int
) -> np.ndarray:
    """``(u on qubits) @ m`` for a small ``m`` whose rows span ``num_qubits`` qubits."""
    k = len(qubits)
    cols = m.shape[1]
    t = m.reshape((2,) * num_qubits + (cols,))
    ut = u.reshape((2,) * (2 * k))
    # axis of qubit q in t is num_qubits-1-q; u's input axes are k..2k-1 for qubits[k-1..0]
    axes_in = [num_qubits - 1 - q for q in reversed(qubits)]
    out = np.tensordot(ut, t, axes=(list(range(k, 2 * k)), axes_in))
    # out axes: u's outputs (qubits[k-1], ..., qubits[0]) then the untouched axes in order
    out = np.moveaxis(out, list(range(k)), axes_in)
    return out.reshape(m.shape)


def compose(num_qubits: int, ops: Iterable[tuple[np.ndarray, Sequence[int]]]) -> np.ndarray:
    """Return the unitary of ``(matrix, local qubits)`` pairs applied in order."""
    m = np.eye(1 << num_qubits, dtype=np.complex128)
    for u, qubits in ops:
        m = apply_to_matrix(m, u, qubits, num_qubits)
    return m


@lru_cache(maxsize=4096)
def _embedding(positions: tuple[int, ...], num_qubits: int) -> tuple[np.ndarray, np.ndarray]:
    """Index tables of :func:`embed` (read-only): the nonzero entries, where in ``u`` each is."""
    d = 1 << num_qubits
    x = np.arange(d)
    local = np.zeros(d, dtype=np.intp)  # the gate's index of each row (or column) index
    for j, p in enumerate(positions):
        local |= ((x >> p) & 1) << j
    rest = x & ~sum(1 << p for p in positions)  # the bits the gate leaves alone
    nonzero = np.flatnonzero(rest[:, None] == rest[None, :])
    source = (local[:, None] * (1 << len(positions)) + local[None, :]).ravel()[nonzero]
    nonzero.setflags(write=False)
    source.setflags(write=False)
    return nonzero, source


def embed(u: np.ndarray, positions: Sequence[int], num_qubits: int) -> np.ndarray:
    """``u`` (on qubits ``positions``, the first its index LSB) as a ``num_qubits``-qubit unitary.

    Equal to ``apply_to_matrix(identity, u, positions, num_qubits)``, in a few
    numpy operations on cached index tables.
    """
    nonzero, source = _embedding(tuple(positions), num_qubits)
    d = 1 << num_qubits
    out = np.zeros(d * d, dtype=np.complex128)
    out[nonzero] = u.ravel()[source]
    return out.reshape(d, d)
