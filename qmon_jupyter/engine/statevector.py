"""In-place application of k-qubit unitaries to a complex64 or complex128 statevector.

The state is viewed (without copying) as a multi-dimensional array whose axes
are the target qubits and the runs of untouched qubits between them. It is
processed in blocks of about :data:`BLOCK_AMPLITUDES` amplitudes: a block's
amplitudes are gathered into a small contiguous buffer with the targets first,
multiplied by the gate with one BLAS ``matmul``, and scattered back. Buffers
stay in cache and temporaries stay small whatever the size of the state, and
blocks are shared among a few threads (numpy releases the GIL for copies and
BLAS calls). Diagonal gates are a broadcast multiply, with no buffer at all.
Gates arrive in complex128 and are cast to the state's type (single precision
multiplies in complex64 BLAS); the state is never copied whole.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from itertools import product
from typing import TYPE_CHECKING

import numpy as np

from ._blas import controllable
from .gates import apply_to_matrix

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

__all__ = [
    "BLOCK_AMPLITUDES",
    "apply_diagonal",
    "apply_unitary",
    "num_threads",
    "release_buffers",
    "yielding",
]

#: Amplitudes per block (2**15 amplitudes = 512 KiB of complex128: a block and
#: its result buffer fit a core's 1 MiB L2; 2**16 and 2**17 were no faster).
BLOCK_AMPLITUDES = 1 << 15

# A gate whose targets fit in a window of at most this many consecutive bits
# (and at most _WINDOW_SLACK bits wider than the gate: each extra bit doubles
# the multiply-adds) is applied on that window as one GEMM per slice of the
# state, with no gather: rows when the window is at the bottom, columns when
# at least 2**_MIN_COLUMN_BITS contiguous amplitudes lie under it.
_WINDOW_BITS = 5
_WINDOW_SLACK = 2
_MIN_COLUMN_BITS = 12

# Diagonal gates are expanded over this many low qubits (rows of 2**12 amplitudes).
_DIAG_LOW_BITS = 12

# Below this many amplitudes a state is processed by the calling thread only.
_PARALLEL_MIN = 1 << 17

# With a yield hook set (see yielding()), a gate on a larger state is applied
# in slices of about this many amplitudes, the hook called between them: at
# 30 qubits a pass over the state takes seconds, a slice some tens of ms.
_YIELD_AMPLITUDES = 1 << 22

_hook = threading.local()  # the calling thread's yield hook (see yielding())

_pool_lock = threading.Lock()  # guards the creation of _pool
_pool: ThreadPoolExecutor | None = None
_local = threading.local()  # per-thread scratch buffers (two of BLOCK_AMPLITUDES per dtype)


@lru_cache(maxsize=1)
def num_threads() -> int:
    """Threads used for one large state (``QMON_ENGINE_THREADS`` or the CPU count).

    One when numpy's BLAS threads cannot be held at one (see :mod:`._blas`).
    Read once per process.
    """
    if not controllable():
        return 1
    env = os.environ.get("QMON_ENGINE_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    return max(
        1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    )


_pool_pid = 0  # the process that created _pool (threads do not survive a fork)


def _get_pool() -> ThreadPoolExecutor:
    global _pool, _pool_pid  # noqa: PLW0603 - one pool per process, created on first use
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool = ThreadPoolExecutor(
                max_workers=num_threads(),
                thread_name_prefix="qmon-engine",
            )
            _pool_pid = os.getpid()
        return _pool


_generation = 0  # bumped by release_buffers(): threads then drop their scratch


def release_buffers() -> None:
    """Let every thread drop its scratch buffers (each reallocates on its next block)."""
    global _generation  # noqa: PLW0603 - a process-wide counter
    _generation += 1


def _scratch(size: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    if getattr(_local, "generation", None) != _generation:
        _local.bufs = {}  # free every old pair
        _local.generation = _generation
    key = dtype.char
    bufs = _local.bufs.get(key)
    if bufs is None or bufs[0].size < size:
        _local.bufs[key] = None  # free the old pair before allocating the new one
        bufs = (np.empty(size, dtype), np.empty(size, dtype))
        _local.bufs[key] = bufs
    return bufs[0][:size], bufs[1][:size]


@dataclass(frozen=True, slots=True)
class _Layout:
    shape: tuple[int, ...]  # of the state, most significant axis first
    order: tuple[int, ...]  # outer axes, then target axes, then inner axes
    block_shape: tuple[int, ...]  # (2,) * k + the inner axes
    inner: int  # amplitudes of a block per target index
    indices: tuple[tuple[int, ...], ...]  # one per block: its index on the outer axes


@lru_cache(maxsize=4096)
def _block_layout(num_qubits: int, targets: tuple[int, ...]) -> _Layout:
    k = len(targets)
    shape, t_axes, o_axes, i_axes = _layout(num_qubits, targets, max(1, BLOCK_AMPLITUDES >> k))
    inner_shape = tuple(shape[a] for a in i_axes)
    inner = 1
    for s in inner_shape:
        inner *= s
    indices = tuple(product(*(range(shape[a]) for a in o_axes)))
    return _Layout(
        tuple(shape), tuple(o_axes + t_axes + i_axes), (2,) * k + inner_shape, inner, indices
    )


def _layout(
    num_qubits: int, targets: Sequence[int], inner_target: int
) -> tuple[list[int], list[int], list[int], list[int]]:
    """Axes of the state for a gate on sorted ``targets``.

    Returns the shape (most significant axis first), the target axes (highest
    target first, so that flattening them gives the gate's index), the outer
    (iterated) axes and the inner (in-block) non-target axes. Inner non-target
    amplitudes number at most ``inner_target``; an axis is split to get there.
    """
    groups: list[tuple[str, int]] = []  # ("t", 2) or ("n", size), most significant first
    prev = num_qubits
    for t in reversed(targets):
        gap = prev - t - 1
        if gap:
            groups.append(("n", gap))
        groups.append(("t", 1))
        prev = t
    if prev:
        groups.append(("n", prev))
    # walk non-target groups from the least significant up, splitting one if needed
    room = max(0, inner_target.bit_length() - 1)  # bits of non-target inside a block
    split: list[tuple[str, int]] = []
    for kind, bits in reversed(groups):
        if kind == "t":
            split.append(("t", bits))
        elif room >= bits:
            split.append(("i", bits))
            room -= bits
        elif room > 0:
            split.append(("i", room))
            split.append(("o", bits - room))
            room = 0
        else:
            split.append(("o", bits))
    split.reverse()
    shape = [1 << bits for _, bits in split]
    target_axes = [i for i, (kind, _) in enumerate(split) if kind == "t"]
    outer_axes = [i for i, (kind, _) in enumerate(split) if kind == "o"]
    inner_axes = [i for i, (kind, _) in enumerate(split) if kind == "i"]
    return shape, target_axes, outer_axes, inner_axes


def apply_unitary(state: np.ndarray, u: np.ndarray, targets: Sequence[int]) -> None:
    """Apply ``u`` to ``state`` in place; ``targets`` ascending, ``targets[0]`` = index LSB."""
    layout = _block_layout(state.size.bit_length() - 1, tuple(targets))
    view = state.reshape(layout.shape).transpose(layout.order)
    dtype = state.dtype
    dim = u.shape[0]
    inner, block_shape = layout.inner, layout.block_shape
    if len(layout.indices) == 1:  # a small state: one block, no thread hand-off
        a, b = _scratch(dim * inner, dtype)
        np.copyto(a.reshape(block_shape), view[()])
        np.matmul(u.astype(dtype, copy=False), a.reshape(dim, inner), out=b.reshape(dim, inner))
        np.copyto(view[()], b.reshape(block_shape))
        return
    lo, hi = targets[0], targets[-1]
    limit = min(_WINDOW_BITS, len(targets) + _WINDOW_SLACK)
    if hi + 1 <= limit:  # the gate lives in the lowest bits: rows @ window.T
        _apply_rows(state, _window(u, targets, 0, hi + 1).astype(dtype, copy=False))
        return
    if hi - lo + 1 <= limit and lo >= _MIN_COLUMN_BITS:  # consecutive bits: window @ columns
        _apply_columns(state, _window(u, targets, lo, hi - lo + 1).astype(dtype, copy=False), lo)
        return
    u = u.astype(dtype, copy=False)

    def work(chunk: Sequence[tuple[int, ...]]) -> None:
        a, b = _scratch(dim * inner, dtype)
        a2 = a.reshape(dim, inner)
        b2 = b.reshape(dim, inner)
        av = a.reshape(block_shape)
        bv = b.reshape(block_shape)
        for idx in chunk:
            src = view[idx]
            np.copyto(av, src)
            np.matmul(u, a2, out=b2)
            np.copyto(src, bv)

    _run_blocks(work, layout.indices, state.size)


def _window(u: np.ndarray, targets: Sequence[int], lo: int, width: int) -> np.ndarray:
    """``u`` as a unitary on the ``width`` consecutive bits from ``lo`` (identity elsewhere)."""
    eye = np.eye(1 << width, dtype=np.complex128)
    return apply_to_matrix(eye, u, [t - lo for t in targets], width)


def _apply_rows(state: np.ndarray, m: np.ndarray) -> None:
    """Apply ``m`` on the lowest bits: each row of ``state.reshape(-1, d)`` becomes ``m @ row``."""
    d = m.shape[0]
    rows = state.reshape(-1, d)
    mt = np.ascontiguousarray(m.T)
    step = max(1, BLOCK_AMPLITUDES // d)

    def work(chunk: Sequence[int]) -> None:
        buf, _ = _scratch(step * d, state.dtype)
        for a in chunk:
            src = rows[a : a + step]
            out = buf[: src.size].reshape(src.shape)
            np.matmul(src, mt, out=out)
            np.copyto(src, out)

    _run_blocks(work, range(0, rows.shape[0], step), state.size)


def _apply_columns(state: np.ndarray, m: np.ndarray, lo: int) -> None:
    """Apply ``m`` on consecutive bits from ``lo``: ``m @ view[h, :, columns]`` in place."""
    d = m.shape[0]
    low = 1 << lo
    view = state.reshape(-1, d, low)
    cols = max(1, min(low, BLOCK_AMPLITUDES // d))
    tasks = [(h, c) for h in range(view.shape[0]) for c in range(0, low, cols)]

    def work(chunk: Sequence[tuple[int, int]]) -> None:
        buf, _ = _scratch(d * cols, state.dtype)
        out = buf.reshape(d, cols)
        for h, c in chunk:
            src = view[h, :, c : c + cols]
            np.matmul(m, src, out=out)
            np.copyto(src, out)

    _run_blocks(work, tasks, state.size)


def apply_diagonal(state: np.ndarray, diag: np.ndarray, targets: Sequence[int]) -> None:
    """Multiply ``state`` in place by the diagonal gate ``diag`` on ascending ``targets``.

    The diagonal is expanded over the lowest :data:`_DIAG_LOW_BITS` qubits, so
    that the broadcast multiply runs over long contiguous rows.
    """
    n = state.size.bit_length() - 1
    low = min(n, _DIAG_LOW_BITS)
    x = np.arange(1 << low)
    low_index = np.zeros(1 << low, dtype=np.intp)
    high = []  # (target, bit of the diagonal's index), highest target first
    for j, t in enumerate(targets):
        if t < low:
            low_index |= ((x >> t) & 1) << j
        else:
            high.insert(0, (t, j))
    # pattern[h_1, ..., h_m, x]: the diagonal for high-target bits h and low index x
    combos = np.zeros((2,) * len(high), dtype=np.intp)
    for axis, (_, j) in enumerate(high):
        shape = [1] * len(high)
        shape[axis] = 2
        combos = combos | (np.arange(2).reshape(shape) << j)
    pattern = diag.astype(state.dtype, copy=False)[combos[..., None] + low_index]
    # the state: (gap, 2, gap, 2, ..., gap, 2**low) from the most significant bit down
    view_shape: list[int] = []
    pattern_shape: list[int] = []
    prev = n
    for t, _ in high:
        view_shape += [1 << (prev - t - 1), 2]
        pattern_shape += [1, 2]
        prev = t
    view_shape += [1 << (prev - low), 1 << low]
    pattern_shape += [1, 1 << low]
    view = state.reshape(view_shape)
    pattern = pattern.reshape(pattern_shape)
    rows = view_shape[0]
    if rows == 1 and len(view_shape) > 2:  # the top qubit is a target: split along it
        view, pattern = view[0], pattern[0]
        rows = view_shape[1]

    def work(chunk: Sequence[int]) -> None:
        for i in chunk:
            block = view[i]
            np.multiply(block, pattern[min(i, pattern.shape[0] - 1)], out=block)

    _run_blocks(work, list(range(rows)), state.size)


@contextmanager
def yielding(hook: Callable[[float], None] | None) -> Iterator[None]:
    """Call ``hook(fraction of the gate done)`` between slices of each gate applied here.

    Only gates on states of more than :data:`_YIELD_AMPLITUDES` amplitudes are
    sliced, and only in the calling thread. ``hook`` may raise (for example
    :class:`~qmon_jupyter.engine.Interrupted`): every slice already started has
    finished by then, so the state is a partly applied gate, never a torn write.
    """
    previous = getattr(_hook, "hook", None)
    _hook.hook = hook
    try:
        yield
    finally:
        _hook.hook = previous


def _run_blocks(work: object, indices: Sequence[object], size: int) -> None:
    hook = getattr(_hook, "hook", None)
    if hook is None or size <= _YIELD_AMPLITUDES or len(indices) < 2:
        _run_slice(work, indices, size)
        return
    per = max(1, len(indices) * _YIELD_AMPLITUDES // size)
    for start in range(0, len(indices), per):
        _run_slice(work, indices[start : start + per], size)
        hook(min(1.0, (start + per) / len(indices)))


def _run_slice(work: object, indices: Sequence[object], size: int) -> None:
    threads = num_threads()
    if threads == 1 or size < _PARALLEL_MIN or len(indices) < 2:
        work(indices)  # type: ignore[operator]
        return
    step = -(-len(indices) // threads)
    pool = _get_pool()
    futures = [pool.submit(work, indices[i : i + step]) for i in range(0, len(indices), step)]  # type: ignore[arg-type]
    for f in futures:
        f.result()
