"""Progress, rate and ETA for steps, shots, percentages, time-based and staged work.

The rate is an exponentially weighted moving average over recent samples
(one sample per batch, or per ``min_sample_s`` for fast loops), never
``done / elapsed``, which swings when the pace changes. The ETA is the
remaining work over that rate. Callbacks fire at most once per
``update_interval`` seconds, plus on stage changes and at the end; a tracker
with pending changes says so (``dirty``) so its owner can flush the last one.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

__all__ = ["MultiStageProgressTracker", "ProgressTracker", "SimulationProgressTracker"]


class _Ewma:
    """Smoothed rate of a growing quantity sampled at irregular times."""

    __slots__ = ("last_t", "last_value", "min_dt", "rate", "smoothing")

    def __init__(self, smoothing: float, min_dt: float, value: float, t: float) -> None:
        self.smoothing = smoothing
        self.min_dt = min_dt
        self.rate: float | None = None
        self.last_value = value
        self.last_t = t

    def observe(self, value: float, t: float) -> None:
        dt = t - self.last_t
        if dt <= 0 or dt < self.min_dt:
            return  # fold into the next sample: tiny intervals give noisy rates
        instant = (value - self.last_value) / dt
        if self.rate is None:
            self.rate = instant
        else:
            self.rate += self.smoothing * (instant - self.rate)
        self.last_value = value
        self.last_t = t

    def reset(self, value: float, t: float) -> None:
        self.last_value = value
        self.last_t = t


class ProgressTracker:
    """Progress of ``done`` out of ``total`` units, with a smoothed rate and ETA.

    Parameters
    ----------
    total
        Units of work, or None when unknown (a generator without ``len``).
    unit
        ``"steps"``, ``"shots"``, ``"iterations"``, ``"%"``, ...
    update_interval
        Minimum seconds between two callback calls (the last change is
        delivered by :meth:`flush` or :meth:`finish`).
    smoothing
        Weight of the newest sample in the moving average (0..1].
    min_sample_s
        Updates closer together than this are folded into one rate sample.
    expected_duration_s
        For time-based work without countable steps: progress is
        ``elapsed / expected_duration_s`` (capped below 1 until finished).
    callbacks
        Called as ``callback(tracker)`` on the updating thread.
    clock
        Monotonic seconds (injectable for tests).
    """

    def __init__(
        self,
        total: float | None = None,
        *,
        unit: str = "steps",
        update_interval: float = 0.1,
        smoothing: float = 0.3,
        min_sample_s: float = 0.05,
        expected_duration_s: float | None = None,
        callbacks: Iterable[Callable[[ProgressTracker], object]] = (),
        clock: Callable[[], float] = time.monotonic,
        initial: float = 0,
    ) -> None:
        if not 0 < smoothing <= 1:
            raise ValueError(f"smoothing must be in (0, 1], not {smoothing}")
        if total is not None and total < 0:
            raise ValueError(f"total must be non-negative, not {total}")
        self.unit = unit
        self.update_interval = update_interval
        self.expected_duration_s = expected_duration_s
        self._clock = clock
        # Guards every field below; callbacks run after it is released.
        self._lock = threading.Lock()
        self._total = total
        self._done = initial
        self._start = clock()
        self._end: float | None = None
        self._ewma = _Ewma(smoothing, min_sample_s, initial, self._start)
        self._last_notify = float("-inf")
        self._dirty = False
        self.stage: str | None = None
        self.message: str | None = None
        self._callbacks: list[Callable[[ProgressTracker], object]] = list(callbacks)

    # -- reporting -------------------------------------------------------
    def update(self, n: float = 1) -> None:
        """Add ``n`` units of work done."""
        with self._lock:
            self._done += n
            self._sample_locked()
        self._maybe_notify()

    def set(self, done: float, total: float | None = None) -> None:
        """Set the work done (and optionally the total)."""
        with self._lock:
            if total is not None:
                self._total = total
            self._done = done
            self._sample_locked()
        self._maybe_notify()

    def set_fraction(self, fraction: float) -> None:
        """Percentage work: set progress to ``fraction`` (0..1) of a total of 100."""
        self.set(100.0 * fraction, 100.0)

    def set_stage(self, stage: str | None) -> None:
        """Name what is being done now (always notifies)."""
        with self._lock:
            self.stage = stage
        self._maybe_notify(force=True)

    def set_message(self, message: str | None) -> None:
        """Set a short status line (always notifies)."""
        with self._lock:
            self.message = message
        self._maybe_notify(force=True)

    def finish(self) -> None:
        """Mark the work complete (progress 1) and notify."""
        with self._lock:
            if self._total is not None:
                self._done = max(self._done, self._total)
            self._end = self._clock()
        self._maybe_notify(force=True)

    def flush(self) -> bool:
        """Notify now if there are changes not yet delivered; returns whether it did."""
        if not self._dirty:
            return False
        self._maybe_notify(force=True)
        return True

    def add_callback(self, callback: Callable[[ProgressTracker], object]) -> Callable[[], None]:
        """Call ``callback(tracker)`` on changes; returns a function that removes it."""
        self._callbacks = [*self._callbacks, callback]

        def remove() -> None:
            self._callbacks = [c for c in self._callbacks if c is not callback]

        return remove

    # -- reading ---------------------------------------------------------
    @property
    def done(self) -> float:
        """Units done."""
        return self._done

    @property
    def total(self) -> float | None:
        """Units in all, or None if unknown."""
        return self._total

    @property
    def dirty(self) -> bool:
        """Whether a change has not been passed to the callbacks yet."""
        return self._dirty

    @property
    def finished(self) -> bool:
        """Whether :meth:`finish` was called."""
        return self._end is not None

    @property
    def elapsed_s(self) -> float:
        """Seconds since the tracker started (frozen when finished)."""
        end = self._end if self._end is not None else self._clock()
        return end - self._start

    @property
    def fraction(self) -> float:
        """Progress in 0..1 (0 when the total is unknown and no duration is expected)."""
        with self._lock:
            return self._fraction_locked()

    @property
    def rate(self) -> float | None:
        """Smoothed units per second, None before the first sample."""
        return self._ewma.rate

    @property
    def eta_s(self) -> float | None:
        """Smoothed seconds left, None when unknown."""
        with self._lock:
            return self._eta_locked()

    def state(self) -> dict:
        """``progress, done, total, unit, stage, message, rate, eta_s, elapsed_s``."""
        with self._lock:
            return {
                "progress": self._fraction_locked(),
                "done": self._done,
                "total": self._total,
                "unit": self.unit,
                "stage": self.stage,
                "message": self.message,
                "rate": self._ewma.rate,
                "eta_s": self._eta_locked(),
                "elapsed_s": self.elapsed_s,
            }

    def restart_clock(self) -> None:
        """Start timing now (a queued job's tracker restarts when the job starts)."""
        with self._lock:
            self._start = self._clock()
            self._ewma.reset(self._done, self._start)

    # -- internals -------------------------------------------------------
    def _sample_locked(self) -> None:
        self._dirty = True
        self._ewma.observe(self._done, self._clock())

    def _fraction_locked(self) -> float:
        if self._end is not None:
            return 1.0
        if self._total:
            return min(1.0, self._done / self._total)
        if self._total == 0:
            return 0.0
        if self.expected_duration_s:
            return min(0.99, (self._clock() - self._start) / self.expected_duration_s)
        return 0.0

    def _eta_locked(self) -> float | None:
        if self._end is not None:
            return 0.0
        rate = self._ewma.rate
        if self._total is not None and rate and rate > 0:
            return max(0.0, (self._total - self._done) / rate)
        if self._total is None and self.expected_duration_s:
            return max(0.0, self.expected_duration_s - (self._clock() - self._start))
        return None

    def _maybe_notify(self, *, force: bool = False) -> None:
        now = self._clock()
        if not force and now - self._last_notify < self.update_interval:
            return
        self._last_notify = now
        self._dirty = False
        for callback in self._callbacks:
            callback(self)


class MultiStageProgressTracker(ProgressTracker):
    """Progress through weighted stages, e.g. parse -> fuse -> evolve -> sample.

    Overall progress is the weight of the finished stages plus the current
    stage's weight times its own fraction, over the total weight. ``done`` and
    ``total`` are those of the current stage (in its unit); the overall ETA
    comes from the smoothed rate of the overall fraction.

    Parameters
    ----------
    stages
        ``{name: weight}`` or ``[(name, weight), ...]`` in order.
    **options
        As for :class:`ProgressTracker`.
    """

    def __init__(
        self, stages: Mapping[str, float] | Iterable[tuple[str, float]], **options: object
    ) -> None:
        pairs = list(stages.items() if hasattr(stages, "items") else stages)
        if not pairs:
            raise ValueError("a multi-stage tracker needs at least one stage")
        if any(w < 0 for _, w in pairs) or sum(w for _, w in pairs) <= 0:
            raise ValueError(f"stage weights must be non-negative with a positive sum: {pairs}")
        super().__init__(**options)  # type: ignore[arg-type]
        self.stages: list[tuple[str, float]] = pairs
        self._weight_total = float(sum(w for _, w in pairs))
        self._index = -1
        self._base = 0.0  # weight of the finished stages
        smoothing, min_dt = self._ewma.smoothing, self._ewma.min_dt
        self._overall = _Ewma(smoothing, min_dt, 0.0, self._start)

    def start_stage(
        self, name: str, total: float | None = None, *, unit: str | None = None
    ) -> None:
        """Finish the current stage and start ``name`` (a later stage in the list)."""
        names = [n for n, _ in self.stages]
        if name not in names[self._index + 1 :]:
            raise ValueError(f"unknown or past stage {name!r}; stages are {names}")
        with self._lock:
            new_index = names.index(name)
            self._base = sum(w for _, w in self.stages[:new_index])
            self._index = new_index
            self.stage = name
            self._total = total
            self._done = 0
            if unit is not None:
                self.unit = unit
            now = self._clock()
            self._ewma.reset(0, now)
            self._ewma.rate = None
            self._dirty = True
        self._maybe_notify(force=True)

    def restart_clock(self) -> None:
        """Start timing now (see :meth:`ProgressTracker.restart_clock`)."""
        super().restart_clock()
        with self._lock:
            self._overall.reset(self._fraction_locked(), self._start)

    @property
    def stage_fraction(self) -> float:
        """Progress of the current stage alone."""
        with self._lock:
            return super()._fraction_locked()

    def _sample_locked(self) -> None:
        super()._sample_locked()
        self._overall.observe(self._fraction_locked(), self._clock())

    def _fraction_locked(self) -> float:
        if self._end is not None:
            return 1.0
        if self._index < 0:
            return 0.0
        weight = self.stages[self._index][1]
        return min(1.0, (self._base + weight * super()._fraction_locked()) / self._weight_total)

    def _eta_locked(self) -> float | None:
        if self._end is not None:
            return 0.0
        rate = self._overall.rate
        if rate and rate > 0:
            return max(0.0, (1.0 - self._fraction_locked()) / rate)
        return None


class SimulationProgressTracker(MultiStageProgressTracker):
    """A simulation: ``evolve`` (gate blocks, sample mode only), then ``sample`` (shots).

    ``done``/``total``/``rate`` are in shots once sampling starts; the ETA
    during sampling is the remaining shots over the smoothed per-batch shot
    rate, the quantity that matters for a job of many batches.

    Parameters
    ----------
    shots
        Shots in all.
    mode
        The plan's mode: ``"sample"`` evolves once first, ``"trajectory"``
        evolves its unitary prefix once, then the rest inside every batch.
    start_shots
        Shots already done (a job resumed from a checkpoint).
    evolve_weight
        Share of the overall progress given to the one-off evolution (its
        estimated share of the work; reported by :meth:`evolve_work`).
    **options
        As for :class:`ProgressTracker`.
    """

    def __init__(
        self,
        shots: int,
        *,
        mode: str = "sample",
        start_shots: int = 0,
        evolve_weight: float | None = None,
        **options: object,
    ) -> None:
        # Both modes evolve once first (the whole unitary part, or the prefix
        # before the first mid-circuit measurement); the weight is its share
        # of the estimated work (see jobs._factories.evolve_weight).
        if evolve_weight is None:
            evolve_weight = 0.1 if mode == "sample" else 0.0
        stages = [("evolve", evolve_weight), ("sample", 1.0 - evolve_weight)]
        if evolve_weight <= 0:
            stages = [("sample", 1.0)]
        super().__init__(stages, unit="shots", **options)
        self.shots = shots
        self.mode = mode
        self.start_shots = start_shots
        self.batches_done = 0
        self._last_block_t: float | None = None
        self._by_work = False

    def evolve_block(self, done: int, total: int) -> None:
        """Count gate blocks of the evolution done so far (ignored once work is reported)."""
        if self._by_work:
            return  # the cost-weighted reports carry the progress
        if not self._enter_evolve(total, "blocks"):
            return
        self.set(done, total)
        self._last_block_t = self._clock()

    def evolve_work(self, done: float, total: float) -> None:
        """Count the evolution's estimated work done so far, in passes over the state."""
        if not self._by_work:
            if self._index >= 0 and self.stage != "evolve":
                return  # a late report: ignore
            self._by_work = True
            if self.stage != "evolve":
                self._enter_evolve(total, "passes")
            else:
                with self._lock:
                    self.unit = "passes"
        self.set(done, total)
        self._last_block_t = self._clock()

    def _enter_evolve(self, total: float, unit: str) -> bool:
        if self.stage == "evolve":
            return True
        if self._index >= 0:
            return False  # a late report: ignore
        self.start_stage("evolve", total, unit=unit)
        return True

    def start_sampling(self) -> None:
        """Enter the sampling stage (idempotent).

        The shot rate is measured from the end of the evolution (or the
        start), so the first batch counts as a full sample.
        """
        if self.stage != "sample":
            self.start_stage("sample", self.shots, unit="shots")
            with self._lock:
                origin = self._last_block_t if self._last_block_t is not None else self._start
                self._done = self.start_shots
                self._ewma.reset(self.start_shots, origin)

    def batch_done(self, shots: int) -> None:
        """Count a finished batch of ``shots``."""
        if self.stage != "sample":
            self.start_sampling()
        self.batches_done += 1
        self.update(shots)

    def _eta_locked(self) -> float | None:
        if self._end is not None:
            return 0.0
        if self.stage == "sample":
            rate = self._ewma.rate
            if rate and rate > 0:
                return max(0.0, (self.shots - self._done) / rate)
            return None
        return super()._eta_locked()
