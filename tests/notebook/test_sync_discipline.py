"""Sync discipline: few, small, coalesced updates; the final state always; no leaks."""

from __future__ import annotations

import itertools
import json
import threading
import time

import ipywidgets

from qmon_jupyter.core.states import ACTIVE
from qmon_jupyter.widget import ExecutionDashboard, JobWidget
from qmon_jupyter.widget._sync import MIN_INTERVAL_S, get_publisher

from .._support import BELL, wait_until
from .conftest import sync_threads

BUDGET_BYTES = 16 * 1024


def record_updates(widget, log):
    """Append (time, bytes) for each coalesced update the widget sends."""
    original = widget._send

    def send(msg, buffers=None):
        if widget._flushing and msg.get("method") == "update":
            log.append((time.monotonic(), len(json.dumps(msg["state"])), widget))
        original(msg, buffers)

    widget._send = send


def max_in_window(times, window=1.0):
    times = sorted(times)
    best = 0
    start = 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_at_most_ten_updates_a_second_however_fast_progress_comes(manager, slow_fn):
    dashboard = ExecutionDashboard(manager)
    job = manager.submit_function(slow_fn, steps=150, step_s=0.01, name="chatty")
    widget = JobWidget(job, manager=manager)
    log = []
    record_updates(dashboard, log)
    record_updates(widget, log)
    try:
        assert job.wait(30)
        assert wait_until(lambda: widget.job.get("status") == "completed")
        for w in (dashboard, widget):
            times = [t for t, _, who in log if who is w]
            assert len(times) >= 3
            print(f"\n{type(w).__name__}: at most {max_in_window(times)} updates in one second")
            assert max_in_window(times) <= 10, times
            gaps = [b - a for a, b in itertools.pairwise(times)]
            assert min(gaps) >= MIN_INTERVAL_S * 0.9
    finally:
        widget.close()
        dashboard.close()


def _blocker(release):
    def run(reporter, token):
        while not release.wait(0.01):
            token.check()

    return run


def _active(counts):
    by_status = counts.get("by_status", {})
    return sum(by_status.get(str(status), 0) for status in ACTIVE)


def test_an_update_stays_under_16_kb_with_1000_jobs(manager):
    release = threading.Event()
    dashboard = ExecutionDashboard(manager)
    log = []
    record_updates(dashboard, log)
    name = "a rather long job name to make the rows realistic " * 2
    try:
        # 900 finished jobs of history (in chunks, so the queue stays short)...
        for chunk in range(9):
            jobs = [manager.submit(BELL, shots=64, name=f"{name}{chunk}.{i}") for i in range(100)]
            assert all(job.wait(60) for job in jobs)
        # ...and 100 active ones: 4 running, 96 queued.
        active = [manager.submit_function(_blocker(release), name=f"{name}{i}") for i in range(100)]
        assert wait_until(lambda: _active(dashboard.counts) == 100, timeout=30)
        assert dashboard.counts["total"] == 1000
        time.sleep(0.5)  # a few more updates with the full manager
        release.set()
        assert all(job.wait(60) for job in active)
        assert wait_until(
            lambda: dashboard.counts.get("by_status", {}).get("completed") == 1000, timeout=30
        )
        sizes = [size for _, size, _ in log]
        print(
            f"\n1,000 jobs: {len(sizes)} updates, max {max(sizes)} bytes,"
            f" mean {sum(sizes) // len(sizes)}"
        )
        assert max(sizes) <= BUDGET_BYTES
        assert len(dashboard.jobs) <= dashboard.page_size
    finally:
        release.set()
        dashboard.close()


def test_long_names_and_errors_shrink_the_window_not_the_budget(manager):
    dashboard = ExecutionDashboard(manager)
    log = []
    record_updates(dashboard, log)

    def fail(reporter, token):
        reporter.message("m" * 1000)
        raise RuntimeError("e" * 5000)

    try:
        jobs = [manager.submit_function(fail, name="n" * 500 + str(i)) for i in range(40)]
        assert all(job.wait(30) for job in jobs)
        assert wait_until(lambda: dashboard.counts.get("by_status", {}).get("failed") == 40)
        time.sleep(2.5)  # statistics and resources join an update too
        assert max(size for _, size, _ in log) <= BUDGET_BYTES
        assert 0 < len(dashboard.jobs) < 20
    finally:
        dashboard.close()


