"""The page of jobs the dashboard syncs (its view: search, sort, offset), and its compact rows."""

from __future__ import annotations

from qmon_jupyter.core.text import short_name
from qmon_jupyter.widget._compact import MAX_PAGE_SIZE, compact_snapshot, select_window


def snap(i, status, **extra):
    done = status in {"completed", "failed", "cancelled"}
    return {
        "id": f"{i:012d}",
        "name": f"job {i}",
        "type": "simulation",
        "status": status,
        "created_at": f"2026-01-01T00:{i // 60 % 60:02d}:{i % 60:02d}.000Z",
        "finished_at": f"2026-01-01T01:{i // 60 % 60:02d}:{i % 60:02d}.000Z" if done else None,
        **extra,
    }


def test_active_jobs_come_first_in_queue_order_then_the_newest_finished():
    jobs = [snap(i, "completed") for i in range(50)]
    jobs += [snap(100 + i, "queued", queue_position=3 - i) for i in range(3)]
    jobs += [snap(200, "running"), snap(201, "paused")]
    window, counts = select_window(jobs, limit=20)
    statuses = [j["status"] for j in window]
    assert statuses[:5] == ["running", "paused", "queued", "queued", "queued"]
    assert [j["queue_position"] for j in window[2:5]] == [1, 2, 3]
    assert [j["name"] for j in window[5:8]] == ["job 49", "job 48", "job 47"]
    assert len(window) == 20
    assert counts == {
        "total": 55,
        "matching": 55,
        "offset": 0,
        "limit": 20,
        "by_status": {"completed": 50, "queued": 3, "running": 1, "paused": 1},
    }


def test_the_page_stays_bounded_with_many_active_jobs():
    jobs = [snap(i, "queued", queue_position=i + 1) for i in range(900)]
    jobs += [snap(1000 + i, "completed") for i in range(100)]
    window, counts = select_window(jobs, limit=20)
    assert [j["queue_position"] for j in window] == list(range(1, 21))
    assert counts["by_status"]["queued"] == 900
    window, _ = select_window(jobs, limit=10**6)
    assert len(window) == MAX_PAGE_SIZE


def test_paging_reaches_every_job_once_in_the_dashboard_order():
    jobs = [snap(i, "completed") for i in range(50)]
    jobs += [snap(100 + i, "queued", queue_position=i + 1) for i in range(10)]
    seen = []
    for offset in range(0, 60, 25):
        window, counts = select_window(jobs, offset=offset, limit=25)
        assert counts["offset"] == offset
        seen += [j["id"] for j in window]
    assert len(seen) == len(set(seen)) == 60
    assert seen[:10] == [f"{100 + i:012d}" for i in range(10)]
    assert seen[-1] == f"{0:012d}"  # the first to finish comes last


def test_a_page_past_the_end_shows_the_last_page():
    jobs = [snap(i, "completed") for i in range(30)]
    window, counts = select_window(jobs, offset=100, limit=25)
    assert counts["offset"] == 25
    assert len(window) == 5


def test_the_search_finds_one_job_among_two_hundred_by_name_or_id():
    jobs = [{**snap(i, "completed"), "name": f"RB sequence {i:03d}"} for i in range(200)]
    window, counts = select_window(jobs, q="rb SEQUENCE 042")
    assert [j["name"] for j in window] == ["RB sequence 042"]
    assert (counts["matching"], counts["total"]) == (1, 200)
    window, _ = select_window(jobs, q=f"{7:012d}")
    assert [j["name"] for j in window] == ["RB sequence 007"]


def test_a_sort_by_a_column_orders_every_page_and_puts_missing_values_last():
    jobs = [snap(i, "running", eta_s=float(i % 7), name=f"job {i:02d}") for i in range(40)]
    jobs.append(snap(99, "queued", name="no eta"))
    pages = [select_window(jobs, sort="-eta", offset=o, limit=10)[0] for o in range(0, 50, 10)]
    rows = [j for page in pages for j in page]
    assert len(rows) == 41
    etas = [j["eta_s"] for j in rows[:-1]]
    assert etas == sorted(etas, reverse=True)
    assert rows[-1]["name"] == "no eta"
    names = [j["name"] for j in select_window(jobs, sort="name", limit=100)[0]]
    assert names == sorted(names)


def test_filters_narrow_the_window_but_not_the_totals():
    jobs = [snap(i, "completed") for i in range(5)] + [snap(9, "failed", type="analysis")]
    jobs[-1]["type"] = "analysis"
    window, counts = select_window(jobs, status="failed")
    assert [j["id"] for j in window] == [f"{9:012d}"]
    assert counts["matching"] == 1
    assert counts["total"] == 6
    window, _ = select_window(jobs, job_type="simulation")
    assert len(window) == 5


def test_a_compact_row_drops_nulls_and_cuts_long_texts():
    row = compact_snapshot(
        {
            **snap(1, "failed"),
            "name": "n" * 1000,
            "owner": "someone",
            "kernel_id": "k",
            "result_summary": {"top": [["0" * 20, 5]] * 16, "shots": 80},
            "error": {"type": "ValueError", "message": "x" * 5000, "traceback": "t" * 5000},
            "progress": 0.123456789,
            "stage": None,
        }
    )
    assert "owner" not in row
    assert "result_summary" not in row
    assert "stage" not in row
    assert row["name"] == short_name("n" * 1000)
    assert row["error"] == {"type": "ValueError", "message": "x" * 599 + "…"}
    assert row["progress"] == 0.1235


def test_a_hardware_row_keeps_its_provider_status_and_eta_range():
    provider = {"name": "emulator", "status": "QUEUED", "eta_range_s": [30.0, 90.0]}
    row = compact_snapshot({**snap(2, "queued"), "type": "hardware", "provider": provider})
    assert row["provider"] == provider


def test_a_dask_row_keeps_its_executor_and_worker_count():
    info = {"name": "dask", "address": "tcp://127.0.0.1:1", "workers": 2}
    row = compact_snapshot({**snap(3, "running"), "executor": "dask", "executor_info": info})
    assert row["executor"] == "dask"
    assert row["executor_info"] == info
