"""Widget state over real job runs: what the front end receives."""

from __future__ import annotations

import time

import pytest

from qmon_jupyter.widget import ExecutionDashboard, JobWidget
from qmon_jupyter.widget._sync import get_publisher

from .._support import BELL, wait_until


def test_job_widget_ends_with_a_histogram_of_the_top_outcomes(manager):
    job = manager.submit(BELL, shots=4000, batch_size=200, seed=3, name="bell")
    widget = JobWidget(job, manager=manager)
    try:
        assert job.wait(30)
        assert wait_until(lambda: widget.job.get("status") == "completed")
        summary = widget.job["result_summary"]
        assert summary["shots"] == 4000
        assert {key for key, _ in summary["top"]} == {"00", "11"}
        assert widget.job["progress"] == 1.0
    finally:
        widget.close()


def test_job_widget_shows_the_error_of_a_failed_job(manager, slow_fn):
    job = manager.submit_function(slow_fn, steps=20, step_s=0.001, fail_at=5, name="doomed")
    widget = JobWidget(job, manager=manager)
    try:
        assert wait_until(lambda: widget.job.get("status") == "failed")
        assert widget.job["error"]["type"] == "ValueError"
        assert "deliberate failure <b>not bold</b>" in widget.job["error"]["message"]
    finally:
        widget.close()


def test_job_widget_of_a_job_that_already_ended_shows_its_end(manager, slow_fn):
    job = manager.submit_function(slow_fn, steps=2, step_s=0.001)
    assert job.wait(10)
    widget = JobWidget(job, manager=manager)
    try:
        assert widget.job["status"] == "completed"
    finally:
        widget.close()


def test_dashboard_lists_active_jobs_first_then_recent_ones(manager, slow_fn):
    done = manager.submit_function(slow_fn, steps=1, step_s=0.001, name="quick")
    assert done.wait(10)
    dashboard = ExecutionDashboard(manager)
    blockers = [
        manager.submit_function(slow_fn, steps=400, step_s=0.01, name=f"long {i}") for i in range(6)
    ]
    try:
        expected = {"running": 4, "queued": 2, "completed": 1}
        assert wait_until(lambda: dashboard.counts.get("by_status") == expected)
        names = [j["name"] for j in dashboard.jobs]
        statuses = [j["status"] for j in dashboard.jobs]
        assert names[-1] == "quick"
        assert statuses[:4] == ["running"] * 4
        assert statuses[4:6] == ["queued", "queued"]
        queued = [j["queue_position"] for j in dashboard.jobs if j["status"] == "queued"]
        assert queued == [1, 2]
    finally:
        for job in blockers:
            job.cancel()
        dashboard.close()


def test_dashboard_progress_advances_and_reaches_the_final_state(manager, slow_fn):
    dashboard = ExecutionDashboard(manager)
    job = manager.submit_function(slow_fn, steps=60, step_s=0.01, name="steps")
    seen = set()
    try:

        def row():
            rows = [j for j in dashboard.jobs if j["id"] == job.id]
            if rows:
                seen.add(round(rows[0].get("progress", 0), 2))
            return rows[0] if rows else {}

        assert wait_until(lambda: row().get("status") == "completed")
        assert len(seen) >= 3, seen
        assert row()["done"] == 60
    finally:
        dashboard.close()


def test_front_end_filters_narrow_the_window(manager, slow_fn):
    dashboard = ExecutionDashboard(manager)
    fn_job = manager.submit_function(slow_fn, steps=1, step_s=0.001, name="fn", job_type="analysis")
    sim_job = manager.submit(BELL, shots=100, name="sim")
    try:
        assert fn_job.wait(10)
        assert sim_job.wait(30)
        assert wait_until(lambda: dashboard.counts.get("total") == 2)
        dashboard.filters = {"status": "", "type": "analysis"}
        assert wait_until(lambda: [j["name"] for j in dashboard.jobs] == ["fn"])
        assert dashboard.counts["matching"] == 1
        assert dashboard.counts["total"] == 2
    finally:
        dashboard.close()


def _sent_messages(widget):
    sent = []
    widget.send = lambda content, buffers=None: sent.append(content)
    return sent


