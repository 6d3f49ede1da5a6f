"""ETA of hardware jobs: observed service rate and the estimate's range."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from qmon_jupyter.providers._eta import ServiceRate, eta_range


def test_the_service_rate_is_how_fast_queue_positions_fall():
    rate = ServiceRate()
    rate.observe("a", 0.0, 10)
    rate.observe("a", 2.0, 8)  # 2 positions in 2 s
    rate.observe("a", 4.0, 6)
    per_s, observations = rate.rate()
    assert per_s == 1.0
    assert observations == 2


def test_leaving_the_queue_counts_as_moving_past_position_one():
    rate = ServiceRate()
    rate.observe("a", 0.0, 1)
    rate.observe("a", 0.5, None)  # now running
    assert rate.rate() == (2.0, 1)


def test_no_movement_yet_means_no_rate_and_no_eta():
    rate = ServiceRate()
    rate.observe("a", 0.0, 5)
    rate.observe("a", 1.0, 5)
    assert rate.rate() is None
    assert eta_range(5, None, None) is None


def test_the_eta_is_queue_position_times_the_service_time():
    estimate, (lo, hi) = eta_range(4, (0.5, 100), None)
    assert estimate == 10.0  # 4 jobs ahead and its own, 2 s each
    assert lo < estimate < hi


def test_the_range_narrows_with_observations():
    _, few = eta_range(4, (0.5, 1), None)
    _, many = eta_range(4, (0.5, 100), None)
    assert many[1] - many[0] < few[1] - few[0]


def test_the_providers_own_estimate_is_used_alone_or_widens_the_range():
    assert eta_range(None, None, 10.0) == (10.0, (8.0, 12.5))
    _, (lo, hi) = eta_range(1, (1.0, 50), 100.0)
    assert hi == 100.0
    assert lo < 2.0


@given(
    position=st.one_of(st.none(), st.integers(0, 5000)),
    per_s=st.floats(1e-3, 1e3),
    observations=st.integers(1, 1000),
    provider=st.one_of(st.none(), st.floats(0, 1e6)),
    running_for=st.floats(0, 1e4),
)
def test_the_estimate_always_lies_in_its_range(
    position, per_s, observations, provider, running_for
):
    answer = eta_range(position, (per_s, observations), provider, running_for)
    assert answer is not None
    estimate, (lo, hi) = answer
    assert 0 <= lo <= hi
    assert lo <= estimate <= hi or abs(estimate - lo) < 1e-9 or abs(estimate - hi) < 1e-9
    if provider is not None:
        assert lo <= provider <= hi
