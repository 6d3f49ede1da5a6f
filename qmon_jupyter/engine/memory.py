"""Memory estimates and the pre-check made before any statevector is allocated."""

from __future__ import annotations

from qmon_jupyter.errors import ResourceError

from .statevector import BLOCK_AMPLITUDES, num_threads

__all__ = [
    "BRANCH_COPY_BUDGET",
    "MAX_QUBITS",
    "available_memory",
    "check_memory",
    "estimate_memory",
]

#: No statevector engine can hold more than this many qubits (2**48 amplitudes = 4 PiB).
MAX_QUBITS = 48

#: Bytes of state copies a trajectory batch keeps for pending sibling branches
#: (beyond it, a sibling replays from the cached prefix state instead).
BRANCH_COPY_BUDGET = 64 << 20

_AMPLITUDE = 16  # bytes of one complex128
_PROBABILITY = 8  # bytes of one float64


def estimate_memory(num_qubits: int, mode: str = "sample") -> int:
    """Peak bytes the engine allocates to simulate ``num_qubits`` qubits in ``mode``.

    ``"statevector"``: the state and the per-thread block buffers.
    ``"sample"``: the state, whose buffer then holds the outcome probabilities
    and their cumulative sums (see :func:`.sampling.outcome_distribution`).
    ``"trajectory"``: the state after the unitary prefix (kept for every shot),
    one working copy, and branch copies up to :data:`BRANCH_COPY_BUDGET`.
    """
    if num_qubits < 0:
        raise ValueError(f"num_qubits must be >= 0, got {num_qubits}")
    amplitudes = 1 << num_qubits
    scratch = num_threads() * 2 * _AMPLITUDE * min(amplitudes, BLOCK_AMPLITUDES)
    state = _AMPLITUDE * amplitudes
    if mode == "statevector":
        return state + scratch
    if mode == "sample":
        return state + _PROBABILITY * min(amplitudes, 1 << 16) + scratch
    if mode == "trajectory":
        return 2 * state + min(BRANCH_COPY_BUDGET, state * 8) + scratch
    raise ValueError(f"unknown mode {mode!r} (expected 'statevector', 'sample' or 'trajectory')")


def available_memory() -> int:
    """Bytes the operating system can give this process now (psutil's ``available``)."""
    import psutil

    return int(psutil.virtual_memory().available)


def check_memory(needed: int) -> None:
    """Raise :class:`~qmon_jupyter.ResourceError` if ``needed`` bytes are not available.

    Raises
    ------
    ResourceError
        Naming both the bytes needed and the bytes available.
    """
    available = available_memory()
    if needed > available:
        raise ResourceError(
            f"simulation needs {_human(needed)} ({needed} bytes) but only {_human(available)} "
            f"({available} bytes) of memory is available",
            needed_bytes=needed,
            available_bytes=available,
        )


def _human(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if value < 1024 or unit == "PiB":
            return f"{value:.1f} {unit}" if unit != "B" else f"{n} B"
        value /= 1024
    return f"{n} B"  # pragma: no cover