def test_cancel_from_the_front_end_over_the_comm(manager, slow_fn):
    dashboard = ExecutionDashboard(manager)
    sent = _sent_messages(dashboard)
    job = manager.submit_function(slow_fn, steps=1000, step_s=0.01, name="to cancel")
    try:
        assert wait_until(lambda: str(job.status) == "running")
        dashboard._on_front_end_msg(dashboard, {"action": "cancel", "job_id": job.id}, [])
        assert job.wait(10)
        assert str(job.status) == "cancelled"
        assert sent[-1] == {
            "type": "action_result",
            "ok": True,
            "message": "",
            "action": "cancel",
            "job_id": job.id,
        }
        assert wait_until(
            lambda: any(j["id"] == job.id and j["status"] == "cancelled" for j in dashboard.jobs)
        )
    finally:
        dashboard.close()


def test_pause_and_resume_from_the_front_end(manager, slow_fn):
    job = manager.submit_function(slow_fn, steps=300, step_s=0.01, name="pausable")
    widget = JobWidget(job, manager=manager)
    try:
        assert wait_until(lambda: str(job.status) == "running")
        widget._on_front_end_msg(widget, {"action": "pause", "job_id": job.id}, [])
        assert wait_until(lambda: widget.job.get("status") == "paused")
        widget._on_front_end_msg(widget, {"action": "resume", "job_id": job.id}, [])
        assert wait_until(lambda: widget.job.get("status") == "running")
        widget._on_front_end_msg(widget, {"action": "cancel", "job_id": job.id}, [])
        assert wait_until(lambda: widget.job.get("status") == "cancelled")
    finally:
        job.cancel()
        widget.close()


def test_an_impossible_action_is_reported_to_the_view_not_raised(manager):
    dashboard = ExecutionDashboard(manager)
    sent = _sent_messages(dashboard)
    try:
        dashboard._on_front_end_msg(dashboard, {"action": "cancel", "job_id": "nope"}, [])
        assert sent[-1]["ok"] is False
        assert "nope" in sent[-1]["message"]
        dashboard._on_front_end_msg(dashboard, {"action": "explode", "job_id": "x"}, [])
        assert sent[-1]["ok"] is False
    finally:
        dashboard.close()


def test_notifications_reach_the_dashboard(manager, slow_fn):
    dashboard = ExecutionDashboard(manager)
    try:
        job = manager.submit_function(slow_fn, steps=1, step_s=0.001, name="notify me")
        assert job.wait(10)
        assert wait_until(lambda: any(n.get("job_id") == job.id for n in dashboard.notifications))
        note = next(n for n in dashboard.notifications if n.get("job_id") == job.id)
        dashboard._on_front_end_msg(
            dashboard, {"action": "dismiss", "notification_id": note["id"]}, []
        )
        assert wait_until(lambda: all(n["id"] != note["id"] for n in dashboard.notifications))
    finally:
        dashboard.close()


def test_the_heartbeat_ticks_while_the_widget_is_open(manager):
    dashboard = ExecutionDashboard(manager)
    try:
        first = dashboard.heartbeat
        assert wait_until(lambda: dashboard.heartbeat >= first + 2, timeout=10)
    finally:
        dashboard.close()
    after = dashboard.heartbeat
    time.sleep(0.3)
    assert dashboard.heartbeat == after
    assert not get_publisher().is_registered(dashboard)


def test_a_hostile_name_is_sent_as_plain_data(manager, slow_fn):
    hostile = "<img src=x onerror=alert(1)>"
    job = manager.submit_function(slow_fn, steps=1, step_s=0.001, name=hostile)
    widget = JobWidget(job, manager=manager)
    try:
        assert widget.job["name"] == hostile
    finally:
        widget.close()


@pytest.mark.parametrize("name", ["get_dashboard", "dashboard"])
def test_one_dashboard_per_kernel(name):
    import qmon_jupyter

    first = getattr(qmon_jupyter, name)()
    try:
        assert qmon_jupyter.get_dashboard() is first
        assert isinstance(first, ExecutionDashboard)
    finally:
        first.close()
    second = qmon_jupyter.get_dashboard()
    try:
        assert second is not first
    finally:
        second.close()


def test_job_mimebundle_is_none_outside_a_kernel(manager, slow_fn):
    from qmon_jupyter.widget import job_mimebundle

    job = manager.submit_function(slow_fn, steps=1, step_s=0.001)
    assert job_mimebundle(job) is None


def test_the_dashboard_api_answers_for_the_dashboards_manager(manager, slow_fn):
    dashboard = ExecutionDashboard(manager)
    try:
        job = manager.submit_function(slow_fn, steps=1, step_s=0.001, name="counted")
        assert job.wait(10)
        state = dashboard.api.get_dashboard_state()
        assert [j["name"] for j in state["jobs"]] == ["counted"]
        assert dashboard.api.get_statistics()["total"] == 1
    finally:
        dashboard.close()
