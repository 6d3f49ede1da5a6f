"""Outcome probabilities, vectorised shot sampling and count-key formatting.

Nothing here loops over shots in Python: a batch is drawn either as one
multinomial over all outcomes (at least as many shots as outcomes) or as
sorted uniform draws located in the cumulative distribution with
``searchsorted`` (fewer shots, drawn in chunks of at most 2**20), and its
distinct outcomes are turned into bitstrings in one numpy pass.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

__all__ = [
    "batch_rng",
    "format_keys",
    "half_norms",
    "located_chunks",
    "outcome_distribution",
    "sample_outcomes",
]

_CHUNK = 1 << 20
_SHOT_CHUNK = 1 << 20  # uniforms drawn, sorted and located at a time


def batch_rng(seed: int | None, index: int) -> np.random.Generator:
    """Return the random generator of batch ``index``: a function of ``(seed, index)`` only."""
    if seed is None:
        return np.random.default_rng()
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(index,)))


def outcome_distribution(
    state: np.ndarray, qubits: Sequence[int]
) -> tuple[np.ndarray | None, np.ndarray]:
    """Return (probabilities, cumulative sums) of measuring ascending ``qubits``.

    Consumes ``state``: no second state-sized array is ever allocated.

    complex128: the float64 probabilities are written over the state's own
    buffer, front to back (entry ``i`` of the float64 view lies inside
    amplitudes already read), and the marginals of a subset of qubits and the
    cumulative sums go in the buffer's second half. complex64 (a subset: new
    arrays of ``2**len(qubits)``) with every qubit measured: the buffer holds one
    float64 per amplitude, so the probabilities are summed into cumulative
    sums in place and ``None`` is returned for them (:func:`sample_outcomes`
    then always inverts the cumulative sums). ``state`` is garbage afterwards.
    """
    n = state.size.bit_length() - 1
    size = state.size
    buf = state.view(np.float64)
    p = buf[:size]
    single = state.dtype == np.complex64
    c = max(1, min(_CHUNK // 16, size >> 6))  # the temporaries stay small (1/64 state)
    first = np.square(state[:c].real, dtype=np.float64)  # the output overlaps its input
    first += np.square(state[:c].imag, dtype=np.float64)
    p[:c] = first
    for a in range(c, size, c):
        chunk = state[a : a + c]
        if single:  # p[a:a+c] is exactly state[a:a+c]: go through a temporary
            tmp = np.square(chunk.real, dtype=np.float64)
            tmp += np.square(chunk.imag, dtype=np.float64)
            p[a : a + c] = tmp
            continue
        out = p[a : a + c]  # overlaps state[a/2:(a+c)/2], already read
        np.multiply(chunk.real, chunk.real, out=out)
        out += np.square(chunk.imag)
    full = list(qubits) == list(range(n))
    if full and single:
        p /= p.sum()
        cdf = np.cumsum(p, out=p)
        cdf[-1] = 1.0
        return None, cdf
    if full:
        probs, spare = p, buf[size:]
    else:  # the marginals and their sums fit in the second half (double) or are new
        k = 1 << len(qubits)
        drop = tuple(n - 1 - q for q in range(n) if q not in set(qubits))
        room = None if single else buf[size : size + 2 * k]
        out = None if room is None else room[:k].reshape((2,) * len(qubits))
        probs = p.reshape((2,) * n).sum(axis=drop, out=out).reshape(-1)
        spare = None if room is None else room[k:]
    probs /= probs.sum()
    cdf = np.cumsum(probs) if spare is None else np.cumsum(probs, out=spare)
    cdf[-1] = 1.0
    return probs, cdf


def half_norms(state: np.ndarray, qubit: int) -> tuple[float, float]:
    """Squared norms of the amplitudes of ``state`` with ``qubit`` at 0 and at 1.

    One read of the state, no temporaries (sums of products over float views,
    accumulated in float64).
    """
    floats = state.view(state.real.dtype).reshape(-1, 2, 2 << qubit)
    acc = np.float64 if floats.dtype != np.float64 else None
    zero, one = floats[:, 0, :], floats[:, 1, :]
    s0 = np.einsum("ij,ij->", zero, zero, dtype=acc)
    s1 = np.einsum("ij,ij->", one, one, dtype=acc)
    return float(s0), float(s1)


def sample_outcomes(
    cdf: np.ndarray, probs: np.ndarray | None, shots: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``shots`` outcomes; return (distinct outcome indices ascending, their counts).

    ``probs`` sums to 1 and ``cdf`` is its cumulative sum (last entry 1).
    At least as many shots as outcomes: one multinomial (a binomial draw per
    outcome). Fewer, or without ``probs``: ``shots`` uniforms, drawn and
    located in ``cdf`` in chunks of at most 2**20 (the counts depend only on
    the multiset of the uniforms, so the chunking does not change them).
    """
    k = cdf.size
    if shots == 0:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.int64)
    if probs is not None and shots >= k:
        counts = rng.multinomial(shots, probs)
        idx = np.flatnonzero(counts)
        return idx, counts[idx]
    if shots <= _SHOT_CHUNK:
        return _locate(cdf, rng.random(shots))
    dense = np.zeros(k, dtype=np.int64)
    for idx, counts in located_chunks(cdf, shots, rng):
        dense[idx] += counts
    idx = np.flatnonzero(dense)
    return idx, dense[idx]


