"""The dashboard's view (search, sort, page) set by the front end: the kernel sends that page."""

from __future__ import annotations

from qmon_jupyter.kernel.resources import get_resource_monitor
from qmon_jupyter.widget import ExecutionDashboard
from qmon_jupyter.widget._dashboard import RESOURCE_POINTS, SLOW_REFRESH_S

from .._support import wait_until


def _sixty(manager, slow_fn):
    jobs = [
        manager.submit_function(slow_fn, steps=1, step_s=0.0, name=f"RB sequence {i:03d}")
        for i in range(60)
    ]
    assert all(job.wait(30) for job in jobs)
    return jobs


def test_the_view_pages_through_every_job(manager, slow_fn):
    jobs = _sixty(manager, slow_fn)
    dashboard = ExecutionDashboard(manager)
    try:
        assert wait_until(lambda: dashboard.counts.get("by_status", {}).get("completed") == 60)
        seen = []
        for offset in (0, 25, 50):
            dashboard.view = {"q": "", "sort": "", "offset": offset, "limit": 25}
            assert wait_until(lambda o=offset: dashboard.counts.get("offset") == o, timeout=60)
            # counts and jobs are two traits: wait for this page's rows, not the last page's
            assert wait_until(
                lambda o=offset, before=set(seen): (
                    len(dashboard.jobs) == min(25, 60 - o)
                    and not {j["id"] for j in dashboard.jobs} & before
                ),
                timeout=60,
            )
            seen += [j["id"] for j in dashboard.jobs]
        assert sorted(seen) == sorted(job.id for job in jobs)
        assert dashboard.counts["matching"] == 60
    finally:
        dashboard.close()


def test_the_view_searches_and_sorts_in_the_kernel(manager, slow_fn):
    _sixty(manager, slow_fn)
    dashboard = ExecutionDashboard(manager)
    try:
        dashboard.view = {"q": "sequence 042", "sort": "", "offset": 0, "limit": 25}
        assert wait_until(lambda: [j["name"] for j in dashboard.jobs] == ["RB sequence 042"])
        assert dashboard.counts["matching"] == 1
        dashboard.view = {"q": "sequence 0", "sort": "-name", "offset": 0, "limit": 5}
        want = [f"RB sequence {i:03d}" for i in (59, 58, 57, 56, 55)]
        assert wait_until(lambda: [j["name"] for j in dashboard.jobs] == want)
    finally:
        dashboard.close()


def test_a_malformed_view_from_the_front_end_falls_back_to_defaults(manager, slow_fn):
    _sixty(manager, slow_fn)
    dashboard = ExecutionDashboard(manager, page_size=10)
    try:
        dashboard.view = {"q": 5, "sort": "snapshot; DROP", "offset": "x", "limit": float("nan")}
        assert wait_until(lambda: len(dashboard.jobs) == 10)
        assert dashboard.counts["offset"] == 0
        assert dashboard.counts["matching"] == 60
    finally:
        dashboard.close()


def test_full_pages_and_statistics_both_arrive_in_a_long_lived_kernel(manager, slow_fn):
    # A kernel that has run a while has a full CPU/memory history to send with the
    # statistics: that must neither cut a page of 25 jobs nor keep the statistics out.
    monitor = get_resource_monitor()
    for _ in range(RESOURCE_POINTS):
        monitor.sample()
    jobs = _sixty(manager, slow_fn)
    dashboard = ExecutionDashboard(manager)
    try:
        assert wait_until(lambda: dashboard.counts.get("by_status", {}).get("completed") == 60)
        for offset in (0, 25):
            dashboard.view = {"q": "", "sort": "", "offset": offset, "limit": 25}
            assert wait_until(
                lambda o=offset: dashboard.counts.get("offset") == o and len(dashboard.jobs) == 25,
                timeout=10 + 2 * SLOW_REFRESH_S,
            )
        assert wait_until(lambda: dashboard.stats.get("total") == len(jobs))
        assert len(dashboard.resources["history"]) == RESOURCE_POINTS
    finally:
        dashboard.close()
