"""Counts agree with exact probabilities (or with Aer for mid-circuit measurement).

Each comparison is a chi-square test at a false-alarm rate of 1e-6 per
program, with fixed seeds: a correct engine fails it about once in a
million runs, so with these seeds the test is deterministic; a wrong
distribution (a swapped bit, a wrong gate) fails it by many orders of
magnitude.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from qmon_jupyter.engine import prepare, run

from .conftest import corpus_programs, qiskit_circuit

ALPHA = 1e-6
SHOTS = 8192


def _chi2_goodness(counts: dict[str, int], expected: dict[str, float], shots: int) -> float:
    from scipy.stats import chi2

    impossible = [k for k in counts if expected.get(k, 0.0) < 1e-12]
    assert not impossible, f"outcomes with probability 0 were drawn: {impossible[:5]}"
    big = {k: p * shots for k, p in expected.items() if p * shots >= 5}
    small = shots - sum(big.values())
    stat = sum((counts.get(k, 0) - e) ** 2 / e for k, e in big.items())
    bins = len(big)
    observed_small = shots - sum(counts.get(k, 0) for k in big)
    if small >= 1:
        stat += (observed_small - small) ** 2 / small
        bins += 1
    if bins < 2:
        return 1.0
    return float(chi2.sf(stat, bins - 1))


def _chi2_two_sample(a: dict[str, int], b: dict[str, int]) -> float:
    from scipy.stats import chi2_contingency

    keys = sorted(set(a) | set(b))
    table = np.array([[a.get(k, 0) for k in keys], [b.get(k, 0) for k in keys]], dtype=float)
    # pool sparse outcomes so each column has an expected count of at least 5
    big = table.sum(axis=0) >= 10
    pooled = table[:, ~big].sum(axis=1, keepdims=True)
    table = np.hstack([table[:, big], pooled]) if pooled.sum() >= 10 else table[:, big]
    if table.shape[1] < 2:
        return 1.0
    return float(chi2_contingency(table)[1])


def _exact_distribution(text: str) -> dict[str, float]:
    """Qiskit's exact distribution of the clbits of a program with terminal measurements."""
    from qiskit.quantum_info import Statevector

    qc = qiskit_circuit(text)
    final = {}
    for inst in qc.data:
        if inst.operation.name == "measure":
            final[qc.find_bit(inst.clbits[0]).index] = qc.find_bit(inst.qubits[0]).index
    width = qc.num_clbits
    qc.remove_final_measurements()
    probs = Statevector(qc).probabilities()
    out: Counter[str] = Counter()
    for index in np.flatnonzero(probs > 1e-15):
        key = ["0"] * width
        for c, q in final.items():
            key[width - 1 - c] = str((int(index) >> q) & 1)
        out["".join(key)] += float(probs[index])
    return dict(out)


def test_sample_mode_counts_match_exact_probabilities(qasmbench_dir):
    checked = 0
    for name, text, circuit in corpus_programs(qasmbench_dir):
        if prepare(circuit).mode != "sample":
            continue
        counts = run(circuit, SHOTS, seed=2024)
        assert sum(counts.values()) == SHOTS, name
        p = _chi2_goodness(counts, _exact_distribution(text), SHOTS)
        assert p >= ALPHA, f"{name}: p = {p:.2e}"
        checked += 1
    assert checked >= 34


def test_trajectory_mode_counts_match_aer(qasmbench_dir):
    aer = pytest.importorskip("qiskit_aer")
    from qiskit import transpile

    sim = aer.AerSimulator(method="statevector", seed_simulator=11)
    checked = 0
    for name, text, circuit in corpus_programs(qasmbench_dir):
        if prepare(circuit).mode != "trajectory":
            continue
        ours = run(circuit, SHOTS, seed=2024)
        qc = transpile(qiskit_circuit(text), sim, optimization_level=0)
        theirs = sim.run(qc, shots=SHOTS).result().get_counts()
        theirs = {k.replace(" ", ""): v for k, v in theirs.items()}
        assert set(ours) <= set(theirs) | {k for k, v in ours.items() if v < 10}, name
        p = _chi2_two_sample(ours, theirs)
        assert p >= ALPHA, f"{name}: p = {p:.2e}"
        checked += 1
    assert checked >= 4


def test_sampling_a_known_distribution_passes_and_a_wrong_one_fails():
    # the tests above would catch a swapped bit: check the statistic itself
    from qmon_jupyter.circuits.ir import Circuit, Instruction

    ops = (Instruction("ry", (0,), (1.0,)), Instruction("x", (1,)))
    ops += tuple(Instruction("measure", (q,), clbits=(q,)) for q in range(2))
    counts = run(Circuit(2, 2, ops), SHOTS, seed=1)
    p1 = np.sin(0.5) ** 2
    right = {"10": 1 - p1, "11": p1}
    wrong = {"01": 1 - p1, "11": p1}
    assert _chi2_goodness(counts, right, SHOTS) >= ALPHA
    with pytest.raises(AssertionError, match="probability 0"):
        _chi2_goodness(counts, wrong, SHOTS)


@pytest.mark.parametrize("shots", [1, 2, 7, 1000, 8000, 60_000])  # below k: the search path
def test_sorted_sampling_draws_what_locating_each_uniform_draws(shots):
    # sample_outcomes sorts its uniforms to speed up the search: the counts
    # must be those of locating every draw on its own, in drawing order
    from qmon_jupyter.engine.sampling import sample_outcomes

    probs = np.random.default_rng(3).random(1 << 16) ** 8
    probs[::5] = 0.0  # impossible outcomes must never be drawn
    probs /= probs.sum()
    cdf = np.cumsum(probs)
    cdf[-1] = 1.0
    idx, counts = sample_outcomes(cdf, probs, shots, np.random.default_rng(11))
    each = np.searchsorted(cdf, np.random.default_rng(11).random(shots), side="right")
    want_idx, want_counts = np.unique(each, return_counts=True)
    np.testing.assert_array_equal(idx, want_idx)
    np.testing.assert_array_equal(counts, want_counts)
    assert not np.any(probs[idx] == 0.0)
