"""Keep numpy's OpenBLAS on one thread while the engine runs its own threads.

Each block of the engine is a small GEMM. OpenBLAS would spread it over its
own threads, which hand work off to each other thousands of times per gate:
on a busy machine every hand-off waits for a scheduler slot, and one gate
takes a hundred times longer. The engine already shares blocks among its own
threads, so BLAS runs single-threaded while any simulation is running.

OpenBLAS's thread count is process-wide (``openblas_set_num_threads_local``
is too, despite its name), so it is reference-counted: the first simulation
to start saves the count and sets 1, the last one to finish restores it.
Other numpy code in the process runs single-threaded BLAS meanwhile. Without
OpenBLAS (MKL, Accelerate), nothing is changed and the engine uses one thread
of its own (see :func:`controllable`).
"""

from __future__ import annotations

import ctypes
import threading
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

__all__ = ["controllable", "single_threaded_blas"]

# (setter, getter) names, most specific first: numpy wheels ship scipy-openblas
_SYMBOLS = (
    ("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
    ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
    ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
    ("openblas_set_num_threads", "openblas_get_num_threads"),
)


def _find_openblas() -> tuple[Callable[[int], None], Callable[[], int]] | None:
    """Return the thread setter and getter of the OpenBLAS numpy loaded, if any."""
    import numpy as np  # noqa: F401 - numpy must be loaded for its BLAS to be mapped

    paths: list[str] = []
    try:
        with open("/proc/self/maps", encoding="utf-8") as maps:  # noqa: PTH123 - a proc file
            for line in maps:
                path = line.split()[-1] if "/" in line else ""
                if "openblas" in path.rsplit("/", 1)[-1].lower() and path not in paths:
                    paths.append(path)
    except OSError:
        return None
    paths.sort(key=lambda p: "numpy" not in p)  # numpy's own copy first
    for path in paths:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for set_name, get_name in _SYMBOLS:
            setter = getattr(lib, set_name, None)
            getter = getattr(lib, get_name, None)
            if setter is not None and getter is not None:
                setter.argtypes = [ctypes.c_int]
                setter.restype = None
                getter.argtypes = []
                getter.restype = ctypes.c_int
                return setter, getter
    return None


_openblas = _find_openblas()
_lock = threading.Lock()  # guards _users and _saved
_users = 0  # simulations running now
_saved: int | None = None  # OpenBLAS's thread count before the first of them


def controllable() -> bool:
    """Whether the BLAS thread count can be held at one during a simulation."""
    return _openblas is not None


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Hold OpenBLAS at one thread while the block runs (nested and concurrent uses nest)."""
    global _users, _saved  # noqa: PLW0603 - process-wide by nature, see the module docstring
    if _openblas is None:
        yield
        return
    setter, getter = _openblas
    with _lock:
        if _users == 0:
            _saved = getter()
            if _saved != 1:
                setter(1)
        _users += 1
    try:
        yield
    finally:
        with _lock:
            _users -= 1
            if _users == 0 and _saved is not None and _saved != 1:
                setter(_saved)
