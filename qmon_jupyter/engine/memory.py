"""Memory estimates and the pre-check made before any statevector is allocated."""

from __future__ import annotations

from qmon_jupyter.errors import ResourceError
from qmon_jupyter.limits import memory_status

from ._errors import dtype_of, validate_precision
from .statevector import BLOCK_AMPLITUDES, num_threads

__all__ = [
    "BRANCH_COPY_BUDGET",
    "MAX_QUBITS",
    "available_memory",
    "branch_copy_budget",
    "check_memory",
    "check_qubits",
    "estimate_memory",
]

#: The most qubits the engine simulates (2**30 amplitudes: 8 GiB in single
#: precision, 16 GiB in double). Its index arithmetic, memory layouts and
#: pre-checks are tested up to here; beyond it no plan is made.
MAX_QUBITS = 30

#: Bytes of state copies a trajectory batch may keep for pending sibling
#: branches when states are small (see :func:`branch_copy_budget`).
BRANCH_COPY_BUDGET = 64 << 20

_PROBABILITY = 8  # bytes of one float64


def branch_copy_budget(state_bytes: int) -> int:
    """Bytes of branch copies a trajectory batch may hold beside its two states.

    Small states share :data:`BRANCH_COPY_BUDGET`; from 1/16 of it up, one
    copy only, so a batch never holds more than three states whatever the
    number of branches (a sibling without a copy replays from the prefix).
    """
    if state_bytes * 16 <= BRANCH_COPY_BUDGET:
        return BRANCH_COPY_BUDGET
    return min(state_bytes, BRANCH_COPY_BUDGET) if BRANCH_COPY_BUDGET else 0


def estimate_memory(num_qubits: int, mode: str = "sample", precision: str = "double") -> int:
    """Peak bytes the engine allocates to simulate ``num_qubits`` qubits in ``mode``.

    ``"statevector"``: the state and the per-thread block buffers.
    ``"sample"``: the state, whose buffer then holds the outcome probabilities
    and their cumulative sums (see :func:`.sampling.outcome_distribution`).
    ``"trajectory"``: the state after the unitary prefix (kept for every shot),
    one working copy, branch copies up to :func:`branch_copy_budget`, and
    smaller temporaries (measured: 3.03 states at 20 qubits with the block
    buffers allocated before, 3.08 at 18; the final sample of a branch is
    drawn in the working state's own buffer).
    ``precision`` (``"single"`` or ``"double"``) sets the bytes of an amplitude.
    """
    if num_qubits < 0:
        raise ValueError(f"num_qubits must be >= 0, got {num_qubits}")
    amplitude = dtype_of(validate_precision(precision)).itemsize
    amplitudes = 1 << num_qubits
    scratch = num_threads() * 2 * amplitude * min(amplitudes, BLOCK_AMPLITUDES)
    state = amplitude * amplitudes
    if mode == "statevector":
        return state + scratch
    if mode == "sample":
        return state + _PROBABILITY * min(amplitudes, 1 << 16) + scratch
    if mode == "trajectory":
        # + chunked copies and sums (1/64 state each), expanded diagonals (<= 3 MiB)
        return 2 * state + branch_copy_budget(state) + state // 8 + min(state, 3 << 20) + scratch
    raise ValueError(f"unknown mode {mode!r} (expected 'statevector', 'sample' or 'trajectory')")


def available_memory() -> int:
    """Bytes this process can allocate now: the container's limit less its use, else the host's.

    See :func:`qmon_jupyter.limits.memory_status` (cgroup v2/v1, ``MEM_LIMIT``, host).
    """
    return memory_status().available


def check_qubits(num_qubits: int, mode: str = "sample", precision: str = "double") -> None:
    """Refuse more than :data:`MAX_QUBITS` qubits, before anything is allocated.

    Raises
    ------
    ResourceError
        Naming the qubits asked for and the most the engine simulates, and the
        bytes it would need against the bytes available.
    """
    if num_qubits <= MAX_QUBITS:
        return
    needed = estimate_memory(num_qubits, mode, precision)
    available = available_memory()
    raise ResourceError(
        f"{num_qubits} qubits is more than a statevector engine can hold here (at most "
        f"{MAX_QUBITS} qubits); in {precision} precision it would need {_human(needed)} "
        f"({needed} bytes), and {_human(available)} ({available} bytes) of memory is available",
        needed_bytes=needed,
        available_bytes=available,
    )


def check_memory(needed: int) -> None:
    """Raise :class:`~qmon_jupyter.ResourceError` if ``needed`` bytes are not available.

    Raises
    ------
    ResourceError
        Naming both the bytes needed and the bytes available.
    """
    available = available_memory()
    if needed > available:
        source = memory_status().source
        where = "" if source == "host" else f" under the {source} memory limit"
        raise ResourceError(
            f"simulation needs {_human(needed)} ({needed} bytes) but only {_human(available)} "
            f"({available} bytes) of memory is available{where}",
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