def located_chunks(
    cdf: np.ndarray, shots: int, rng: np.random.Generator, chunk: int = _SHOT_CHUNK
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (distinct outcomes ascending, counts) of ``shots`` uniforms, ``chunk`` at a time.

    The uniforms are the stream's next ``shots``, whatever ``chunk`` is (at
    most 2**20): the counts summed over the chunks do not depend on it, the
    memory does (about 40 bytes per shot of a chunk).
    """
    chunk = max(1, min(chunk, _SHOT_CHUNK))
    for start in range(0, shots, chunk):
        yield _locate(cdf, rng.random(min(chunk, shots - start)))


def _locate(cdf: np.ndarray, uniforms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct outcomes (ascending) and counts of ``uniforms`` (consumed) located in ``cdf``."""
    # Sorted uniforms give the same multiset of outcomes (so the same counts)
    # and let searchsorted narrow each search from the previous one: 3-5x
    # faster on a large register, whose binary searches are cache misses.
    uniforms.sort()
    draws = np.searchsorted(cdf, uniforms, side="right")
    np.minimum(draws, cdf.size - 1, out=draws)  # a draw of exactly 1.0 minus rounding
    # draws ascend: each run of equal outcomes is one distinct outcome
    starts = np.flatnonzero(np.diff(draws)) + 1
    starts = np.concatenate(([0], starts))
    return draws[starts], np.diff(starts, append=draws.size)


_TABLE_BITS = 32  # up to this width, digits come from a byte table (wider: a column a bit)

# _DIGITS[b] is the 8 ASCII digits of byte b, most significant bit first
_DIGITS = (
    ord("0") + ((np.arange(256, dtype=np.uint16)[:, None] >> np.arange(7, -1, -1)) & 1)
).astype(np.uint8)
_WORDS = _DIGITS.view(np.uint64).ravel()  # the same 8 digits as one word (memory order)


def format_keys(outcomes: np.ndarray, bit_map: Sequence[tuple[int, int]], width: int) -> list[str]:
    """Bitstrings (clbit 0 rightmost) for outcome indices.

    ``bit_map`` lists ``(outcome bit, clbit)``: clbit ``c`` takes bit ``j`` of
    the outcome index; clbits not listed read 0.
    """
    if width == 0:
        return [""] * len(outcomes)
    values = np.asarray(outcomes, dtype=np.int64)
    if width > _TABLE_BITS:  # one column per clbit
        chars = np.full((len(values), width + 1), ord("0"), dtype=np.uint8)
        chars[:, width] = ord("\n")
        for j, c in bit_map:
            chars[:, width - 1 - c] = ord("0") + ((values >> j) & 1)
        return chars.tobytes().decode("ascii").split("\n")[:-1]
    if any(j != c for j, c in bit_map):  # move each outcome bit to its clbit
        register = np.zeros(len(values), dtype=np.int64)
        for j, c in bit_map:
            register |= ((values >> j) & 1) << c
        values = register
    # one row of ASCII digits per outcome, newline-terminated, split in one C call;
    # the 8 digits of each byte of the value come as one word from a 256-entry table
    nbytes = -(-width // 8)
    words = np.empty((len(values), nbytes), dtype=np.uint64)
    for m in range(nbytes):  # byte m of the value: words from the right
        words[:, nbytes - 1 - m] = _WORDS[(values >> (8 * m)) & 255]
    chars = np.empty((len(values), width + 1), dtype=np.uint8)
    chars[:, :width] = words.view(np.uint8)[:, 8 * nbytes - width :]
    chars[:, width] = ord("\n")
    return chars.tobytes().decode("ascii").split("\n")[:-1]
