"""DashboardAPI over a live manager: state, queries and actions."""

from __future__ import annotations

import pytest

from qmon_jupyter.dashboard_api import DashboardSource
from qmon_jupyter.jobs import JobStateError
from qmon_jupyter.kernel import ManagerSource, manager_api

from .conftest import TIMEOUT, Gate


@pytest.fixture
def api(manager):
    return manager_api(manager)


def test_manager_source_follows_the_protocol(manager):
    assert isinstance(ManagerSource(manager), DashboardSource)


def test_dashboard_state_lists_active_jobs_first(api, manager):
    done = manager.submit_function(lambda r, t: 1, name="done")
    assert done.wait(TIMEOUT)
    gate = Gate()
    active = manager.submit_function(gate, name="active")
    state = api.get_dashboard_state()
    assert [j["name"] for j in state["jobs"]] == ["active", "done"]
    assert state["total_jobs"] == 2
    assert state["stats"]["total"] == 2
    assert set(state) >= {"jobs", "hardware", "status", "resources", "stats", "notifications"}
    assert state["status"]["kernels"][0]["kernel_id"] == manager.kernel_id
    assert state["resources"]["latest"]["total_bytes"] > 0
    gate.finish()
    assert active.wait(TIMEOUT)


def test_get_jobs_filters_and_pages(api, manager):
    jobs = [manager.submit_function(lambda r, t: 1, name=f"j{i}") for i in range(5)]
    bad = manager.submit_function(lambda r, t: 1 / 0, name="bad")
    assert all(j.wait(TIMEOUT) for j in [*jobs, bad])
    page = api.get_jobs(limit=2, offset=1)
    assert page["total"] == 6
    assert len(page["jobs"]) == 2
    failed = api.get_jobs(status="failed")
    assert [j["name"] for j in failed["jobs"]] == ["bad"]
    both = api.get_jobs(status="failed,completed", type="optimization")
    assert both["total"] == 6
    assert api.get_jobs(kernel="someone-else")["total"] == 0
    assert api.get_jobs(kernel=["someone-else", manager.kernel_id])["total"] == 6
    with pytest.raises(ValueError, match="nope"):
        api.get_jobs(status="nope")
    with pytest.raises(ValueError, match="quantum"):
        api.get_jobs(type="quantum")


def test_get_jobs_takes_several_types_at_once(api, manager):
    loop = manager.submit_function(lambda r, t: 1, name="loop", job_type="analysis")
    opt = manager.submit_function(lambda r, t: 1, name="opt")
    assert loop.wait(TIMEOUT)
    assert opt.wait(TIMEOUT)
    assert api.get_jobs(type="analysis")["total"] == 1
    names = {j["name"] for j in api.get_jobs(type=["analysis", "optimization"])["jobs"]}
    assert names == {"loop", "opt"}
    assert api.get_jobs(type="analysis,simulation")["total"] == 1
    assert api.get_jobs(type=[])["total"] == api.get_jobs(type=",")["total"] == 2  # no filter
    assert len(api.get_notifications(include_dismissed=True, limit=1)) == 1


def test_actions_act_on_jobs_and_report_conflicts(api, manager):
    gate = Gate()
    job = manager.submit_function(gate)
    assert gate.started.wait(TIMEOUT)
    assert api.pause_job(job.id)["status"] == "paused"
    assert api.resume_job(job.id)["status"] == "running"
    snap = api.cancel_job(job.id, user="alice")
    assert snap["status"] in ("running", "cancelled")
    assert job.wait(TIMEOUT)
    assert api.get_job(job.id)["message"] == "cancelled by alice"
    with pytest.raises(JobStateError):
        api.pause_job(job.id)
    ok = manager.submit_function(lambda r, t: 1)
    assert ok.wait(TIMEOUT)
    # the job layer's wording, as over REST (core.actions.refusal)
    with pytest.raises(
        JobStateError, match=f"^cannot cancel job {ok.id}: it is already completed$"
    ):
        api.cancel_job(ok.id)
    with pytest.raises(KeyError, match="missing"):
        api.cancel_job("missing")


def test_notifications_can_be_listed_and_dismissed(api, manager):
    job = manager.submit_function(lambda r, t: 1)
    assert job.wait(TIMEOUT)
    notes = api.get_notifications()
    assert len(notes) == 1
    assert api.dismiss_notification(notes[0]["id"], user="bob")["dismissed"] is True
    assert api.get_notifications() == []


def test_hardware_lists_provider_jobs_and_their_health(api, manager):
    class Controller:
        def cancel(self):
            pass

    job = manager.add_external_job(
        name="q",
        backend="emulator",
        controller=Controller(),
        capabilities={"cancel": True},
        provider={"name": "emulator", "health": "ok"},
    )
    hw = api.get_hardware()
    assert [j["id"] for j in hw["jobs"]] == [job.id]
    assert hw["providers"][0]["name"] == "emulator"
    assert hw["providers"][0]["health"] == "ok"


def test_iter_jobs_pages_every_matching_job_newest_first(api, manager):
    jobs = [manager.submit_function(lambda r, t: 1, name=f"p{i}") for i in range(5)]
    assert all(j.wait(TIMEOUT) for j in jobs)
    pages = list(api.iter_jobs(page_size=2))
    assert [len(p) for p in pages] == [2, 2, 1]
    flat = [s["id"] for p in pages for s in p]
    assert flat == [s["id"] for s in api.get_jobs(limit=10)["jobs"]]
    assert list(api.iter_jobs(status="failed")) == []
    with pytest.raises(ValueError, match="nope"):
        api.iter_jobs(status="nope")  # at the call, not at the first page
    with pytest.raises(ValueError, match="page_size"):
        api.iter_jobs(page_size=0)
