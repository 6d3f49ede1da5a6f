"""A session over REST: one top-level row, its jobs under ``GET jobs?parent=``, no pause."""

from __future__ import annotations

from qmon_jupyter.jobs import JobManager

from .conftest import body, fetch_error


def _write_session(kernel):
    """Run a real session of three jobs and store every snapshot as the kernel's writer does."""
    manager = JobManager(kernel_id=kernel.kernel_id)
    try:
        alone = manager.submit_function(lambda r, t: None, name="alone")
        with manager.session("VQE") as s:
            kids = [manager.submit_function(lambda r, t: None) for _ in range(3)]
            for kid in kids:
                kid.result(10)
        alone.result(10)
        assert s.job.wait(10)
        snaps = [job.snapshot() for job in manager.jobs()]
        kernel.store.write_batch(kernel.kernel_id, jobs=snaps, events=[])
        return s, kids, alone
    finally:
        manager.shutdown()


async def test_get_jobs_lists_top_level_jobs_and_a_sessions_jobs_by_parent(jp_fetch, kernel):
    s, kids, alone = _write_session(kernel)
    top = body(await jp_fetch("api", "qmon", "jobs"))
    assert sorted(j["id"] for j in top["jobs"]) == sorted([s.job.id, alone.id])
    assert top["total"] == 2
    under = body(await jp_fetch("api", "qmon", "jobs", params={"parent": s.job.id}))
    assert sorted(j["id"] for j in under["jobs"]) == sorted(k.id for k in kids)
    assert {j["parent_id"] for j in under["jobs"]} == {s.job.id}
    row = next(j for j in top["jobs"] if j["id"] == s.job.id)
    assert (row["type"], row["done"], row["total"]) == ("session", 3, 3)


async def test_the_dashboard_shows_the_session_not_its_jobs(jp_fetch, kernel):
    s, _, alone = _write_session(kernel)
    state = body(await jp_fetch("api", "qmon", "dashboard"))
    assert sorted(j["id"] for j in state["jobs"]) == sorted([s.job.id, alone.id])
    assert state["total_jobs"] == 2


async def test_a_bad_parent_id_is_400(jp_fetch, kernel):
    code, err = await fetch_error(jp_fetch, "api", "qmon", "jobs", params={"parent": "../x"})
    assert code == 400
    assert "parent" in err["message"]


async def test_pausing_a_session_is_409_with_the_reason(jp_fetch, store, kernel):
    snap = kernel.add(type="session", status="running", unit="jobs")
    code, err = await fetch_error(
        jp_fetch, "api", "qmon", "jobs", snap["id"], "pause", method="POST", body=b""
    )
    assert code == 409
    assert "a session has no work of its own" in err["message"]
    assert store.pending_commands("k-test") == []
