"""Progress trackers: smoothed rate and ETA, stages, throttled callbacks."""

from __future__ import annotations

import pytest

from qmon_jupyter.jobs import (
    MultiStageProgressTracker,
    ProgressTracker,
    SimulationProgressTracker,
)


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t

    def tick(self, dt: float) -> None:
        self.t += dt


def test_eta_is_remaining_over_the_smoothed_rate():
    clock = Clock()
    p = ProgressTracker(100, clock=clock, min_sample_s=0.0, smoothing=0.5)
    for _ in range(10):
        clock.tick(1.0)
        p.update(2)  # a steady 2 units/s
    assert p.rate == pytest.approx(2.0)
    assert p.eta_s == pytest.approx(80 / 2.0)
    assert p.fraction == pytest.approx(0.2)


def test_one_slow_batch_moves_the_eta_only_partly():
    clock = Clock()
    p = ProgressTracker(100, clock=clock, min_sample_s=0.0, smoothing=0.3)
    for _ in range(10):
        clock.tick(1.0)
        p.update(1)
    steady = p.eta_s
    clock.tick(10.0)  # one batch ten times slower
    p.update(1)
    # elapsed/done would jump from 1 to ~1.8 s per unit; the EWMA moves by 30 % of the change.
    assert p.rate == pytest.approx(0.7 * 1.0 + 0.3 * 0.1)
    assert steady < p.eta_s < 89 / 0.5


def test_updates_closer_than_min_sample_fold_into_one_sample():
    clock = Clock()
    p = ProgressTracker(1000, clock=clock, min_sample_s=0.5, smoothing=1.0)
    for _ in range(100):
        clock.tick(0.01)
        p.update(1)
    assert p.rate == pytest.approx(100.0)  # 50 units in the first 0.5 s, etc.


def test_unknown_total_has_rate_but_no_eta():
    clock = Clock()
    p = ProgressTracker(None, clock=clock, min_sample_s=0.0)
    clock.tick(1.0)
    p.update(5)
    assert p.rate == pytest.approx(5.0)
    assert p.eta_s is None
    assert p.fraction == 0.0


def test_time_based_work_uses_the_expected_duration():
    clock = Clock()
    p = ProgressTracker(clock=clock, expected_duration_s=10.0)
    clock.tick(4.0)
    assert p.fraction == pytest.approx(0.4)
    assert p.eta_s == pytest.approx(6.0)
    clock.tick(100.0)
    assert p.fraction == pytest.approx(0.99)
    p.finish()
    assert p.fraction == 1.0


def test_percentage_work():
    p = ProgressTracker()
    p.set_fraction(0.25)
    assert p.fraction == pytest.approx(0.25)
    assert p.total == 100.0


def test_callbacks_are_throttled_to_the_update_interval_and_flushed():
    clock = Clock()
    seen = []
    p = ProgressTracker(
        100, clock=clock, update_interval=1.0, callbacks=[lambda t: seen.append(t.done)]
    )
    for _ in range(10):
        clock.tick(0.25)
        p.update(1)
    assert seen == [1, 5, 9]
    assert p.dirty
    assert p.flush()
    assert seen[-1] == 10
    assert not p.flush()
    p.set_stage("x")  # stage changes always notify
    assert len(seen) == 5


def test_multi_stage_progress_is_weighted():
    clock = Clock()
    p = MultiStageProgressTracker(
        [("parse", 1), ("fuse", 1), ("evolve", 6), ("sample", 2)], clock=clock, min_sample_s=0.0
    )
    assert p.fraction == 0.0
    p.start_stage("parse")
    p.start_stage("fuse")
    assert p.fraction == pytest.approx(0.1)
    p.start_stage("evolve", total=10, unit="blocks")
    p.update(5)
    assert p.fraction == pytest.approx(0.2 + 0.6 * 0.5)
    assert p.stage_fraction == pytest.approx(0.5)
    with pytest.raises(ValueError, match="past stage"):
        p.start_stage("fuse")
    p.start_stage("sample", total=100, unit="shots")
    clock.tick(1.0)
    p.update(50)
    assert p.fraction == pytest.approx(0.9)
    assert p.eta_s is not None
    p.finish()
    assert p.fraction == 1.0


def test_simulation_tracker_eta_comes_from_the_shot_rate():
    clock = Clock()
    p = SimulationProgressTracker(1000, clock=clock, min_sample_s=0.0, smoothing=0.5)
    p.evolve_block(1, 2)
    p.evolve_block(2, 2)
    assert p.stage == "evolve"
    assert p.fraction == pytest.approx(0.1)
    for _ in range(4):
        clock.tick(0.5)
        p.batch_done(100)  # 200 shots/s
    assert p.stage == "sample"
    assert p.done == 400
    assert p.rate == pytest.approx(200.0)
    assert p.eta_s == pytest.approx(600 / 200.0)
    assert p.batches_done == 4


def test_resumed_simulation_starts_from_its_shots():
    p = SimulationProgressTracker(1000, mode="trajectory", start_shots=600)
    p.batch_done(100)
    assert p.done == 700
    assert p.fraction == pytest.approx(0.7)


def test_evolution_progress_follows_reported_work_not_block_count():
    p = SimulationProgressTracker(1000, evolve_weight=0.9)
    p.evolve_block(1, 2)  # half the blocks ...
    p.evolve_work(10.0, 100.0)  # ... but a tenth of the work
    assert p.fraction == pytest.approx(0.9 * 0.1)
    p.evolve_block(2, 2)  # block counts no longer move the bar
    assert p.fraction == pytest.approx(0.09)
    p.batch_done(500)
    assert p.fraction == pytest.approx(0.9 + 0.1 * 0.5)
