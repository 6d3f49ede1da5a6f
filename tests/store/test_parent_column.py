"""A session's jobs in the store: ``parent_id`` is an indexed column, read from the snapshot."""

from __future__ import annotations

import sqlite3

from qmon_jupyter.jobs import JobManager
from qmon_jupyter.store import Store


def _stored_session(path):
    manager = JobManager(kernel_id="k")
    try:
        with manager.session("group") as s:
            for kid in [manager.submit_function(lambda r, t: None) for _ in range(3)]:
                kid.result(10)
        alone = manager.submit_function(lambda r, t: None)
        alone.result(10)
        assert s.job.wait(10)
        store = Store(path)
        store.write_batch("k", jobs=[j.snapshot() for j in manager.jobs()])
        return store, s, alone
    finally:
        manager.shutdown()


def test_the_store_lists_top_level_jobs_or_a_sessions_jobs(tmp_path):
    store, s, alone = _stored_session(tmp_path / "qmon.sqlite")
    top, total = store.list_jobs(parent="")
    assert (sorted(j["id"] for j in top), total) == (sorted([s.job.id, alone.id]), 2)
    kids, n_kids = store.list_jobs(parent=s.job.id)
    assert n_kids == 3
    assert {j["parent_id"] for j in kids} == {s.job.id}
    assert store.list_jobs()[1] == 5  # no parent filter: every job
    store.close()


def test_counting_top_level_jobs_searches_the_parent_index(tmp_path):
    path = tmp_path / "qmon.sqlite"
    _stored_session(path)[0].close()
    conn = sqlite3.connect(path)
    try:
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM jobs"
            " WHERE parent_id IS NULL AND status IN ('completed', 'failed')"
        ).fetchall()
    finally:
        conn.close()
    assert any("INDEX jobs_parent" in row[-1] for row in plan), plan
