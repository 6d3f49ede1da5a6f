"""A session in the notebook: one dashboard row with a few of its jobs, one `%qmon jobs` line."""

from __future__ import annotations

from IPython.utils.capture import capture_output

from qmon_jupyter.widget import ExecutionDashboard
from qmon_jupyter.widget._compact import MAX_CHILDREN

from .._support import wait_until


def test_the_dashboard_shows_a_session_as_one_row_with_its_first_jobs(manager):
    dashboard = ExecutionDashboard(manager)
    try:
        alone = manager.submit_function(lambda r, t: None, name="alone")
        with manager.session("sweep") as s:
            kids = [manager.submit_function(lambda r, t: None, name=f"kid {i}") for i in range(9)]
            for kid in kids:
                kid.result(10)
        alone.result(10)
        assert s.job.wait(10)

        def rows():
            jobs = dashboard.jobs
            session = next((j for j in jobs if j["id"] == s.job.id), None)
            return session is not None and session["status"] == "completed" and jobs

        assert wait_until(rows, 10)
        assert sorted(j["name"] for j in dashboard.jobs) == ["alone", "sweep"]
        assert dashboard.counts["total"] == 2
        row = next(j for j in dashboard.jobs if j["id"] == s.job.id)
        assert (row["type"], row["done"], row["total"]) == ("session", 9, 9)
        assert len(row["children"]) == MAX_CHILDREN
        assert {c["id"] for c in row["children"]} <= {k.id for k in kids}
    finally:
        dashboard.close()


def test_jobs_magic_lists_a_session_once_with_its_jobs_done(ip):
    source = (
        "import qmon_jupyter as qmon\n"
        'with qmon.session("grouped run") as s:\n'
        "    for i in range(3):\n"
        '        qmon.get_manager().submit_function(lambda r, t: None, name="kid").result(10)\n'
    )
    assert ip.run_cell(source).error_in_exec is None
    assert ip.user_ns["s"].job.wait(10)
    with capture_output() as captured:
        ip.run_cell("%qmon jobs")
    assert "grouped run" in captured.stdout
    assert "3 / 3 done" in captured.stdout
    assert "kid" not in captured.stdout
