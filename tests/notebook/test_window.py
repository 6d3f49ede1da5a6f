"""The bounded window of jobs the dashboard syncs, and the compact rows in it."""

from __future__ import annotations

from qmon_jupyter.core.text import short_name
from qmon_jupyter.widget._compact import compact_snapshot, select_window


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
    window, counts = select_window(jobs, max_active=12, max_recent=8)
    statuses = [j["status"] for j in window]
    assert statuses[:5] == ["running", "paused", "queued", "queued", "queued"]
    assert [j["queue_position"] for j in window[2:5]] == [1, 2, 3]
    assert [j["name"] for j in window[5:8]] == ["job 49", "job 48", "job 47"]
    assert len(window) == 20  # room the active jobs leave goes to recent ones
    assert counts == {
        "total": 55,
        "matching": 55,
        "by_status": {"completed": 50, "queued": 3, "running": 1, "paused": 1},
    }


def test_the_window_stays_bounded_with_many_active_jobs():
    jobs = [snap(i, "queued", queue_position=i + 1) for i in range(900)]
    jobs += [snap(1000 + i, "completed") for i in range(100)]
    window, counts = select_window(jobs, max_active=12, max_recent=8)
    assert len(window) == 20
    assert [j["queue_position"] for j in window[:12]] == list(range(1, 13))
    assert counts["by_status"]["queued"] == 900


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
