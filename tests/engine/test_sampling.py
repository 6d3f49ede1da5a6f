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


# Chi-square at a false-alarm rate of 1e-6 per case (fixed seeds: deterministic
# here; a correct sampler fails about once in a million seeds).
ALPHA = 1e-6


def _distribution(k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    probs = np.random.default_rng(seed).random(k) ** 4  # uneven, like Porter-Thomas
    probs[::7] = 0.0
    probs /= probs.sum()
    cdf = np.cumsum(probs)
    cdf[-1] = 1.0
    return probs, cdf


def _grouped_p_value(idx, counts, probs, groups: int) -> float:
    """p-value of the counts against ``probs``, consecutive outcomes pooled into ``groups`` bins."""
    from scipy.stats import chisquare

    observed = np.zeros(probs.size, dtype=np.int64)
    observed[idx] = counts
    shots = int(counts.sum())
    obs = observed.reshape(groups, -1).sum(axis=1)
    exp = probs.reshape(groups, -1).sum(axis=1) * shots
    return float(chisquare(obs, exp * (shots / exp.sum())).pvalue)


@pytest.mark.parametrize(
    ("k", "shots", "path"),
    [
        (1 << 16, 50_000, "sorted uniforms"),  # fewer shots than outcomes
        (1 << 12, 200_000, "multinomial"),  # at least as many
        (1 << 21, (1 << 20) + 12_345, "sorted uniforms in two chunks"),
    ],
)
def test_counts_follow_the_probabilities(k, shots, path):
    from qmon_jupyter.engine.sampling import sample_outcomes

    probs, cdf = _distribution(k, k)
    idx, counts = sample_outcomes(cdf, probs, shots, np.random.default_rng(5))
    assert counts.sum() == shots, path
    assert np.all(np.diff(idx) > 0), path
    assert not np.any(probs[idx] == 0.0), path
    assert _grouped_p_value(idx, counts, probs, 256) >= ALPHA, path
    # the test can fail: the same counts against a shifted distribution do
    assert _grouped_p_value(idx, counts, np.roll(probs, k // 512), 256) < ALPHA, path


def test_chunked_sampling_gives_the_counts_of_one_draw():
    # uniforms drawn in chunks (bounded memory) are the stream's consecutive
    # uniforms: the counts are those of locating them all at once
    from qmon_jupyter.engine.sampling import sample_outcomes

    probs, cdf = _distribution(1 << 21, 1)
    shots = (1 << 20) + 777
    idx, counts = sample_outcomes(cdf, probs, shots, np.random.default_rng(8))
    each = np.searchsorted(cdf, np.random.default_rng(8).random(shots), side="right")
    want_idx, want_counts = np.unique(each, return_counts=True)
    np.testing.assert_array_equal(idx, want_idx)
    np.testing.assert_array_equal(counts, want_counts)
