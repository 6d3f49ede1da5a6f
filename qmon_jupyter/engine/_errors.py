"""Errors of the engine's own, and the "may I go on?" check."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from qmon_jupyter.errors import QmonError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "MAX_SHOTS",
    "PRECISIONS",
    "SEED_STREAM_VERSION",
    "Interrupted",
    "PrecisionError",
    "ShotsError",
    "check_continue",
    "dtype_of",
    "validate_precision",
    "validate_seed",
    "validate_shots",
]

#: Version of the random stream: the same seed, batch size and circuit give
#: the same counts in every release with the same version (double precision;
#: single precision is its own stream, see :func:`.sampling.sample_outcomes`).
#: Version 2 (issue #15) changed trajectory mode only: a measurement's
#: probability is now ``|psi_1|^2 / (|psi_0|^2 + |psi_1|^2)`` of a state that is
#: not rescaled after each collapse, so an outcome that is certain has
#: probability exactly 0 or 1 and draws no random number. Version 3 changed
#: sample mode only where a batch has fewer shots than outcomes but at least
#: an eighth of them: such a batch now locates sorted uniforms instead of
#: drawing a multinomial (with 2**20 outcomes, 10**5 shots take ~8x less
#: time), other batches give version 2's counts; in trajectory mode the final
#: joint sample of a branch locates sorted uniforms too (no outcome-sized
#: arrays beside the state), so trajectory counts changed.
SEED_STREAM_VERSION = 3

#: Largest number of shots one run accepts.
MAX_SHOTS = 10**12


class Interrupted(QmonError):  # noqa: N818 - the contract's name
    """The caller's ``should_continue()`` returned False: the engine stopped."""


class ShotsError(QmonError, ValueError):
    """A shot count that is not a positive integer (or is absurdly large)."""


class PrecisionError(QmonError, ValueError):
    """A ``precision=`` other than ``"single"`` or ``"double"``."""


#: The precisions a simulation can be run in, and the amplitude type of each.
PRECISIONS: dict[str, type[np.complexfloating]] = {
    "single": np.complex64,
    "double": np.complex128,
}


def validate_precision(precision: object) -> str:
    """Return ``precision`` if it is ``"single"`` or ``"double"``.

    Raises
    ------
    PrecisionError
        For anything else, naming the choices.
    """
    if not isinstance(precision, str) or precision not in PRECISIONS:
        choices = " or ".join(repr(p) for p in PRECISIONS)
        raise PrecisionError(f"precision must be {choices}, got {precision!r}")
    return precision


def dtype_of(precision: str) -> np.dtype:
    """Return the numpy amplitude type of a validated ``precision``."""
    return np.dtype(PRECISIONS[precision])


def validate_shots(shots: object) -> int:
    """Return ``shots`` as an ``int`` if it is a positive integer.

    Raises
    ------
    ShotsError
        For a bool, a non-integer (``1.5``, ``"10"``), zero, a negative number
        or more than :data:`MAX_SHOTS`.
    """
    if isinstance(shots, bool) or not isinstance(shots, (int, np.integer)):
        raise ShotsError(
            f"shots must be a positive integer, got {shots!r} ({type(shots).__name__})"
        )
    value = int(shots)
    if value <= 0:
        raise ShotsError(f"shots must be a positive integer, got {value}")
    if value > MAX_SHOTS:
        raise ShotsError(f"shots must be at most {MAX_SHOTS}, got {value}")
    return value


def validate_seed(seed: object) -> int | None:
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or int(seed) < 0:
        raise QmonError(f"seed must be a non-negative integer or None, got {seed!r}")
    return int(seed)


def check_continue(should_continue: Callable[[], bool] | None) -> None:
    if should_continue is not None and not should_continue():
        raise Interrupted("simulation interrupted: should_continue() returned False")