def _gated(release, steps=20):
    def run(reporter, token):
        release.wait(30)
        reporter.set(0, steps)
        for _ in range(steps):
            token.check()
            reporter.update(1)
        return steps

    return run


def test_final_state_of_every_job_arrives_in_a_burst_of_100():
    from qmon_jupyter.jobs import JobManager

    # 100 slots: the whole burst runs and ends at once.
    manager = JobManager(max_concurrent_jobs=100, kernel_id="burst", progress_interval=0.0)
    release = threading.Event()
    dashboard = ExecutionDashboard(manager)
    jobs = [manager.submit_function(_gated(release), name=f"burst {i}") for i in range(100)]
    widgets = [JobWidget(job, manager=manager) for job in jobs]
    log = []
    for w in [dashboard, *widgets]:
        record_updates(w, log)
    try:
        release.set()
        assert all(job.wait(60) for job in jobs)
        assert wait_until(
            lambda: all(w.job.get("status") == "completed" for w in widgets), timeout=30
        )
        assert all(w.job["done"] == 20 for w in widgets)
        assert wait_until(lambda: dashboard.counts.get("by_status", {}).get("completed") == 100)
        # Kernel-wide, far below Jupyter's limit of 1000 IOPub messages a second.
        per_second = max_in_window([t for t, _, _ in log])
        print(f"\n100-job burst: {len(log)} updates, at most {per_second} in one second")
        assert per_second <= 250
    finally:
        release.set()
        for w in widgets:
            w.close()
        dashboard.close()
        manager.shutdown(wait=True, cancel_futures=True)
        manager.events.close()


def test_finished_job_widgets_stop_listening(manager, slow_fn):
    job = manager.submit_function(slow_fn, steps=3, step_s=0.001)
    widget = JobWidget(job, manager=manager)
    try:
        assert job.wait(10)
        assert wait_until(lambda: not get_publisher().is_registered(widget))
        assert widget.job["status"] == "completed"
    finally:
        widget.close()


def test_1000_display_close_cycles_leave_no_subscribers_and_no_threads(manager, slow_fn):
    job = manager.submit_function(slow_fn, steps=10_000, step_s=0.01, name="long")
    assert wait_until(lambda: not sync_threads(), timeout=5)
    before = {t.ident for t in threading.enumerate()}
    open_widgets = len(ipywidgets.widgets.widget._instances)
    try:
        for i in range(1000):
            widget = ExecutionDashboard(manager) if i % 2 else JobWidget(job, manager=manager)
            assert widget._repr_mimebundle_() is not None  # what display() shows
            widget.close()
        assert wait_until(lambda: manager.events.stats() == [], timeout=5)
        assert get_publisher().subscriptions == 0
        assert wait_until(lambda: not sync_threads(), timeout=5)
        assert len(ipywidgets.widgets.widget._instances) <= open_widgets
        new_threads = [
            t.name
            for t in threading.enumerate()
            if t.ident not in before and t.name.startswith("qmon-widget")
        ]
        assert new_threads == []
    finally:
        job.cancel()


def test_an_event_reaches_its_own_job_widget_and_dashboards_only(manager, slow_fn):
    # 200 job widgets: an event must not be offered to the 199 that do not care
    gate = threading.Event()
    jobs = [
        manager.submit_function(lambda _r, t: gate.wait(30) or t.check(), name=f"w{i}")
        for i in range(200)
    ]
    widgets = [JobWidget(job, manager=manager) for job in jobs]
    dashboard = ExecutionDashboard(manager)
    offered: dict[int, set] = {}  # widget id -> job ids of the events it was offered

    def spy(widget):
        original = widget._qmon_on_event

        def on_event(event):
            offered.setdefault(id(widget), set()).add(event.get("job_id"))
            return original(event)

        widget._qmon_on_event = on_event

    for w in [*widgets, dashboard]:
        spy(w)
    try:
        jobs[7].cancel()  # also moves the queue: other queued jobs get position events
        assert wait_until(lambda: widgets[7].job.get("status") == "cancelled")
        assert jobs[7].id in offered[id(dashboard)]
        assert offered[id(widgets[7])] == {jobs[7].id}
        for job, widget in zip(jobs, widgets, strict=True):
            assert offered.get(id(widget), {job.id}) == {job.id}, job.name
    finally:
        gate.set()
        for w in widgets:
            w.close()
        dashboard.close()
