"""The counts a seed gives are part of the contract (DESIGN.md: reproducible seeds).

Digests of seeded runs taken from the engine as released: a change of the
random stream fails here and must be a documented, versioned change
(:data:`qmon_jupyter.engine.SEED_STREAM_VERSION`, bench/README.md).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from qmon_jupyter.circuits.ir import Circuit, Condition, Instruction
from qmon_jupyter.engine import SEED_STREAM_VERSION, run

from .conftest import random_circuit

# Stream version 3. Trajectory mode changed in version 2 (its digest in
# version 1 was 374231f3a938eeb0) and in version 3 (4558ab0c0d868eea in
# version 2: the final joint sample of a branch was a multinomial); sample
# mode with fewer shots than outcomes but at least an eighth of them changed
# in version 3 ("sample_fewer_shots": 5c0314dca11929f3 in versions 1-2, a
# multinomial then). See SEED_STREAM_VERSION.
DIGESTS = {
    "sample_multinomial": "df55ee02eca42440",
    "sample_fewer_shots": "8c2e17a6dcd5cebe",
    "sample_sorted": "8f60a108ebdd1812",
    "sample_subset": "ab774191ae1883a8",
    "trajectory": "6e3251371dbb6aad",
}


def _digest(counts: dict[str, int]) -> str:
    return hashlib.sha256(json.dumps(sorted(counts.items())).encode()).hexdigest()[:16]


def _base() -> Circuit:
    circuit, _ = random_circuit(np.random.default_rng(2024), 12, 150)
    return circuit


def _measured(qubits: tuple[int, ...]) -> Circuit:
    ops = tuple(Instruction("measure", (q,), clbits=(i,)) for i, q in enumerate(qubits))
    return Circuit(12, len(qubits), _base().instructions + ops)


def _dynamic() -> Circuit:
    i = Instruction
    ops = list(_base().instructions[:60])
    for r in range(20):
        ops.append(i("measure", (r % 12,), clbits=(r % 12,)))
        ops.append(i("reset", ((r + 3) % 12,)))
        ops.append(i("h", ((r + 3) % 12,)))
        ops.append(i("cx", ((r + 3) % 12, (r + 5) % 12)))
        ops.append(i("x", ((r + 7) % 12,), condition=Condition((r % 12,), 1)))
    ops.extend(i("measure", (q,), clbits=(q,)) for q in range(12))
    return Circuit(12, 12, tuple(ops))


CASES = {
    "sample_multinomial": lambda: run(_measured(tuple(range(12))), 100_000, seed=7),
    "sample_fewer_shots": lambda: run(_measured(tuple(range(12))), 2000, seed=7, batch_size=2000),
    "sample_sorted": lambda: run(_measured(tuple(range(12))), 300, seed=7),
    "sample_subset": lambda: run(_measured((2, 5, 9)), 5000, seed=3),
    "trajectory": lambda: run(_dynamic(), 2000, seed=11, batch_size=500),
}


def test_the_stream_version_is_the_one_these_digests_belong_to():
    assert SEED_STREAM_VERSION == 3


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_seed_gives_the_released_counts(name):
    assert _digest(CASES[name]()) == DIGESTS[name]
