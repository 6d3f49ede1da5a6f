"""ETA of hardware jobs from the observed service rate of their device.

Every poll of a queued job tells how far its queue position fell since the
last poll; over all tracked jobs of a device that gives the device's service
rate (jobs per second). A job at position ``p`` then ends in about
``(p + 1) / rate`` seconds: ``p`` jobs ahead of it, then its own. The answer
is a range, wider while there are few observations, and widened to include
the provider's own estimate where it gives one. It is an estimate and is
labelled so wherever it is shown.
"""

from __future__ import annotations

import math
from collections import deque

__all__ = ["ServiceRate", "eta_range"]

#: Relative half-width of the range with many observations (it never gets narrower).
MIN_SPREAD = 0.25


class ServiceRate:
    """Observed service rate of one device (not thread-safe: the monitor's thread owns it)."""

    def __init__(self, window: int = 128) -> None:
        self._samples: deque[tuple[int, float]] = deque(maxlen=window)  # (positions moved, seconds)
        self._last: dict[str, tuple[float, int]] = {}  # job -> (time, position) at its last poll

    def observe(self, job: str, now: float, position: int | None) -> None:
        """Record ``job`` at ``position`` (``None``: it left the queue) at time ``now``."""
        previous = self._last.pop(job, None)
        if previous is not None:
            then, before = previous
            moved = before if position is None else before - position
            elapsed = now - then
            if moved >= 0 and elapsed > 0:
                self._samples.append((moved, elapsed))
        if position is not None:
            self._last[job] = (now, position)

    def forget(self, job: str) -> None:
        """Stop following ``job`` (it ended or is no longer tracked)."""
        self._last.pop(job, None)

    def rate(self) -> tuple[float, int] | None:
        """``(jobs per second, observations that saw the queue move)``, or None if unknown."""
        moved = sum(m for m, _ in self._samples)
        seconds = sum(s for _, s in self._samples)
        if moved <= 0 or seconds <= 0:
            return None
        return moved / seconds, sum(1 for m, _ in self._samples if m > 0)


def eta_range(
    position: int | None,
    rate: tuple[float, int] | None,
    provider_eta_s: float | None,
    running_for_s: float | None = None,
) -> tuple[float, tuple[float, float]] | None:
    """``(point estimate, (lo, hi))`` in seconds, or None when nothing is known.

    ``position`` is the queue position (None once running); ``rate`` what
    :meth:`ServiceRate.rate` gives; ``running_for_s`` how long the job has run.
    """
    ours: tuple[float, float, float] | None = None
    if rate is not None:
        per_s, observations = rate
        spread = max(MIN_SPREAD, 1.0 / math.sqrt(max(observations, 1)))
        if position is not None:
            estimate = (position + 1) / per_s
        elif running_for_s is not None:
            estimate = max(0.0, 1.0 / per_s - running_for_s)
        else:
            estimate = None
        if estimate is not None:
            ours = (estimate, estimate / (1 + spread), estimate * (1 + spread))
    if provider_eta_s is not None and provider_eta_s >= 0:
        if ours is None:
            return provider_eta_s, (provider_eta_s * 0.8, provider_eta_s * 1.25)
        estimate, lo, hi = ours
        return (estimate + provider_eta_s) / 2, (min(lo, provider_eta_s), max(hi, provider_eta_s))
    if ours is None:
        return None
    estimate, lo, hi = ours
    return estimate, (lo, hi)
