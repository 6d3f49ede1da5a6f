"""numpy's OpenBLAS runs on one thread during a simulation, and is restored after."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from qmon_jupyter.engine import _blas, prepare

from .conftest import random_circuit

pytestmark = pytest.mark.skipif(not _blas.controllable(), reason="numpy does not use OpenBLAS")


def _getter():
    return _blas._openblas[1]


def test_blas_is_single_threaded_during_evolution_and_restored_after():
    before = _getter()()
    circuit, _ = random_circuit(np.random.default_rng(0), 8, 40)
    seen: list[int] = []
    prepare(circuit, fusion_width=2).evolve(on_block=lambda done, total: seen.append(_getter()()))
    assert seen
    assert set(seen) == {1}
    assert _getter()() == before


def test_concurrent_simulations_restore_the_count_once_all_have_finished():
    before = _getter()()
    barrier = threading.Barrier(2, timeout=30)
    errors: list[BaseException] = []

    def simulate(seed: int) -> None:
        try:
            circuit, _ = random_circuit(np.random.default_rng(seed), 8, 40)
            with _blas.single_threaded_blas():
                barrier.wait()
                prepare(circuit).evolve()
                assert _getter()() == 1
                barrier.wait()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=simulate, args=(s,)) for s in (1, 2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors
    assert _getter()() == before
