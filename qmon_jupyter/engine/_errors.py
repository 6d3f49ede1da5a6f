"""Errors of the engine's own, and the "may I go on?" check."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from qmon_jupyter.errors import QmonError

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "MAX_SHOTS",
    "Interrupted",
    "ShotsError",
    "check_continue",
    "validate_seed",
    "validate_shots",
]

#: Largest number of shots one run accepts.
MAX_SHOTS = 10**12


class Interrupted(QmonError):  # noqa: N818 - the contract's name
    """The caller's ``should_continue()`` returned False: the engine stopped."""


class ShotsError(QmonError, ValueError):
    """A shot count that is not a positive integer (or is absurdly large)."""


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
