"""Count keys and the sampling stream, against plain Python formatting."""

from __future__ import annotations

import numpy as np
import pytest

from qmon_jupyter.engine.sampling import format_keys


def _reference(outcome: int, bit_map, width: int) -> str:
    bits = ["0"] * width
    for j, c in bit_map:
        bits[width - 1 - c] = str((outcome >> j) & 1)
    return "".join(bits)


@pytest.mark.parametrize("width", [1, 2, 7, 8, 9, 16, 20, 31, 32, 33, 40, 64, 70])
@pytest.mark.parametrize("identity", [True, False])
def test_keys_match_python_formatting(width, identity):
    rng = np.random.default_rng(width)
    measured = min(width, 20)
    clbits = list(range(width))
    if not identity:
        rng.shuffle(clbits)
    bit_map = [(j, int(clbits[j])) for j in range(measured)]
    outcomes = np.unique(rng.integers(0, 1 << measured, 3000))
    keys = format_keys(outcomes, bit_map, width)
    assert keys == [_reference(int(v), bit_map, width) for v in outcomes]


def test_no_clbits_give_empty_keys():
    assert format_keys(np.arange(3), [], 0) == ["", "", ""]
