"""The dashboard's order of jobs: one rule, the same in Python and in the store's SQL."""

from __future__ import annotations

import pytest

from qmon_jupyter.core.order import dashboard_order
from qmon_jupyter.core.states import ACTIVE, TERMINAL
from qmon_jupyter.core.timefmt import iso_utc
from qmon_jupyter.store import Store

T0 = 1_800_000_000.0


def _snap(job_id, status, *, created, finished=None, queue_position=None):
    return {
        "schema": 1,
        "id": job_id,
        "name": job_id,
        "type": "simulation",
        "status": status,
        "done": 0,
        "total": 10,
        "unit": "shots",
        "queue_position": queue_position,
        "kernel_id": "k",
        "created_at": iso_utc(T0 + created),
        "started_at": None,
        "finished_at": None if finished is None else iso_utc(T0 + finished),
        "elapsed_s": None,
        "rate": None,
        "updated_at": iso_utc(T0 + (finished or created)),
    }


JOBS = [
    _snap("done-old", "completed", created=0, finished=5),
    _snap("pending", "pending", created=1),
    _snap("queued-2", "queued", created=2, queue_position=2),
    _snap("queued-far", "queued", created=3, queue_position=">2000"),
    _snap("queued-1", "queued", created=4, queue_position=1),
    _snap("running-new", "running", created=9),
    _snap("running-old", "running", created=6),
    _snap("paused", "paused", created=7),
    _snap("failed-new", "failed", created=8, finished=20),
    _snap("cancelled-tie-a", "cancelled", created=8, finished=10),
    _snap("cancelled-tie-b", "cancelled", created=8, finished=10),
]

EXPECTED = [
    "running-old",
    "running-new",
    "paused",
    "queued-1",
    "queued-2",
    "queued-far",
    "pending",
    "failed-new",
    "cancelled-tie-b",
    "cancelled-tie-a",
    "done-old",
]


def test_active_jobs_come_first_by_status_and_queue_position_then_the_latest_finished():
    assert [s["id"] for s in dashboard_order(reversed(JOBS))] == EXPECTED


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "qmon.db")
    yield s
    s.close()


def test_the_stores_sql_orders_jobs_as_the_dashboard_does(store):
    store.write_batch("k", jobs=JOBS)
    active, _ = store.list_jobs(status=[str(s) for s in ACTIVE], order="active")
    done, _ = store.list_jobs(status=[str(s) for s in TERMINAL], order="finished")
    assert [s["id"] for s in active + done] == EXPECTED
